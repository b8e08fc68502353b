/**
 * `install-service` and `uninstall-service` of both daemons, as an operator runs them: the built
 * programs write their systemd units into a unit directory of the test's (never the machine's), and
 * `systemd-analyze verify` (Debian package systemd) checks what they wrote. Nothing here runs
 * systemctl against a real systemd: where systemd manages this machine the test that needs
 * systemctl to fail is skipped.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { beforeEach, describe, expect, it } from 'vitest';
import { itWithTools } from './harness/system-tools.js';

const REPO = path.resolve(import.meta.dirname, '..');
const AGENT = path.join(REPO, 'packages/agent/bin/fleetdeploy-agent.js');
const COORDINATOR = path.join(REPO, 'packages/coordinator/bin/fleetdeploy-coordinator.js');
const SYSTEMD_RUNS = fs.existsSync('/run/systemd/system');

let dir: string;
let units: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-service-'));
  units = path.join(dir, 'units');
  fs.mkdirSync(units);
});

function run(program: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [program, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** agentConfig writes an agent configuration and returns its path. */
function agentConfig(extra = ''): string {
  const file = path.join(dir, 'agent.yml');
  fs.writeFileSync(file, `coordinator: 127.0.0.1:7181\ninstance_name: web-01\nroot_dir: ${dir}/root\n${extra}`);
  return file;
}

function verify(file: string): { code: number | null; stderr: string } {
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

describe('fleetdeploy-agent install-service --platform windows', () => {
  it('--dry-run prints a WinSW service definition that an XML parser reads, with the Windows paths by default', () => {
    const r = run(AGENT, ['install-service', '--platform', 'windows', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(XMLValidator.validate(r.stdout)).toBe(true);
    const { service } = new XMLParser({ parseTagValue: false }).parse(r.stdout) as { service: Record<string, string> };
    expect(service.id).toBe('fleetdeploy-agent');
    expect(service.executable).toBe('C:\\Program Files\\nodejs\\node.exe');
    expect(service.arguments).toMatch(/^--max-semi-space-size=1 "C:\\Program Files\\nodejs\\node_modules\\@fleetdeploy\\agent\\bin\\fleetdeploy-agent\.js" run --config C:\\ProgramData\\Amazon\\CodeDeploy\\conf\.yml$/);
    expect(service.logpath).toBe('C:\\ProgramData\\Amazon\\CodeDeploy\\log');
    expect(service.stoptimeout).toBe('60 sec');
  });

  it('refuses to do more than print, a relative configuration path and an unknown platform, in one ERROR line each', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--platform', 'windows'], /^ERROR: --platform windows only prints the WinSW service definition: add --dry-run/],
      [['--platform', 'windows', '--dry-run', '--config', 'conf.yml'], /^ERROR: --config: the Windows service needs the configuration's absolute Windows path, such as C:\\ProgramData\\Amazon\\CodeDeploy\\conf\.yml, got "conf\.yml"$/],
      [['--platform', 'macos', '--dry-run'], /^ERROR: --platform: expected linux \(a systemd unit\) or windows \(a WinSW service definition\), got "macos"$/],
    ];
    for (const [args, message] of cases) {
      const r = run(AGENT, ['install-service', ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr.trimEnd()).toMatch(message);
    }
  });
});

describe('fleetdeploy-agent install-service', () => {
  it('--dry-run prints the unit: root, restarted on failure, hook scripts outlive an agent restart, stop waits for running events', () => {
    const config = agentConfig('shutdown_wait_seconds: 90\n');
    const r = run(AGENT, ['install-service', '--config', config, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# /etc/systemd/system/fleetdeploy-agent.service would contain:\n');
    expect(r.stdout).toContain(`ExecStart=${process.execPath} ${AGENT} run --config ${config}\n`);
    expect(r.stdout).toContain('Restart=on-failure\n');
    expect(r.stdout).toContain('KillMode=process\n');
    expect(r.stdout).toContain('TimeoutStopSec=120\n'); // shutdown_wait_seconds + 30
    expect(r.stdout).not.toMatch(/^User=/m);
    expect(r.stdout).toContain('# then run:\nsystemctl daemon-reload\nsystemctl enable --now fleetdeploy-agent\n');
    expect(fs.existsSync('/etc/systemd/system/fleetdeploy-agent.service') && fs.readFileSync('/etc/systemd/system/fleetdeploy-agent.service', 'utf8').includes(dir)).toBe(false);
  });

  itWithTools(['systemd-analyze'], 'writes a unit that systemd-analyze verify accepts; installing again is harmless; uninstall removes it', () => {
    const config = agentConfig();
    const first = run(AGENT, ['install-service', '--config', config, '--unit-dir', units, '--no-enable']);
    expect(first).toMatchObject({ code: 0, stdout: `wrote ${units}/fleetdeploy-agent.service\n` });
    expect(verify(path.join(units, 'fleetdeploy-agent.service'))).toEqual({ code: 0, stderr: '' });
    expect(run(AGENT, ['install-service', '--config', config, '--unit-dir', units, '--no-enable']).stdout).toBe(`${units}/fleetdeploy-agent.service is already installed\n`);
    expect(run(AGENT, ['uninstall-service', '--unit-dir', units, '--no-enable'])).toMatchObject({ code: 0, stdout: `removed ${units}/fleetdeploy-agent.service\n` });
    expect(fs.readdirSync(units)).toEqual([]);
  });

  it.each([
    ['a configuration that cannot be read', () => ['--config', path.join(dir, 'missing.yml'), '--unit-dir', units], /^ERROR: the agent's configuration \S+missing\.yml cannot be read \(ENOENT\): write it first/],
    ['a configuration without a coordinator', () => {
      fs.writeFileSync(path.join(dir, 'local.yml'), 'root_dir: /tmp/x\n');
      return ['--config', path.join(dir, 'local.yml'), '--unit-dir', units];
    }, /^ERROR: .*local\.yml.*coordinator/],
    ['a unit directory that does not exist', () => ['--config', agentConfig(), '--unit-dir', path.join(dir, 'nope')], /^ERROR: \S+nope does not exist: is this a systemd machine\? Give --unit-dir, or --dry-run to see the unit\n$/],
  ])('refuses %s in one ERROR line, writing nothing', (_what, args, message) => {
    const r = run(AGENT, ['install-service', ...args(), '--no-enable']);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(fs.readdirSync(units)).toEqual([]);
  });

  it('keeps a different unit unless --force, and says how to compare', () => {
    const config = agentConfig();
    fs.writeFileSync(path.join(units, 'fleetdeploy-agent.service'), '[Service]\nExecStart=/bin/true\n');
    const refused = run(AGENT, ['install-service', '--config', config, '--unit-dir', units, '--no-enable']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`ERROR: ${units}/fleetdeploy-agent.service exists and differs from the unit this version writes; compare with --dry-run, then give --force to replace it\n`);
    expect(fs.readFileSync(path.join(units, 'fleetdeploy-agent.service'), 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
    expect(run(AGENT, ['install-service', '--config', config, '--unit-dir', units, '--no-enable', '--force']).code).toBe(0);
    expect(fs.readFileSync(path.join(units, 'fleetdeploy-agent.service'), 'utf8')).toContain('KillMode=process');
  });

  it('uninstalling what is not installed says so', () => {
    const r = run(AGENT, ['uninstall-service', '--unit-dir', units, '--no-enable']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ERROR: ${units}/fleetdeploy-agent.service does not exist: fleetdeploy-agent is not installed there (give --unit-dir if it was installed elsewhere)\n`);
  });

  it.skipIf(SYSTEMD_RUNS)('without systemd running, says the unit is written and systemctl could not enable it (exit 1)', () => {
    const r = run(AGENT, ['install-service', '--config', agentConfig(), '--unit-dir', units]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ERROR: wrote ${units}/fleetdeploy-agent\\.service, but systemctl daemon-reload failed: .+; run it once systemd manages this machine\\n$`));
    expect(fs.existsSync(path.join(units, 'fleetdeploy-agent.service'))).toBe(true);
  });
});

describe('fleetdeploy-coordinator install-service', () => {
  itWithTools(['systemd-analyze'], 'writes a sandboxed unit (a user of its own, data in /var/lib/fleetdeploy only) that systemd-analyze verify accepts', () => {
    const r = run(COORDINATOR, ['install-service', '--unit-dir', units, '--no-enable']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote ${units}/fleetdeploy.service\nits data and first admin key: /var/lib/fleetdeploy/ (admin-credentials); its log: journalctl -u fleetdeploy\n`);
    const unit = fs.readFileSync(path.join(units, 'fleetdeploy.service'), 'utf8');
    for (const line of ['DynamicUser=yes', 'StateDirectory=fleetdeploy', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/fleetdeploy', 'NoNewPrivileges=yes', 'PrivateTmp=yes', 'CapabilityBoundingSet=']) expect(unit).toContain(`\n${line}\n`);
    expect(unit).toContain(`ExecStart=${process.execPath} ${COORDINATOR} serve --data-dir /var/lib/fleetdeploy\n`);
    expect(verify(path.join(units, 'fleetdeploy.service'))).toEqual({ code: 0, stderr: '' });
    expect(run(COORDINATOR, ['uninstall-service', '--unit-dir', units, '--no-enable']).stdout).toBe(`removed ${units}/fleetdeploy.service\n/var/lib/fleetdeploy is kept (delete it yourself to discard the coordinator's data)\n`);
  });

  it('runs with the given configuration, and may bind a port under 1024 when it asks for one', () => {
    const config = path.join(dir, 'coordinator.yml');
    fs.writeFileSync(config, 'api_port: 443\n');
    const r = run(COORDINATOR, ['install-service', '--config', config, '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`serve --data-dir /var/lib/fleetdeploy --config ${config}\n`);
    expect(r.stdout).toContain('\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n');
  });

  it('refuses a configuration it could not start with, in one ERROR line', () => {
    const config = path.join(dir, 'coordinator.yml');
    fs.writeFileSync(config, 'api_port: seventy\n');
    const r = run(COORDINATOR, ['install-service', '--config', config, '--unit-dir', units, '--no-enable']);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ERROR: .*coordinator\.yml.*api_port/);
    expect(fs.readdirSync(units)).toEqual([]);
  });
});
