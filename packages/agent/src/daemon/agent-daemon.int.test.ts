import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../../test/harness/eventually.js';
import { startFakeCoordinator } from '../testing/fake-coordinator.js';
import type { FakeCoordinator } from '../testing/fake-coordinator.js';
import { daemonConfig, lifecycleCommand, recordingLogger, revisionTar, sha256 } from '../testing/daemon-fixtures.js';
import { tempDir } from '../testing/fixtures.js';
import type { AgentConfig } from '../config/agent-config.js';
import { createLayout } from '../layout.js';
import { beginCommand } from '../state/journal.js';
import { ResultStore } from '../state/results.js';
import { loadGrpcRuntime } from '../connection/grpc-runtime.js';
import { startAgentDaemon } from './agent-daemon.js';
import type { AgentDaemon } from './agent-daemon.js';

const runtime = await loadGrpcRuntime();
let work: string;
let fake: FakeCoordinator;
let config: AgentConfig;
let daemon: AgentDaemon | undefined;
const log = recordingLogger();

beforeEach(async () => {
  work = tempDir('fd-daemon-');
  fake = await startFakeCoordinator();
  config = daemonConfig(work, { coordinator: [fake.address], instanceName: 'host-1' });
  log.lines.length = 0;
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  await fake.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const start = async (extra: Partial<AgentConfig> = {}) => {
  config = { ...config, ...extra };
  daemon = await startAgentDaemon({ config, runtime, log, backoff: { baseMs: 20, maxMs: 100 } });
  await eventually(() => expect(daemon!.state()).toBe('Ready'));
  return daemon;
};
const resultsDir = () => path.join(config.rootDir, 'fleetdeploy-agent', 'results');
const resultsOf = (id: string) => fake.results().filter((r) => r.commandId === id);
const runsFile = () => path.join(work, 'runs');
const runs = () => (fs.existsSync(runsFile()) ? fs.readFileSync(runsFile(), 'utf8').trim().split('\n') : []);

/** A revision that installs app/ to /srv/app and whose hooks append "<event> <pid>" to runs (AfterInstall can sleep). */
function bundle(opts: { sleep?: boolean; waitFor?: string } = {}): Buffer {
  return revisionTar({
    'appspec.yml': 'version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: /srv/app\nhooks:\n  AfterInstall:\n    - location: scripts/hook.sh\n',
    'app/index.html': 'hello',
    'scripts/hook.sh': `#!/bin/sh\necho "$LIFECYCLE_EVENT $$" >> ${runsFile()}\n${opts.sleep ? 'exec sleep 30\n' : ''}${opts.waitFor ? `while [ ! -f ${opts.waitFor} ]; do sleep 0.02; done\n` : ''}exit 0\n`,
  });
}

/** Runs DownloadBundle and Install of `bytes` as commands c-dl and c-in, and waits for both results. */
async function downloadAndInstall(bytes: Buffer, deploymentId = 'd-TEST00001') {
  fake.serveBundle('c-dl', { bytes });
  fake.command(lifecycleCommand('c-dl', 'DownloadBundle', bytes, { deploymentId }));
  await eventually(() => expect(resultsOf('c-dl')).toHaveLength(1));
  expect(resultsOf('c-dl')[0]).toMatchObject({ status: 'COMMAND_STATUS_SUCCEEDED' });
  fake.command(lifecycleCommand('c-in', 'Install', bytes, { deploymentId }));
  await eventually(() => expect(resultsOf('c-in')).toHaveLength(1));
  expect(resultsOf('c-in')[0]).toMatchObject({ status: 'COMMAND_STATUS_SUCCEEDED' });
}

describe('the agent daemon', () => {
  it('says hello with the results it still holds, and forgets each only when acknowledged', async () => {
    const store = new ResultStore(resultsDir());
    const diagnostics = { errorCode: 'Success' as const, scriptName: '', message: 'Succeeded', logTail: '' };
    store.save({ commandId: 'c-old', status: 'Succeeded', noop: false, diagnostics, startedAtMs: 1, endedAtMs: 10 });
    store.save({ commandId: 'c-new', status: 'Succeeded', noop: true, diagnostics, startedAtMs: 11, endedAtMs: 20 });
    fake.autoAck = false;
    await start();
    expect(fake.hellos[0]!.unacknowledgedResults.map((r) => r.commandId)).toEqual(['c-old', 'c-new']);
    expect(fake.instances).toEqual(['host-1']);
    fake.send({ resultAck: { commandId: 'c-old' } });
    await eventually(() => expect(store.pending().map((r) => r.commandId)).toEqual(['c-new']));
  });

  it('acks, runs, saves the result before sending it, deletes it on ResultAck, and installs under destination_root', async () => {
    fake.autoAck = false;
    const onDiskAtSend: boolean[] = [];
    await start({ destinationRoot: path.join(work, 'host-1') });
    const bytes = bundle();
    fake.serveBundle('c-dl', { bytes });
    fake.command(lifecycleCommand('c-dl', 'DownloadBundle', bytes));
    await eventually(() => expect(resultsOf('c-dl')).toHaveLength(1));
    onDiskAtSend.push(fs.existsSync(path.join(resultsDir(), 'c-dl.json')));
    const acks = fake.received.filter((r) => r.message.body === 'ack').map((r) => r.message.ack?.commandId);
    expect(acks).toEqual(['c-dl']);
    fake.send({ resultAck: { commandId: 'c-dl' } });
    await eventually(() => expect(fs.existsSync(path.join(resultsDir(), 'c-dl.json'))).toBe(false));
    fake.autoAck = true;
    fake.command(lifecycleCommand('c-in', 'Install', bytes));
    await eventually(() => expect(resultsOf('c-in')).toHaveLength(1));
    expect(resultsOf('c-in')[0]).toMatchObject({ status: 'COMMAND_STATUS_SUCCEEDED' });
    expect(onDiskAtSend).toEqual([true]);
    expect(fs.readFileSync(path.join(work, 'host-1/srv/app/index.html'), 'utf8')).toBe('hello');
    expect(fake.instances.every((i) => i === 'host-1')).toBe(true);
  });

  it('answers a redelivered command with the same result and never runs it twice, before and after the ack', async () => {
    await start();
    const bytes = bundle();
    await downloadAndInstall(bytes);
    fake.autoAck = false;
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes));
    await eventually(() => expect(resultsOf('c-ai')).toHaveLength(1));
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes)); // not acknowledged yet
    await eventually(() => expect(resultsOf('c-ai')).toHaveLength(2));
    fake.send({ resultAck: { commandId: 'c-ai' } });
    await eventually(() => expect(fs.existsSync(path.join(resultsDir(), 'c-ai.json'))).toBe(false));
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes)); // acknowledged: answered from the recent results
    await eventually(() => expect(resultsOf('c-ai')).toHaveLength(3));
    const [first, ...again] = resultsOf('c-ai');
    for (const r of again) expect(r).toEqual(first);
    expect(runs()).toHaveLength(1);
    expect(fake.received.filter((r) => r.message.body === 'ack' && r.message.ack?.commandId === 'c-ai')).toHaveLength(1);
  });

  it('ignores a command redelivered while it runs, and a cancel kills its script and ends it Failed', async () => {
    await start();
    const bytes = bundle({ sleep: true });
    await downloadAndInstall(bytes);
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes));
    await eventually(() => expect(runs()).toHaveLength(1));
    const pid = Number(runs()[0]!.split(' ')[1]);
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes));
    fake.send({ cancel: { commandId: 'c-ai', reason: 'deployment stopped' } });
    await eventually(() => expect(resultsOf('c-ai')).toHaveLength(1));
    expect(resultsOf('c-ai')[0]).toMatchObject({ status: 'COMMAND_STATUS_FAILED', diagnostics: { errorCode: 'ERROR_CODE_UNKNOWN_ERROR' } });
    expect(resultsOf('c-ai')[0]!.diagnostics?.message).toMatch(/^cancelled while running script/);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(fake.received.filter((r) => r.message.body === 'ack' && r.message.ack?.commandId === 'c-ai')).toHaveLength(1);
    expect(daemon!.running()).toBe(0);
  });

  it('reports the command a crash interrupted as FailedAfterRestart in the first hello and when redelivered, without running it', async () => {
    const bytes = bundle();
    beginCommand(createLayout(config.rootDir), 'd-TEST00001', 'c-crashed');
    fake.autoAck = false;
    await start();
    const inHello = fake.hellos[0]!.unacknowledgedResults;
    expect(inHello).toHaveLength(1);
    expect(inHello[0]).toMatchObject({ commandId: 'c-crashed', status: 'COMMAND_STATUS_FAILED', diagnostics: { errorCode: 'ERROR_CODE_FAILED_AFTER_RESTART' } });
    fake.command(lifecycleCommand('c-crashed', 'AfterInstall', bytes));
    await eventually(() => expect(resultsOf('c-crashed')).toHaveLength(1));
    expect(resultsOf('c-crashed')[0]).toEqual(inHello[0]);
    expect(runs()).toEqual([]);
    expect(fake.received.some((r) => r.message.body === 'ack')).toBe(false);
  });

  it('refuses a bundle whose digest differs from the command\'s, naming both, and unpacks nothing', async () => {
    await start();
    const bytes = bundle();
    const wrong = 'f'.repeat(64);
    fake.serveBundle('c-dl', { bytes });
    fake.command(lifecycleCommand('c-dl', 'DownloadBundle', bytes, { sha256: wrong }));
    await eventually(() => expect(resultsOf('c-dl')).toHaveLength(1));
    const r = resultsOf('c-dl')[0]!;
    expect(r).toMatchObject({ status: 'COMMAND_STATUS_FAILED', diagnostics: { errorCode: 'ERROR_CODE_UNKNOWN_ERROR' } });
    expect(r.diagnostics?.message).toContain(`expected sha256 ${wrong}`);
    expect(r.diagnostics?.message).toContain(`got sha256 ${sha256(bytes)}`);
    const root = createLayout(config.rootDir).deploymentRoot('g-1', 'd-TEST00001');
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('resumes a broken download from the offset it reached', async () => {
    await start();
    const bytes = Buffer.concat([bundle(), Buffer.alloc(0)]);
    fake.serveBundle('c-dl', { bytes, breakAfter: 2048, chunkSize: 1024 });
    fake.command(lifecycleCommand('c-dl', 'DownloadBundle', bytes));
    await eventually(() => expect(resultsOf('c-dl')).toHaveLength(1));
    expect(fake.downloads.map((d) => Number(d.offset))).toEqual([0, 2048]);
    expect(resultsOf('c-dl')[0]!.diagnostics?.message).toBe('Succeeded');
    expect(fake.downloads.map((d) => Number(d.offset))).toEqual([0, 2048]);
    expect(log.lines.some((l) => l.message === 'bundle download interrupted, resuming' && l.fields.offset === 2048)).toBe(true);
  });

  it('gives up at once when the coordinator refuses the download', async () => {
    await start();
    const bytes = bundle();
    fake.command(lifecycleCommand('c-dl', 'DownloadBundle', bytes)); // no bundle served: PERMISSION_DENIED
    await eventually(() => expect(resultsOf('c-dl')).toHaveLength(1));
    expect(resultsOf('c-dl')[0]!.diagnostics?.message).toMatch(/^bundle download failed after 0 of \d+ bytes: 7 PERMISSION_DENIED/);
    expect(fake.downloads).toHaveLength(1);
  });

  it('answers a command it cannot understand with a Failed result instead of dropping it', async () => {
    await start();
    fake.command({ ...lifecycleCommand('c-bad', 'Install', Buffer.alloc(0)), deployment: null });
    await eventually(() => expect(resultsOf('c-bad')).toHaveLength(1));
    expect(resultsOf('c-bad')[0]!.diagnostics?.message).toBe('the agent cannot run this command: the command carries no deployment');
  });

  it('reconnects after the coordinator goes away and comes back, resending results that finished meanwhile', async () => {
    await start();
    const go = path.join(work, 'go');
    const bytes = bundle({ waitFor: go });
    await downloadAndInstall(bytes);
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes));
    await eventually(() => expect(runs()).toHaveLength(1));
    const port = fake.port;
    await fake.stop();
    await eventually(() => expect(daemon!.state()).toBe('Backoff'));
    fs.writeFileSync(go, '');
    await eventually(() => expect(new ResultStore(resultsDir()).get('c-ai')).toBeDefined());
    fake = await startFakeCoordinator(port);
    await eventually(() => expect(daemon!.state()).toBe('Ready'), 5_000);
    expect(fake.hellos).toHaveLength(1);
    expect(fake.hellos[0]!.unacknowledgedResults.map((r) => [r.commandId, r.status])).toEqual([['c-ai', 'COMMAND_STATUS_SUCCEEDED']]);
    await eventually(() => expect(new ResultStore(resultsDir()).get('c-ai')).toBeUndefined());
  });

  it('moves to another replica when its replica dies, and a result that finished meanwhile reaches the new one once', async () => {
    const spare = await startFakeCoordinator();
    const sparePort = spare.port;
    await spare.stop(); // down at first: wherever the agent starts, it ends up on `fake`
    await start({ coordinator: [fake.address, `127.0.0.1:${sparePort}`] });
    const first = fake;
    const go = path.join(work, 'go');
    const bytes = bundle({ waitFor: go });
    await downloadAndInstall(bytes);
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes));
    await eventually(() => expect(runs()).toHaveLength(1));
    await first.stop();
    await eventually(() => expect(daemon!.state()).not.toBe('Ready'));
    fs.writeFileSync(go, '');
    await eventually(() => expect(new ResultStore(resultsDir()).get('c-ai')).toBeDefined());
    fake = await startFakeCoordinator(sparePort); // the other replica comes up; afterEach stops it
    await eventually(() => expect(daemon!.state()).toBe('Ready'), 5_000);
    const delivered = [...fake.hellos.flatMap((h) => h.unacknowledgedResults), ...fake.results()].filter((r) => r.commandId === 'c-ai');
    expect(delivered.map((r) => r.status)).toEqual(['COMMAND_STATUS_SUCCEEDED']);
    expect(first.results().filter((r) => r.commandId === 'c-ai')).toEqual([]);
    await eventually(() => expect(new ResultStore(resultsDir()).get('c-ai')).toBeUndefined());
    expect(fake.results().filter((r) => r.commandId === 'c-ai')).toEqual([]); // not sent again after the ack
    expect(runs()).toHaveLength(1);
    const moves = log.lines.filter((l) => l.message === 'moved to another coordinator endpoint');
    expect(moves.map((l) => [l.fields.from, l.fields.to])).toEqual([[first.address, fake.address]]);
  });

  it('takes the coordinator option as a list or a comma-separated string, and names a bad entry', async () => {
    await expect(startAgentDaemon({ config, runtime, log, coordinator: `${fake.address},nope` })).rejects.toThrow('coordinator option: coordinator[1]: expected host:port, got "nope"');
    await expect(startAgentDaemon({ config, runtime, log, coordinator: '' })).rejects.toThrow('coordinator option: expected host:port, got nothing');
    daemon = await startAgentDaemon({ config: { ...config, coordinator: ['127.0.0.1:1'] }, runtime, log, coordinator: [fake.address] });
    await eventually(() => expect(daemon!.state()).toBe('Ready'));
  });

  it('gets through RESOURCE_EXHAUSTED refusals with backoff', async () => {
    fake.refuseNext(grpc.status.RESOURCE_EXHAUSTED, 3);
    await start();
    expect(fake.streams()).toBe(4);
    expect(log.lines.filter((l) => l.fields.code === 'RESOURCE_EXHAUSTED' && l.level !== 'debug')).toHaveLength(1);
  });

  it('on stop waits for the running command, then aborts it after shutdown_wait and records its result', async () => {
    await start({ shutdownWaitMs: 200 });
    const bytes = bundle({ sleep: true });
    await downloadAndInstall(bytes);
    fake.autoAck = false;
    fake.command(lifecycleCommand('c-ai', 'AfterInstall', bytes));
    await eventually(() => expect(runs()).toHaveLength(1));
    await daemon!.stop();
    expect(daemon!.state()).toBe('Shutdown');
    const saved = new ResultStore(resultsDir()).get('c-ai');
    expect(saved).toMatchObject({ status: 'Failed', diagnostics: { errorCode: 'UnknownError' } });
    expect(resultsOf('c-ai')).toHaveLength(1);
  });
});
