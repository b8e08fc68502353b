import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';

describe('the trigger settings', () => {
  it('default to a 5 s backoff doubling up to 15 min, 10 attempts and no webhook secrets', () => {
    const c = resolveConfig(undefined, '', {});
    expect([c.triggerRetryBaseSeconds, c.triggerRetryMaxSeconds, c.triggerMaxAttempts, c.webhookSecrets]).toEqual([5, 900, 10, undefined]);
  });

  it('are read from the file', () => {
    const c = resolveConfig(['trigger_retry_base_seconds: 0.2', 'trigger_retry_max_seconds: 60', 'trigger_max_attempts: 3', 'webhook_secrets:', '  ops: abc', '  "team hook": "x y"', ''].join('\n'), 'c.yml', {});
    expect([c.triggerRetryBaseSeconds, c.triggerRetryMaxSeconds, c.triggerMaxAttempts]).toEqual([0.2, 60, 3]);
    expect(c.webhookSecrets).toEqual({ ops: 'abc', 'team hook': 'x y' });
  });

  it('refuse a secret list that is not a map, an empty secret, and a backoff of zero, naming the file and key', () => {
    expect(() => resolveConfig('webhook_secrets: [a, b]\n', 'c.yml', {})).toThrow(/c\.yml: webhook_secrets: expected a map of trigger name to secret/);
    expect(() => resolveConfig('webhook_secrets: s3cret\n', 'c.yml', {})).toThrow(/c\.yml: webhook_secrets: expected a map of trigger name to secret/);
    expect(() => resolveConfig('webhook_secrets:\n  ops: ""\n  dev: 12\n', 'c.yml', {})).toThrow(/c\.yml: webhook_secrets: ops: expected a non-empty secret; c\.yml: webhook_secrets: dev: expected a non-empty secret/);
    expect(() => resolveConfig('trigger_retry_base_seconds: 0\n', 'c.yml', {})).toThrow(/c\.yml: trigger_retry_base_seconds: expected a positive number, got 0/);
    expect(() => resolveConfig('trigger_max_attempts: many\n', 'c.yml', {})).toThrow(/c\.yml: trigger_max_attempts: expected a positive number, got "many"/);
  });
});
