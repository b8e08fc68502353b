import { describe, expect, it } from 'vitest';
import { agentLogFile, daemonStateDir, defaultAgentConfig, parseAgentConfig, platformPaths, requireCoordinator } from './agent-config.js';

describe('parseAgentConfig', () => {
  it("reads the AWS agent's codedeployagent.yml with Ruby-symbol keys", () => {
    const c = parseAgentConfig("---\n:log_dir: '/w/log'\n:pid_dir: '/w/pid'\n:program_name: codedeploy-agent\n:root_dir: '/w/root'\n:verbose: false\n:wait_between_runs: 1\n:proxy_uri:\n:max_revisions: 3\n", 'agent.yml');
    expect(c.rootDir).toBe('/w/root');
    expect(c.logDir).toBe('/w/log');
    expect(c.maxRevisions).toBe(3);
  });
  it("puts the daemon's log in log_dir as the AWS agent's codedeploy-agent.log, and nowhere without one", () => {
    expect(agentLogFile(parseAgentConfig(":log_dir: '/var/log/aws/codedeploy-agent/'\n", 'a.yml'))).toBe('/var/log/aws/codedeploy-agent/codedeploy-agent.log');
    expect(agentLogFile(parseAgentConfig('root_dir: /r\n', 'b.yml'))).toBeUndefined();
    expect(() => parseAgentConfig('log_dir: logs\n', 'c.yml')).toThrow('c.yml: log_dir: expected an absolute path, got "logs"');
  });
  it('reads our own keys, bundle limits included', () => {
    const c = parseAgentConfig('root_dir: /r\nscript_kill_grace_seconds: 2\nbundle_limits:\n  max_entries: 10\n', 'ours.yml');
    expect(c.rootDir).toBe('/r');
    expect(c.scriptKillGraceMs).toBe(2000);
    expect(c.bundleLimits.maxEntries).toBe(10);
    expect(c.bundleLimits.maxTotalBytes).toBe(defaultAgentConfig.bundleLimits.maxTotalBytes);
  });
  it('reads metrics_port (off when absent) and refuses what is not a port', () => {
    expect(parseAgentConfig('root_dir: /w\n', 'a.yml').metricsPort).toBeUndefined();
    expect(parseAgentConfig('metrics_port: 9273\n', 'a.yml').metricsPort).toBe(9273);
    expect(parseAgentConfig(':metrics_port: 0\n', 'a.yml').metricsPort).toBe(0);
    expect(() => parseAgentConfig('metrics_port: 70000\n', 'm.yml')).toThrow('m.yml: metrics_port: expected a port from 0 to 65535, got 70000');
    expect(() => parseAgentConfig('metrics_port: all\n', 'm.yml')).toThrow('m.yml: metrics_port: expected an integer of at least 0, got "all"');
  });

  it("reads :proxy_uri: as the AWS agent's file writes it (empty means none) and refuses what is not an http:// proxy", () => {
    expect(parseAgentConfig(':proxy_uri:\n', 'a.yml').proxyUri).toBeUndefined();
    expect(parseAgentConfig(":proxy_uri: 'http://proxy.example:3128'\n", 'a.yml').proxyUri).toBe('http://proxy.example:3128');
    expect(() => parseAgentConfig('proxy_uri: https://proxy.example:3128\n', 'p.yml')).toThrow('p.yml: proxy_uri: expected an http://host:port proxy URI, got "https://proxy.example:3128"');
    expect(() => parseAgentConfig('proxy_uri: proxy.example\n', 'p.yml')).toThrow('proxy_uri: expected an http://host:port proxy URI');
  });
  it('reads log_format json or pretty (json by default) and refuses anything else', () => {
    expect(parseAgentConfig('root_dir: /r\n', 'a.yml').logFormat).toBe('json');
    expect(parseAgentConfig(':log_format: pretty\n', 'a.yml').logFormat).toBe('pretty');
    expect(() => parseAgentConfig('log_format: text\n', 'f.yml')).toThrow('f.yml: log_format: expected json or pretty, got "text"');
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

describe('daemon settings', () => {
  it('reads coordinator, instance_name, destination_root, heartbeat and shutdown wait, AWS-style colons too', () => {
    const c = parseAgentConfig(':coordinator: coord.example:7443\n:instance_name: web-01\ndestination_root: /sim/web-01\nheartbeat_seconds: 5\nshutdown_wait_seconds: 0\n', 'd.yml');
    expect(c).toMatchObject({ coordinator: ['coord.example:7443'], instanceName: 'web-01', destinationRoot: '/sim/web-01', heartbeatMs: 5000, shutdownWaitMs: 0 });
    expect(requireCoordinator(c, 'd.yml')).toEqual(['coord.example:7443']);
    expect(parseAgentConfig('coordinator: "[::1]:50051"\n', 'v6.yml').coordinator).toEqual(['[::1]:50051']);
  });
  it('reads connect_timeout_seconds (30 s by default, fractions allowed), AWS-style colons too', () => {
    expect(parseAgentConfig('', 'd.yml').connectTimeoutMs).toBe(30_000);
    expect(parseAgentConfig('connect_timeout_seconds: 2\n', 'd.yml').connectTimeoutMs).toBe(2_000);
    expect(parseAgentConfig(':connect_timeout_seconds: 0.5\n', 'd.yml').connectTimeoutMs).toBe(500);
    expect(parseAgentConfig('connect_timeout_seconds: "1.5"\n', 'd.yml').connectTimeoutMs).toBe(1_500);
  });

  it('refuses a connect_timeout_seconds that is not a number of seconds above 0 and at most 120, naming the file and key', () => {
    for (const [value, shown] of [['0', '0'], ['-1', '-1'], ['abc', '"abc"'], ['121', '121'], ['[3]', '[3]'], ['true', 'true']]) {
      expect(() => parseAgentConfig(`connect_timeout_seconds: ${value}\n`, 'agent.yml')).toThrow(`agent.yml: connect_timeout_seconds: expected a number of seconds above 0 and at most 120, got ${shown}`);
    }
  });

  it('reads several coordinator replicas as a YAML list or a comma-separated string, in order', () => {
    expect(parseAgentConfig('coordinator:\n  - coord-a.example:7181\n  - "[::1]:7181"\n  - 10.0.0.3:9000\n', 'l.yml').coordinator).toEqual(['coord-a.example:7181', '[::1]:7181', '10.0.0.3:9000']);
    expect(parseAgentConfig(':coordinator: [coord-a.example:7181, coord-b.example:7181]\n', 'l.yml').coordinator).toEqual(['coord-a.example:7181', 'coord-b.example:7181']);
    expect(parseAgentConfig('coordinator: "coord-a.example:7181, coord-b.example:7181"\n', 'c.yml').coordinator).toEqual(['coord-a.example:7181', 'coord-b.example:7181']);
    expect(requireCoordinator(parseAgentConfig('coordinator: [a:1, b:2]\n', 'l.yml'), 'l.yml')).toEqual(['a:1', 'b:2']);
  });
  it('refuses a bad coordinator entry, naming the file, the key and the entry (from 0)', () => {
    expect(() => parseAgentConfig('coordinator:\n  - a.example:7181\n  - b.example:7181\n  - x\n', 'agent.yml')).toThrow(/^agent\.yml: coordinator\[2\]: expected host:port, got "x"$/);
    expect(() => parseAgentConfig('coordinator: [a.example:7181, 7181, {host: b}]\n', 'agent.yml')).toThrow(/^agent\.yml: coordinator\[1\]: expected host:port, got 7181; coordinator\[2\]: expected host:port, got \{"host":"b"\}$/);
    expect(() => parseAgentConfig('coordinator: "a.example:7181,b.example:99999"\n', 'c.yml')).toThrow(/^c\.yml: coordinator\[1\]: expected host:port, got "b\.example:99999"$/);
    expect(() => parseAgentConfig('coordinator: "a.example:7181,"\n', 'c.yml')).toThrow(/^c\.yml: coordinator\[1\]: expected host:port, got ""$/);
    expect(() => parseAgentConfig('coordinator: []\n', 'e.yml')).toThrow(/^e\.yml: coordinator: expected host:port or a list of them, got an empty list$/);
    expect(() => parseAgentConfig('coordinator: [a.example:7181, b.example:7181, A.example:7181]\n', 'd.yml')).toThrow(/^d\.yml: coordinator\[2\]: A\.example:7181 is already coordinator\[0\]$/);
    expect(() => parseAgentConfig('coordinator: {a: 1}\n', 'm.yml')).toThrow(/^m\.yml: coordinator: expected host:port, got \{"a":1\}$/);
  });
  it('keeps results under <root_dir>/fleetdeploy-agent unless state_dir says otherwise', () => {
    expect(daemonStateDir(parseAgentConfig('root_dir: /r\n', 'a.yml'))).toBe('/r/fleetdeploy-agent');
    expect(daemonStateDir(parseAgentConfig('root_dir: /r\nstate_dir: /var/lib/fd\n', 'a.yml'))).toBe('/var/lib/fd');
  });
  it('leaves the daemon keys unset by default, and run names the file and key when coordinator is missing', () => {
    const c = parseAgentConfig('root_dir: /r\n', 'e.yml');
    expect(c.coordinator).toBeUndefined();
    expect(c.instanceName).toBeUndefined();
    expect(c.destinationRoot).toBeUndefined();
    expect(() => requireCoordinator(c, 'e.yml')).toThrow('e.yml: coordinator: required to run the agent daemon (host:port of the coordinator)');
  });
  it('refuses bad daemon values, naming the file and each key', () => {
    const text = 'coordinator: nohostport\ninstance_name: "has space"\ndestination_root: relative/dir\nheartbeat_seconds: 0\nshutdown_wait_seconds: -1\nstate_dir: 3\n';
    expect(() => parseAgentConfig(text, 'f.yml')).toThrow(
      /^f.yml: heartbeat_seconds: expected an integer of at least 1, got 0; shutdown_wait_seconds: expected an integer of at least 0, got -1; coordinator: expected host:port, got "nohostport"; instance_name: expected an instance name .*, got "has space"; destination_root: expected an absolute path, got "relative\/dir"; state_dir: expected an absolute path, got 3$/,
    );
    expect(() => parseAgentConfig('coordinator: "h:70000"\n', 'g.yml')).toThrow('g.yml: coordinator: expected host:port, got "h:70000"');
  });
});

describe('the Windows layout', () => {
  it("puts everything under C:\\ProgramData\\Amazon\\CodeDeploy, as the AWS agent's Windows conf.yml does", () => {
    expect(platformPaths('win32')).toEqual({ rootDir: 'C:\\ProgramData\\Amazon\\CodeDeploy', logDir: 'C:\\ProgramData\\Amazon\\CodeDeploy\\log', configFile: 'C:\\ProgramData\\Amazon\\CodeDeploy\\conf.yml' });
    expect(platformPaths('linux')).toEqual({ rootDir: '/opt/codedeploy-agent/deployment-root', configFile: '/etc/codedeploy-agent/conf/codedeployagent.yml' });
    const empty = parseAgentConfig('', 'conf.yml', 'win32');
    expect([empty.rootDir, empty.logDir]).toEqual(['C:\\ProgramData\\Amazon\\CodeDeploy', 'C:\\ProgramData\\Amazon\\CodeDeploy\\log']);
  });
  it("reads the AWS agent's Windows conf.yml, C:\\ paths and all, and refuses a relative one", () => {
    const c = parseAgentConfig(":root_dir: 'D:\\Deploy'\n:log_dir: 'D:\\Deploy\\log'\n:verbose: false\n:wait_between_runs: 30\ntls_dir: 'D:\\Deploy\\tls'\n", 'conf.yml', 'win32');
    expect([c.rootDir, c.logDir, c.tlsDir]).toEqual(['D:\\Deploy', 'D:\\Deploy\\log', 'D:\\Deploy\\tls']);
    expect(() => parseAgentConfig("log_dir: 'log'\n", 'conf.yml', 'win32')).toThrow('conf.yml: log_dir: expected an absolute path, got "log"');
    // the same file read as a Linux host's has no absolute paths
    expect(() => parseAgentConfig(":log_dir: 'D:\\Deploy\\log'\n", 'conf.yml', 'linux')).toThrow('log_dir: expected an absolute path');
  });
});
