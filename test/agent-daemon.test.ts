/**
 * `fleetdeploy-agent run` as users run it (the bundled command), against an in-process coordinator:
 * killed with SIGKILL in the middle of a hook and restarted, it reports that hook FailedAfterRestart
 * and never runs the script again; SIGTERM stops it with exit 0; a bad configuration prints one ERROR line.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from './harness/eventually.js';
import { startFakeCoordinator } from '../packages/agent/src/testing/fake-coordinator.js';
import type { FakeCoordinator } from '../packages/agent/src/testing/fake-coordinator.js';
import { lifecycleCommand, revisionTar } from '../packages/agent/src/testing/daemon-fixtures.js';

const bin = path.resolve(import.meta.dirname, '../packages/agent/bin/fleetdeploy-agent.js');
let work: string;
let fake: FakeCoordinator;
const children: ChildProcess[] = [];

beforeEach(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-agent-run-'));
  fake = await startFakeCoordinator();
});
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.length = 0;
  await fake.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

function run(config: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; exited: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [bin, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { child, exited };
}

describe('fleetdeploy-agent run', () => {
  it('reports a hook cut short by SIGKILL as FailedAfterRestart after a restart, never runs it again, and stops on SIGTERM with 0', async () => {
    const runs = path.join(work, 'runs');
    const config = path.join(work, 'agent.yml');
    fs.writeFileSync(config, `:root_dir: ${work}/root\n:coordinator: ${fake.address}\ninstance_name: proc-host-1\nheartbeat_seconds: 1\nplaintext: true\n`);
    const bytes = revisionTar({
      'appspec.yml': 'version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: scripts/slow.sh\n',
      'scripts/slow.sh': `#!/bin/sh\necho $$ >> ${runs}\nexec sleep 30\n`,
    });
    const resultOf = (id: string) => fake.results().filter((r) => r.commandId === id);

    fake.heartbeatSeconds = 1;
    const first = run(config);
    await eventually(() => expect(fake.hellos).toHaveLength(1), 10_000);
    expect(fake.hellos[0]).toMatchObject({ instanceName: 'proc-host-1', platform: 'linux', unacknowledgedResults: [] });
    fake.serveBundle('c-dl', { bytes });
    for (const [id, event] of [['c-dl', 'DownloadBundle'], ['c-in', 'Install']] as const) {
      fake.command(lifecycleCommand(id, event, bytes));
      await eventually(() => expect(resultOf(id).map((r) => r.status)).toEqual(['COMMAND_STATUS_SUCCEEDED']), 10_000);
    }
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes));
    const scriptPid = await eventually(() => Number(fs.readFileSync(runs, 'utf8').trim()) || Promise.reject(new Error('no pid yet')), 10_000);
    first.child.kill('SIGKILL');
    await first.exited;
    process.kill(-scriptPid, 'SIGKILL'); // the orphaned script's group, as a host reboot would end it

    const second = run(config);
    await eventually(() => expect(fake.hellos).toHaveLength(2), 10_000);
    const reported = fake.hellos[1]!.unacknowledgedResults;
    expect(reported.map((r) => [r.commandId, r.status, r.diagnostics?.errorCode])).toEqual([['c-ai', 'COMMAND_STATUS_FAILED', 'ERROR_CODE_FAILED_AFTER_RESTART']]);
    // The coordinator re-sends the command it has no result for: answered from the record, not run.
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes));
    await eventually(() => expect(resultOf('c-ai')).toHaveLength(1), 10_000);
    expect(resultOf('c-ai')[0]).toEqual(reported[0]);
    expect(fs.readFileSync(runs, 'utf8').trim().split('\n')).toHaveLength(1);
    await eventually(() => expect(fake.received.some((r) => r.stream === 2 && r.message.body === 'heartbeat')).toBe(true), 10_000);

    second.child.kill('SIGTERM');
    const { code, stderr } = await second.exited;
    expect(code).toBe(0);
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; commandId?: string });
    expect(lines.map((l) => l.msg)).toContain('signal received, stopping');
    expect(lines.some((l) => l.commandId === 'c-ai')).toBe(true);
  });

  it('gives hook scripts FLEETDEPLOY_DESTINATION_ROOT when destination_root is set, whatever its own environment holds', async () => {
    const files = path.join(work, 'files');
    const config = path.join(work, 'agent.yml');
    fs.writeFileSync(config, `root_dir: ${work}/root\ncoordinator: ${fake.address}\ninstance_name: sim-1\ndestination_root: ${files}\nplaintext: true\n`);
    const bytes = revisionTar({
      'appspec.yml': 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nhooks:\n  AfterInstall:\n    - location: scripts/where.sh\n',
      'app/index.html': 'hi',
      'scripts/where.sh': '#!/bin/sh\necho "$FLEETDEPLOY_DESTINATION_ROOT" > "$FLEETDEPLOY_DESTINATION_ROOT/srv/app/root-seen"\n',
    });
    const agent = run(config, { FLEETDEPLOY_DESTINATION_ROOT: '/somewhere/else' });
    await eventually(() => expect(fake.hellos).toHaveLength(1), 10_000);
    fake.serveBundle('c-dl', { bytes });
    for (const [id, event] of [['c-dl', 'DownloadBundle'], ['c-in', 'Install'], ['c-ai', 'AfterInstall']] as const) {
      fake.command(lifecycleCommand(id, event, bytes));
      await eventually(() => expect(fake.results().filter((r) => r.commandId === id).map((r) => r.status)).toEqual(['COMMAND_STATUS_SUCCEEDED']), 10_000);
    }
    expect(fs.readFileSync(path.join(files, 'srv/app/root-seen'), 'utf8')).toBe(`${files}\n`);
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  });

  it('writes its log to <log_dir>/codedeploy-agent.log as well as standard error, and reopens it on SIGHUP', async () => {
    const logDir = path.join(work, 'logs');
    const logFile = path.join(logDir, 'codedeploy-agent.log');
    const config = path.join(work, 'agent.yml');
    fs.writeFileSync(config, `:root_dir: ${work}/root\n:log_dir: '${logDir}/'\n:coordinator: ${fake.address}\ninstance_name: log-host\nplaintext: true\n`);
    const messages = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg);
    const agent = run(config);
    await eventually(() => expect(fake.hellos).toHaveLength(1), 10_000);
    await eventually(() => expect(messages(logFile)).toContain('connected to coordinator'), 10_000);
    expect(messages(logFile).slice(0, 2)).toEqual(['agent log file opened', 'agent daemon starting']);

    // logrotate moves the file away, then signals the daemon
    fs.renameSync(logFile, `${logFile}.1`);
    agent.child.kill('SIGHUP');
    await eventually(() => expect(fs.existsSync(logFile) && messages(logFile)).toEqual(['agent log file reopened']), 10_000);
    const bytes = revisionTar({ 'appspec.yml': 'version: 0.0\nos: linux\n' });
    fake.serveBundle('c-dl', { bytes });
    fake.command(lifecycleCommand('c-dl', 'DownloadBundle', bytes));
    await eventually(() => expect(messages(logFile)).toContain('event succeeded'), 10_000);
    agent.child.kill('SIGTERM');
    const { code, stderr } = await agent.exited;
    expect(code).toBe(0);
    expect(messages(logFile)).toContain('signal received, stopping');
    expect(messages(logFile).at(-1)).toBe('agent daemon stopped');
    expect(messages(`${logFile}.1`)).not.toContain('event succeeded');
    // standard error got every line the two files got (the two streams are written separately, so
    // lines logged in the same instant may reach them in another order)
    const both = [...messages(`${logFile}.1`), ...messages(logFile)];
    expect(stderr.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg).sort()).toEqual(both.sort());
  });

  it('logs for people with log_format pretty or --log-format pretty, while its log file stays JSON lines', async () => {
    const logFile = path.join(work, 'logs', 'codedeploy-agent.log');
    const config = path.join(work, 'agent.yml');
    fs.writeFileSync(config, `root_dir: ${work}/root\nlog_dir: ${work}/logs\ncoordinator: ${fake.address}\ninstance_name: pretty-host\nplaintext: true\nlog_format: pretty\n`);
    const agent = run(config);
    await eventually(() => expect(fake.hellos).toHaveLength(1), 10_000);
    agent.child.kill('SIGTERM');
    const { code, stderr } = await agent.exited;
    expect(code).toBe(0);
    const lines = stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    expect(lines.find((l) => l.includes('agent daemon stopped'))).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO \(fleetdeploy-agent\/\d+\): agent daemon stopped$/);
    expect(fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('agent daemon stopped');

    // the flag wins over the file
    const child = spawn(process.execPath, [bin, 'run', '--config', config, '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let out = '';
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => expect(out).toContain('"msg":"agent daemon starting"'), 10_000);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    for (const l of out.trim().split('\n')) expect(() => JSON.parse(l) as unknown).not.toThrow();
  });

  it('prints one ERROR line and exits 1 for a log format that is neither json nor pretty', async () => {
    const config = path.join(work, 'agent.yml');
    fs.writeFileSync(config, `root_dir: ${work}/root\ncoordinator: ${fake.address}\nplaintext: true\n`);
    const child = spawn(process.execPath, [bin, 'run', '--config', config, '--log-format', 'text'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toBe('ERROR: --log-format: expected json or pretty, got "text"\n');
    fs.writeFileSync(config, `root_dir: ${work}/root\ncoordinator: ${fake.address}\nlog_format: yaml\n`);
    const r = await run(config).exited;
    expect(r.stderr).toBe(`ERROR: ${config}: log_format: expected json or pretty, got "yaml"\n`);
  });

  it('prints one ERROR line and exits 1 when it cannot write in log_dir', async () => {
    fs.writeFileSync(path.join(work, 'a-file'), '');
    const config = path.join(work, 'agent.yml');
    fs.writeFileSync(config, `root_dir: ${work}/root\nlog_dir: ${work}/a-file/logs\ncoordinator: ${fake.address}\nplaintext: true\n`);
    const r = await run(config).exited;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ERROR: cannot write the agent log ${work}/a-file/logs/codedeploy-agent.log (log_dir): ENOTDIR\n`);
  });

  it('prints one ERROR line and exits 1 for a configuration without coordinator or with a bad key', async () => {
    const missing = path.join(work, 'missing.yml');
    fs.writeFileSync(missing, `root_dir: ${work}/root\n`);
    const a = await run(missing).exited;
    expect(a.code).toBe(1);
    expect(a.stderr).toBe(`ERROR: ${missing}: coordinator: required to run the agent daemon (host:port of the coordinator)\n`);
    const bad = path.join(work, 'bad.yml');
    fs.writeFileSync(bad, 'coordinator: localhost\n');
    const b = await run(bad).exited;
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(`ERROR: ${bad}: coordinator: expected host:port, got "localhost"\n`);
    fs.writeFileSync(bad, 'coordinator:\n  - a.example:7181\n  - b.example:7181\n  - x\n');
    const list = await run(bad).exited;
    expect(list.code).toBe(1);
    expect(list.stderr).toBe(`ERROR: ${bad}: coordinator[2]: expected host:port, got "x"\n`);
    const none = await run(path.join(work, 'nope.yml')).exited;
    expect(none.stderr).toBe(`ERROR: configuration file ${work}/nope.yml cannot be read: ENOENT\n`);
  });
});
