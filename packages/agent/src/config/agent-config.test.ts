import { describe, expect, it } from 'vitest';
import { defaultAgentConfig, parseAgentConfig } from './agent-config.js';

describe('parseAgentConfig', () => {
  it("reads the AWS agent's codedeployagent.yml with Ruby-symbol keys", () => {
    const c = parseAgentConfig("---\n:log_dir: '/w/log'\n:pid_dir: '/w/pid'\n:program_name: codedeploy-agent\n:root_dir: '/w/root'\n:verbose: false\n:wait_between_runs: 1\n:proxy_uri:\n:max_revisions: 3\n", 'agent.yml');
    expect(c.rootDir).toBe('/w/root');
    expect(c.logDir).toBe('/w/log');
    expect(c.maxRevisions).toBe(3);
  });
  it('reads our own keys, bundle limits included', () => {
    const c = parseAgentConfig('root_dir: /r\nscript_kill_grace_seconds: 2\nbundle_limits:\n  max_entries: 10\n', 'ours.yml');
    expect(c.rootDir).toBe('/r');
    expect(c.scriptKillGraceMs).toBe(2000);
    expect(c.bundleLimits.maxEntries).toBe(10);
    expect(c.bundleLimits.maxTotalBytes).toBe(defaultAgentConfig.bundleLimits.maxTotalBytes);
  });
  it('uses the defaults for an empty file', () => {
    expect(parseAgentConfig('', 'empty.yml')).toEqual(defaultAgentConfig);
  });
  it('refuses max_revisions 0 or abc, naming the file and key (DL-08)', () => {
    expect(() => parseAgentConfig(':max_revisions: 0\n', 'a.yml')).toThrow('a.yml: max_revisions: expected an integer of at least 1, got 0');
    expect(() => parseAgentConfig(':max_revisions: abc\n', 'a.yml')).toThrow('max_revisions: expected an integer of at least 1, got "abc"');
  });
  it('refuses bad YAML, a non-map document and bad values', () => {
    expect(() => parseAgentConfig('root_dir: [unclosed', 'b.yml')).toThrow(/^b.yml: not valid YAML/);
    expect(() => parseAgentConfig('- a\n- b\n', 'c.yml')).toThrow('c.yml: expected a map of settings');
    expect(() => parseAgentConfig('root_dir: 5\nenable_deployments_log: maybe\nbundle_limits: {max_entries: -1}\n:children: 2\n', 'd.yml')).toThrow(/root_dir: expected a path.*enable_deployments_log: expected true or false.*bundle_limits.max_entries: expected a positive number.*children: must be 1/);
  });
});
