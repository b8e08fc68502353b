import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';

describe('traffic-shifting settings', () => {
  it('a hook function has CodeDeploy\'s hour by default, and one CodeDeploy minute is 60,000 ms', () => {
    const c = resolveConfig(undefined, '', {});
    expect(c.hookTimeoutSeconds).toBe(3600);
    expect(c.testOnlyMinuteMs).toBe(60_000);
  });

  it('reads hook_timeout_seconds and test_only_minute_ms from the file', () => {
    const c = resolveConfig('hook_timeout_seconds: 5\ntest_only_minute_ms: 250\n', 'c.yml', {});
    expect(c).toMatchObject({ hookTimeoutSeconds: 5, testOnlyMinuteMs: 250 });
  });

  it('refuses zero or text, naming the file and key', () => {
    expect(() => resolveConfig('hook_timeout_seconds: 0\n', 'c.yml', {})).toThrow(/c\.yml: hook_timeout_seconds: expected a positive number, got 0/);
    expect(() => resolveConfig('test_only_minute_ms: fast\n', 'c.yml', {})).toThrow(/c\.yml: test_only_minute_ms: expected a positive number, got "fast"/);
  });
});
