import net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../../test/harness/eventually.js';
import { startFakeCoordinator } from '../testing/fake-coordinator.js';
import type { FakeCoordinator } from '../testing/fake-coordinator.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { recordingLogger } from '../testing/daemon-fixtures.js';
import type { StoredResult } from '../state/results.js';
import type { ParsedCommand } from '../commands/agent-command.js';
import { createConnection } from './client.js';
import type { AgentConnection, ConnectionHandlers, ConnectionOptions } from './client.js';
import { loadGrpcRuntime } from './grpc-runtime.js';
import { coordinatorEntries } from './endpoints.js';
import type { HostLookup } from './endpoints.js';

const runtime = await loadGrpcRuntime();
let fake: FakeCoordinator | undefined;
/** Replicas of a test with several coordinators (fake is the first). */
let replicas: FakeCoordinator[] = [];
let conn: AgentConnection | undefined;
afterEach(async () => {
  await conn?.stop();
  await fake?.stop();
  for (const r of replicas) await r.stop();
  conn = undefined;
  fake = undefined;
  replicas = [];
});

const stored = (commandId: string, endedAtMs: number): StoredResult => ({
  commandId,
  status: 'Failed',
  noop: false,
  diagnostics: { errorCode: 'ScriptFailed', scriptName: 'scripts/a.sh', message: 'exit 3', logTail: 'boom' },
  startedAtMs: endedAtMs - 5,
  endedAtMs,
});

function setup(address: string | string[], handlers: Partial<ConnectionHandlers> = {}, random = () => 0.5, lookup?: HostLookup, extra: Partial<ConnectionOptions> = {}) {
  const clock = createFakeClock();
  const log = recordingLogger();
  const commands: ParsedCommand[] = [];
  const acks: string[] = [];
  const connection = createConnection({
    runtime,
    coordinators: coordinatorEntries(typeof address === 'string' ? [address] : address, () => undefined),
    security: () => ({ kind: 'plaintext' }),
    instanceName: 'host-1',
    agentVersion: '9.9.9',
    platform: 'linux',
    handlers: {
      hello: () => ({ inFlight: [], results: [] }),
      ready: () => undefined,
      command: (c) => commands.push(c),
      cancel: () => undefined,
      resultAck: (id) => acks.push(id),
      ...handlers,
    },
    clock,
    random,
    log,
    backoff: { baseMs: 100, maxMs: 1_000 },
    heartbeatFallbackMs: 5_000,
    ...(lookup === undefined ? {} : { lookup }),
    ...extra,
  });
  conn = connection;
  return { connection, clock, log, commands, acks };
}

describe('the Connect stream', () => {
  it('says Hello with the instance, version, platform, in-flight commands and unacknowledged results, and names the instance in metadata', async () => {
    fake = await startFakeCoordinator();
    const { connection, acks } = setup(fake.address, {
      hello: () => ({ inFlight: [{ commandId: 'c-run', deploymentId: 'd-1', event: 'AfterInstall' }], results: [stored('c-1', 100), stored('c-2', 200)] }),
    });
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'));
    const hello = fake.hellos[0]!;
    expect(hello).toMatchObject({ instanceName: 'host-1', agentVersion: '9.9.9', platform: 'linux' });
    expect(hello.inFlight).toEqual([{ commandId: 'c-run', deploymentId: 'd-1', lifecycleEvent: 'AfterInstall' }]);
    expect(hello.unacknowledgedResults.map((r) => [r.commandId, r.status, r.diagnostics?.errorCode, r.endedAtMs])).toEqual([
      ['c-1', 'COMMAND_STATUS_FAILED', 'ERROR_CODE_SCRIPT_FAILED', '100'],
      ['c-2', 'COMMAND_STATUS_FAILED', 'ERROR_CODE_SCRIPT_FAILED', '200'],
    ]);
    expect(fake.instances).toEqual(['host-1']);
    await eventually(() => expect(acks).toEqual(['c-1', 'c-2']));
  });

  it('heartbeats at the interval the Welcome gives', async () => {
    fake = await startFakeCoordinator();
    fake.heartbeatSeconds = 7;
    const { connection, clock } = setup(fake.address);
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'));
    clock.advance(7_000);
    clock.advance(7_000);
    await eventually(() => expect(fake!.received.filter((r) => r.message.body === 'heartbeat')).toHaveLength(2));
    expect(clock.delays).toEqual([7_000, 7_000, 7_000]);
  });

  it('reconnects with growing jittered delays while the coordinator is away, and resets them after a Welcome', async () => {
    fake = await startFakeCoordinator();
    const port = fake.port;
    const { connection, clock, log } = setup(fake.address);
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'));
    await fake.stop();
    await eventually(() => expect(connection.state()).toBe('Backoff'));
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      await eventually(() => expect(connection.state()).toBe('Backoff'));
      await eventually(() => expect(clock.pending()).toBe(1));
    }
    // random 0.5 of min(1000, 100·2^n): 50, 100, 200, 400 (after the first Welcome's 30 s heartbeat timer)
    const retries = (): number[] => clock.delays.filter((d) => d !== 30_000);
    expect(retries()).toEqual([50, 100, 200, 400]);
    fake = await startFakeCoordinator(port);
    clock.advance(10_000);
    await eventually(() => expect(connection.state()).toBe('Ready'));
    expect(fake.hellos).toHaveLength(1);
    await fake.stop();
    await eventually(() => expect(connection.state()).toBe('Backoff'));
    expect(retries().at(-1)).toBe(50); // reset after the Welcome
    // One line when the stream was lost, one for the first failed retry; repeats stay at debug.
    const notable = log.lines.filter((l) => l.level !== 'debug').map((l) => l.message);
    expect(notable.filter((m) => m === 'connection to coordinator lost')).toHaveLength(2);
    expect(notable.filter((m) => m === 'cannot connect to coordinator, retrying')).toHaveLength(1);
  });

  it('retries after RESOURCE_EXHAUSTED and NOT_FOUND, logging once per change of reason, not per retry', async () => {
    fake = await startFakeCoordinator();
    fake.refuseNext(grpc.status.RESOURCE_EXHAUSTED, 3);
    const { connection, clock, log } = setup(fake.address);
    connection.start();
    // each round begins with a lookup, so wait for the retry timer itself, not only for Backoff
    const retryWaiting = () => eventually(() => expect([connection.state(), clock.pending()]).toEqual(['Backoff', 1]));
    for (let i = 0; i < 3; i++) {
      await retryWaiting();
      if (i === 2) fake.refuseNext(grpc.status.NOT_FOUND, 2);
      clock.advance(10_000);
    }
    for (let i = 0; i < 2; i++) {
      await retryWaiting();
      clock.advance(10_000);
    }
    await eventually(() => expect(connection.state()).toBe('Ready'));
    expect(fake.streams()).toBe(6);
    const notable = log.lines.filter((l) => l.level !== 'debug');
    expect(notable.map((l) => [l.message, l.fields.code])).toEqual([
      ['coordinator is admitting too many agents, retrying later', 'RESOURCE_EXHAUSTED'],
      ['coordinator knows no instance of this name (not registered yet?), retrying', 'NOT_FOUND'],
      ['connected to coordinator', undefined],
    ]);
  });

  it('hands commands, cancels and acks to the daemon, and sends nothing while not Ready', async () => {
    fake = await startFakeCoordinator();
    const cancels: string[] = [];
    const { connection, commands, acks } = setup(fake.address, { cancel: (id) => cancels.push(id) });
    expect(connection.sendAck('c-0', false)).toBe(false);
    expect(() => connection.openDownload('c-0', 0)).toThrow(/not connected/);
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'));
    fake.command({ commandId: 'c-1', lifecycleEvent: '' });
    fake.send({ cancel: { commandId: 'c-1', reason: 'stop' } });
    fake.send({ resultAck: { commandId: 'c-1' } });
    await eventually(() => expect(acks).toEqual(['c-1']));
    expect(commands).toEqual([{ ok: false, commandId: 'c-1', event: '', deploymentId: '', reason: 'the command names no lifecycle event' }]);
    expect(cancels).toEqual(['c-1']);
    expect(connection.sendResult(stored('c-1', 1))).toBe(true);
    await eventually(() => expect(fake!.results().map((r) => r.commandId)).toEqual(['c-1']));
  });

  it('stops for good: Shutdown is terminal and no retry is left scheduled', async () => {
    fake = await startFakeCoordinator();
    const { connection, clock } = setup(fake.address);
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'));
    await connection.stop();
    expect(connection.state()).toBe('Shutdown');
    clock.advance(60_000);
    expect(connection.state()).toBe('Shutdown');
    expect(fake.streams()).toBe(1);
    await connection.stop();
  });
});

describe('several coordinator replicas', () => {
  const notable = (log: { lines: { level: string; message: string; fields: Record<string, unknown> }[] }) => log.lines.filter((l) => l.level !== 'debug');

  it("moves to the next replica at once when its replica fails, with one line naming from, to and why", async () => {
    replicas = [await startFakeCoordinator(), await startFakeCoordinator()];
    const [a, b] = replicas as [FakeCoordinator, FakeCoordinator];
    // random 0.4 of two endpoints starts at the first; it is also each delay's share
    const { connection, clock, log } = setup([a.address, b.address], {}, () => 0.4);
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'));
    expect([a.hellos.length, b.hellos.length]).toEqual([1, 0]);
    expect(connection.endpoint()?.dial).toBe(a.address);
    await a.stop();
    await eventually(() => expect(b.hellos).toHaveLength(1));
    await eventually(() => expect(connection.state()).toBe('Ready'));
    expect(connection.endpoint()?.dial).toBe(b.address);
    expect(clock.delays.filter((d) => d !== 30_000)).toEqual([]); // no backoff delay: the clock never moved
    const moves = log.lines.filter((l) => l.message === 'moved to another coordinator endpoint');
    expect(moves).toHaveLength(1);
    expect(moves[0]!.level).toBe('info');
    const lost = log.lines.find((l) => l.message === 'connection to coordinator lost')!;
    expect(moves[0]!.fields).toMatchObject({ from: a.address, to: b.address, reason: `${String(lost.fields.code)}: ${String(lost.fields.details)}` });
    expect(notable(log).map((l) => l.message)).toEqual(['connected to coordinator', 'connection to coordinator lost', 'moved to another coordinator endpoint', 'connected to coordinator']);
  });

  it('waits its backoff delay only after every replica of a round failed, logging each replica\'s failure once', async () => {
    replicas = [await startFakeCoordinator(), await startFakeCoordinator()];
    const [a, b] = replicas as [FakeCoordinator, FakeCoordinator];
    a.refuseNext(grpc.status.UNAVAILABLE, 3);
    b.refuseNext(grpc.status.UNAVAILABLE, 3);
    const { connection, clock, log } = setup([a.address, b.address], {}, () => 0.4);
    connection.start();
    const retryWaiting = () => eventually(() => expect([connection.state(), clock.pending()]).toEqual(['Backoff', 1]));
    for (let round = 1; round <= 3; round++) {
      await retryWaiting();
      expect([a.streams(), b.streams()]).toEqual([round, round]); // both tried before each delay
      clock.advance(10_000);
    }
    await eventually(() => expect(connection.state()).toBe('Ready'));
    expect([a.streams(), b.streams()]).toEqual([4, 3]);
    // random 0.4 of min(1000, 100·2^n): one delay per failed round, none between replicas
    expect(clock.delays.filter((d) => d !== 30_000)).toEqual([40, 80, 160]);
    expect(notable(log).map((l) => [l.message, l.fields.coordinator])).toEqual([
      ['cannot connect to coordinator, retrying', a.address],
      ['cannot connect to coordinator, retrying', b.address],
      ['connected to coordinator', a.address],
    ]);
  });

  it('refuses to be built without a coordinator', () => {
    expect(() => setup([])).toThrow('createConnection: no coordinator to connect to');
  });

  it('looks the configured names up again at every round, and waits before redialling a lone replica whose stream ended', async () => {
    fake = await startFakeCoordinator();
    let lookups = 0;
    const lookup: HostLookup = async (host) => {
      lookups += 1;
      expect(host).toBe('replica.test');
      return ['127.0.0.1'];
    };
    const { connection, clock, log } = setup([`replica.test:${fake.port}`], {}, () => 0.4, lookup);
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'));
    expect(lookups).toBe(1);
    expect(log.lines.find((l) => l.message === 'connected to coordinator')?.fields.coordinator).toBe(`replica.test:${fake.port} (127.0.0.1:${fake.port})`);
    const port = fake.port;
    await fake.stop();
    await eventually(() => expect([connection.state(), clock.pending()]).toEqual(['Backoff', 1]));
    expect(lookups).toBe(2);
    expect(clock.delays.filter((d) => d !== 30_000)).toEqual([40]);
    fake = await startFakeCoordinator(port);
    clock.advance(10_000);
    await eventually(() => expect(connection.state()).toBe('Ready'));
    expect(lookups).toBe(3);
    expect(log.lines.filter((l) => l.message === 'moved to another coordinator endpoint')).toEqual([]);
  });
});

/**
 * silentServer accepts TCP connections on loopback and never sends a byte: the TLS or HTTP/2
 * handshake never completes, as with an endpoint whose process hangs (or, for the agent, one whose
 * packets are dropped: either way the channel stays CONNECTING until something gives up).
 */
async function silentServer(): Promise<{ address: string; accepted: () => number; close: () => Promise<void> }> {
  const sockets: net.Socket[] = [];
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('the connect timeout', () => {
  let silent: Awaited<ReturnType<typeof silentServer>> | undefined;
  afterEach(async () => {
    await silent?.close();
    silent = undefined;
  });

  it('gives up an endpoint that accepts but never completes the handshake, and reaches the next within the timeout', async () => {
    silent = await silentServer();
    replicas = [await startFakeCoordinator()];
    const good = replicas[0]!;
    // random 0.4 of two endpoints starts at the first: the silent one
    const { connection, log } = setup([silent.address, good.address], {}, () => 0.4, undefined, { connectTimeoutMs: 1_000 });
    const began = Date.now();
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'), 10_000);
    const took = Date.now() - began;
    expect(silent.accepted()).toBe(1);
    expect(connection.endpoint()?.dial).toBe(good.address);
    expect(took).toBeGreaterThanOrEqual(1_000);
    expect(took).toBeLessThan(3_000);
    const failure = log.lines.find((l) => l.message === 'cannot connect to coordinator, retrying');
    expect(failure).toMatchObject({ level: 'warn', fields: { coordinator: silent.address, code: 'DEADLINE_EXCEEDED', details: 'not connected within 1 s (connect_timeout_seconds)', next: good.address } });
  });

  it('without it (a timeout longer than the wait), the same silent endpoint holds the agent: the good one is not tried', async () => {
    silent = await silentServer();
    replicas = [await startFakeCoordinator()];
    const good = replicas[0]!;
    const { connection } = setup([silent.address, good.address], {}, () => 0.4, undefined, { connectTimeoutMs: 120_000 });
    connection.start();
    await eventually(() => expect(silent!.accepted()).toBe(1));
    await new Promise((r) => setTimeout(r, 3_000));
    expect(connection.state()).toBe('Connecting');
    expect(good.hellos).toHaveLength(0);
  });

  it('leaves a connected stream alone after the timeout has passed', async () => {
    fake = await startFakeCoordinator();
    const { connection, log } = setup(fake.address, {}, () => 0.5, undefined, { connectTimeoutMs: 300 });
    connection.start();
    await eventually(() => expect(connection.state()).toBe('Ready'));
    await new Promise((r) => setTimeout(r, 600));
    expect(connection.state()).toBe('Ready');
    expect(fake.hellos).toHaveLength(1);
    expect(log.lines.filter((l) => l.level !== 'debug').map((l) => l.message)).toEqual(['connected to coordinator']);
  });
});
