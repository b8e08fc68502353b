/**
 * The engine over a real SQLite store, with a recording agent link and a fake clock: whole
 * deployments, timeouts and restarts in milliseconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import type { AsyncStore } from '../store/async-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { CommandRecord } from '../store/records.js';
import { defaultCoordinatorConfig } from '../config.js';
import { createFakeClock } from '../testing/fake-clock.js';
import type { FakeClock } from '../testing/fake-clock.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { createEngine } from './engine.js';
import type { AgentLink, Engine } from './engine.js';
import type { DeploymentEvent } from './events.js';
import { newTarget } from './instance-lifecycle.js';
import type { AlarmReading, AlarmSource } from '../alarms/alarm-source.js';
import { createAlarmWatch } from '../alarms/alarm-watch.js';
import type { AlarmWatch } from '../alarms/alarm-watch.js';
import { fillDatabase, freeDatabase } from '../testing/full-database.js';
import { createLoopPriority } from '../loop-priority.js';

const config = { ...defaultCoordinatorConfig, agentGraceSeconds: 10, pickupTimeoutSeconds: 60, eventTimeoutMarginSeconds: 5 };
const HOSTS = ['h1', 'h2', 'h3'];

interface World {
  /** The store, synchronously, for the tests' own reads and writes (made while no engine step runs). */
  store: SqliteStore;
  /** The same store as the engine's AsyncStore. */
  asyncStore: AsyncStore;
  clock: FakeClock;
  engine: Engine;
  sent: CommandRecord[];
  cancelled: string[];
  acked: string[];
  events: DeploymentEvent[];
  alarms?: AlarmWatch;
}

/** ALARM_POLL_MS is the alarm watch's interval in worlds made with an alarm source. */
const ALARM_POLL_MS = 15_000;

function world(dir: string, clock = createFakeClock(), alarmSource?: AlarmSource, log = pino({ level: 'silent' })): World {
  const store = openSqliteStore(dir);
  const sent: CommandRecord[] = [];
  const cancelled: string[] = [];
  const acked: string[] = [];
  const link: AgentLink = {
    send: (c) => (sent.push(c), true),
    cancel: (_i, id) => void cancelled.push(id),
    acknowledge: (_i, id) => void acked.push(id),
  };
  const asyncStore = asyncSqliteStore(store);
  const alarms = alarmSource === undefined ? undefined : createAlarmWatch({ store: asyncStore, source: alarmSource, clock, intervalMs: ALARM_POLL_MS, log });
  const engine = createEngine({ store: asyncStore, blobs: undefined as never, clock, config, agents: link, log, ...(alarms === undefined ? {} : { alarms }) });
  const events: DeploymentEvent[] = [];
  engine.subscribe((e) => void events.push(e));
  return { store, asyncStore, clock, engine, sent, cancelled, acked, events, ...(alarms === undefined ? {} : { alarms }) };
}

/** seed stores a Created deployment of group gid to the hosts. */
function seed(w: World, over: Parameters<typeof deploymentRecord>[0] = {}): void {
  w.store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.OneAtATime', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: {} });
  w.store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', eventTimeouts: { default: 100 }, ...over }));
  for (const h of HOSTS) w.store.putTarget(newTarget('d-1', h, 0));
}

const ok = { status: 'Succeeded' as const, diagnostics: { errorCode: 'Success', scriptName: '', message: '', logTail: '' } };
const bad = { status: 'Failed' as const, diagnostics: { errorCode: 'ScriptFailed', scriptName: 'v.sh', message: 'exit 1', logTail: 'x' } };

/** answer replies to every command sent so far and not yet answered, as a connected agent would. */
async function answerAll(w: World, outcome: (c: CommandRecord) => typeof ok | typeof bad = () => ok): Promise<number> {
  let answered = 0;
  for (const c of [...w.sent]) {
    if (w.store.getCommand(c.commandId)?.state === 'done') continue;
    await w.engine.commandAcknowledged(c.instanceName, c.commandId);
    await w.engine.commandResult(c.instanceName, { commandId: c.commandId, ...outcome(c) });
    answered++;
  }
  await w.engine.settled();
  return answered;
}

/** countCommits counts the engine's transactions from now on (the outermost ones: not the savepoints within them). */
function countCommits(w: World): () => number {
  let commits = 0;
  const { asyncStore } = w;
  const inner = asyncStore.transaction.bind(asyncStore);
  asyncStore.transaction = <T>(fn: (tx: AsyncStore) => Promise<T>): Promise<T> => (commits++, inner(fn));
  return () => commits;
}

/** answerTogether acks and answers every command sent and not yet answered in one agentReports call, as the agent server hands them over. */
async function answerTogether(w: World, outcome: (c: CommandRecord) => typeof ok | typeof bad = () => ok): Promise<number> {
  const open = w.sent.filter((c) => w.store.getCommand(c.commandId)?.state !== 'done');
  await w.engine.agentReports(open.flatMap((c) => [{ instanceName: c.instanceName, ack: c.commandId }, { instanceName: c.instanceName, result: { commandId: c.commandId, ...outcome(c) } }]));
  await w.engine.settled();
  return open.length;
}

describe('engine', () => {
  let dir: string;
  let w: World;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-engine-'));
    w = world(dir);
    for (const h of HOSTS) await w.engine.agentConnected(h, []);
    await w.engine.settled();
  });
  afterEach(async () => {
    w.alarms?.close();
    await w.engine.stop();
    await w.engine.settled();
    w.store.close();
  });

  it('runs OneAtATime to Succeeded: one instance at a time, seven events each, acknowledging every result', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    let maxInFlight = 0;
    while ((await answerAll(w)) > 0) {
      maxInFlight = Math.max(maxInFlight, w.store.listTargets('d-1').filter((t) => t.status === 'InProgress').length);
    }
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
    expect(w.sent).toHaveLength(21);
    expect(w.acked).toHaveLength(21);
    expect(maxInFlight).toBe(1);
    expect(w.store.openCommands()).toEqual([]);
    expect(w.store.getGroupById('gid')!.lastSuccessfulDeployment?.deploymentId).toBe('d-1');
    expect(w.store.getHealth('gid', 'h2')).toMatchObject({ health: 'Healthy', revisionKey: 's3://bucket-1/k#zip' });
    const summary = w.events.flatMap((e) => (e.type === 'instance' ? [`${e.instanceName}:${e.status}`] : e.type === 'deployment' ? [`deployment:${e.status}`] : []));
    expect(summary).toEqual(['deployment:InProgress', 'h1:InProgress', 'h1:Succeeded', 'h2:InProgress', 'h2:Succeeded', 'h3:InProgress', 'h3:Succeeded', 'deployment:Succeeded']);
  });

  it('stores the acks and results of several agents handed over together in one transaction, with the outcome of storing them one by one', async () => {
    // the same AllAtOnce deployment answered one report at a time, and all reports of a round together
    const alone = world(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-engine-alone-')));
    for (const h of HOSTS) await alone.engine.agentConnected(h, []);
    await alone.engine.settled();
    for (const x of [alone, w]) {
      seed(x, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } });
      await x.engine.start();
      await x.engine.settled();
    }
    const commitsAlone = countCommits(alone);
    while ((await answerAll(alone)) > 0);
    const commits = countCommits(w);
    const rounds: number[] = [];
    for (let answered = await answerTogether(w); answered > 0; answered = await answerTogether(w)) rounds.push(answered);
    expect(rounds).toEqual([3, 3, 3, 3, 3, 3, 3]); // each event on the three hosts at once
    // a commit per ack and per result (42) and one per round to mark its commands sent, against about two per round
    expect(commitsAlone()).toBeGreaterThanOrEqual(42);
    expect(commits()).toBeLessThanOrEqual(7 * 2);
    expect(w.events.map((e) => ({ ...e, at: 0 }))).toEqual(alone.events.map((e) => ({ ...e, at: 0 })));
    await alone.engine.stop();
    await alone.engine.settled();
    alone.store.close();
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
    expect(w.acked).toHaveLength(21);
    expect(w.store.openCommands()).toEqual([]);
    const summary = w.events.flatMap((e) => (e.type === 'instance' ? [`${e.instanceName}:${e.status}`] : e.type === 'deployment' ? [`deployment:${e.status}`] : []));
    expect(summary).toEqual(['deployment:InProgress', 'h1:InProgress', 'h2:InProgress', 'h3:InProgress', 'h1:Succeeded', 'h2:Succeeded', 'h3:Succeeded', 'deployment:Succeeded']);
    expect(w.store.listTargets('d-1').flatMap((t) => t.lifecycleEvents.map((e) => e.status))).toEqual(Array(21).fill('Succeeded'));
  });

  it('runs steps one at a time in the order they came: a late ack right behind its result does not reopen the command', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    const c1 = w.sent[0]!;
    // Both handed over at once. Interleaved, the ack would find the command open before the result
    // settled it, and store it acked (and its event running again) after the result's commit.
    await Promise.all([w.engine.commandResult('h1', { commandId: c1.commandId, ...ok }), w.engine.commandAcknowledged('h1', c1.commandId)]);
    await w.engine.settled();
    expect(w.store.getCommand(c1.commandId)!.state).toBe('done');
    expect(w.store.openCommands().map((c) => c.commandId)).not.toContain(c1.commandId);
    expect(w.store.getTarget('d-1', 'h1')!.lifecycleEvents[0]!.status).toBe('Succeeded');
    expect(await w.engine.bundleFor('h1', c1.commandId)).toBeUndefined(); // forgotten here too: its deployment has no bundle, but the command is read from the store
  });

  it('a step whose transaction fails leaves the open commands as the store has them, so the same ack is stored when it comes again', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    const c1 = w.sent[0]!;
    // The ack's command row is written (and the working copy marks it acked) before the target's write fails.
    w.store.db.exec("CREATE TEMP TRIGGER refuse_target BEFORE UPDATE ON main.deployment_targets BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    await w.engine.commandAcknowledged('h1', c1.commandId);
    expect(w.store.getCommand(c1.commandId)!.state).toBe('sent');
    w.store.db.exec('DROP TRIGGER temp.refuse_target');
    await w.engine.commandAcknowledged('h1', c1.commandId);
    expect(w.store.getCommand(c1.commandId)!.state).toBe('acked');
    expect(w.store.getTarget('d-1', 'h1')!.lifecycleEvents[0]!.status).toBe('InProgress');
  });

  it('a batch its store runs a second time (as PostgreSQL does with a refused transaction) stores every ack of it', async () => {
    // A store that runs each transaction's body once, rolls that run back, and runs it again.
    const inner = w.asyncStore;
    const again: AsyncStore = { ...inner, transaction: async (fn) => {
      await inner.transaction(async (tx) => {
        await fn(tx);
        throw new Error('refused: run it again');
      }).catch(() => undefined);
      return inner.transaction(fn);
    } };
    const x = { ...w, engine: createEngine({ store: again, blobs: undefined as never, clock: w.clock, config, agents: { send: (c) => (w.sent.push(c), true), cancel: () => {}, acknowledge: (_i, id) => void w.acked.push(id) }, log: pino({ level: 'silent' }) }) };
    await w.engine.stop();
    for (const h of HOSTS) await x.engine.agentConnected(h, []);
    seed(x, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } });
    await x.engine.start();
    await x.engine.settled();
    expect(w.sent).toHaveLength(3);
    await x.engine.agentReports(w.sent.map((c) => ({ instanceName: c.instanceName, ack: c.commandId })));
    expect(w.sent.map((c) => w.store.getCommand(c.commandId)!.state)).toEqual(['acked', 'acked', 'acked']);
    await x.engine.stop();
  });

  it('stop lets the steps already queued run, so a result handed over just before is stored and acknowledged before the store closes', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    const c1 = w.sent[0]!;
    void w.engine.commandResult('h1', { commandId: c1.commandId, ...ok });
    await w.engine.stop();
    expect(w.store.getCommand(c1.commandId)!.state).toBe('done');
    expect(w.acked).toEqual([c1.commandId]);
  });

  it('a result for an unknown or finished command is acknowledged and changes nothing', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    await w.engine.commandResult('h1', { commandId: 'nope', ...ok });
    await w.engine.settled();
    const first = w.sent[0]!;
    await w.engine.commandResult('h2', { commandId: first.commandId, ...bad }); // not this instance's command
    await w.engine.settled();
    expect(w.acked).toEqual(['nope', first.commandId]);
    expect(w.store.getCommand(first.commandId)!.state).toBe('sent');
  });

  it('fails a running event when its agent is gone past the grace, and goes on by the minimum-healthy rules', async () => {
    seed(w, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } }); // AllAtOnce
    await w.engine.start();
    await w.engine.settled();
    expect(w.sent.map((c) => c.instanceName)).toEqual(HOSTS);
    await w.engine.agentDisconnected('h2');
    await w.engine.settled();
    w.clock.advance(9_000);
    await w.engine.settled();
    expect(w.store.getTarget('d-1', 'h2')!.status).toBe('InProgress'); // still within the grace
    w.clock.advance(2_000);
    await w.engine.settled();
    const h2 = w.store.getTarget('d-1', 'h2')!;
    expect(h2.status).toBe('Failed');
    expect(h2.lifecycleEvents[0]!.diagnostics!.message).toContain('stopped answering');
    while ((await answerAll(w, (c) => (c.instanceName === 'h2' ? bad : ok))) > 0);
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
  });

  it('a failed deployment says which instance failed in which event, and the minimum only when it ended the deployment', async () => {
    seed(w); // OneAtATime over three hosts: h1 fails its first event, the others are skipped
    await w.engine.start();
    await w.engine.settled();
    while ((await answerAll(w, (c) => (c.instanceName === 'h1' && c.lifecycleEvent === 'BeforeInstall' ? bad : ok))) > 0);
    const failed = w.store.getDeployment('d-1')!;
    expect(failed.errorInformation?.code).toBe('HEALTH_CONSTRAINTS');
    expect(failed.errorInformation?.message).toMatch(/^h1 failed in BeforeInstall \(ScriptFailed\); 2 instances were not deployed to, because with 1 failed the configuration's minimum of \d+ healthy of 3/);
  });

  it('fails a command nobody picked up, and one acknowledged but never finished, after their timeouts', async () => {
    seed(w, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } });
    await w.engine.start();
    await w.engine.settled();
    const [c1, c2] = w.sent;
    await w.engine.commandAcknowledged(c1!.instanceName, c1!.commandId); // h1 runs it; h2 never answers at all
    await w.engine.settled();
    w.clock.advance(60_500); // pick-up timeout
    await w.engine.settled();
    expect(w.store.getTarget('d-1', c2!.instanceName)!.lifecycleEvents[0]!.diagnostics!.message).toContain('did not pick up');
    expect(w.store.getTarget('d-1', c1!.instanceName)!.status).toBe('InProgress');
    w.clock.advance(45_000); // 100 s event timeout + 5 s margin from the ack
    await w.engine.settled();
    expect(w.store.getTarget('d-1', c1!.instanceName)!.lifecycleEvents[0]!.diagnostics!.message).toContain('did not finish within its timeout');
  });

  it('an event for an offline agent waits Pending (saying so), and is timed from when the agent started it', async () => {
    seed(w);
    await w.engine.agentDisconnected('h1');
    await w.engine.settled();
    const offlineAt = w.clock.now();
    w.clock.advance(1_000);
    await w.engine.settled();
    await w.engine.start();
    await w.engine.settled();
    const stop = (): { status: string; startTime?: number; endTime?: number } => w.store.getTarget('d-1', 'h1')!.lifecycleEvents[0]!;
    expect(w.store.getTarget('d-1', 'h1')!.status).toBe('InProgress');
    expect(stop()).toEqual({ lifecycleEventName: 'ApplicationStop', status: 'Pending' });
    expect(w.events.filter((e) => e.type === 'agentWaiting')).toEqual([
      { type: 'agentWaiting', deploymentId: 'd-1', instanceName: 'h1', lifecycleEvent: 'ApplicationStop', started: false, offlineSince: offlineAt, at: offlineAt + 1_000 },
    ]);
    expect(w.events.some((e) => e.type === 'lifecycleEvent')).toBe(false);

    w.clock.advance(45_700); // the agent comes back 46.7 s after it went
    await w.engine.settled();
    await w.engine.agentConnected('h1', []);
    await w.engine.settled();
    const command = w.sent.find((c) => c.instanceName === 'h1')!;
    await w.engine.commandAcknowledged('h1', command.commandId);
    await w.engine.settled();
    const startedAt = w.clock.now();
    expect(stop()).toMatchObject({ status: 'InProgress', startTime: startedAt });
    expect(w.events.filter((e) => e.type === 'lifecycleEvent')).toEqual([
      { type: 'lifecycleEvent', deploymentId: 'd-1', instanceName: 'h1', lifecycleEvent: 'ApplicationStop', status: 'InProgress', at: startedAt },
    ]);
    w.clock.advance(400);
    await w.engine.settled();
    await w.engine.commandResult('h1', { commandId: command.commandId, ...ok });
    await w.engine.settled();
    expect(stop().endTime! - stop().startTime!).toBe(400);
    // The event that it ended carries its times, for the duration metric.
    expect(w.events.filter((e) => e.type === 'lifecycleEvent').at(-1)).toMatchObject({ lifecycleEvent: 'ApplicationStop', status: 'Succeeded', startTime: startedAt, endTime: startedAt + 400 });
  });

  it('an agent that goes away with work queued or running is announced as waited for', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    const first = w.sent[0]!;
    await w.engine.commandAcknowledged('h1', first.commandId);
    await w.engine.settled();
    w.clock.advance(2_000);
    await w.engine.settled();
    await w.engine.agentDisconnected('h1');
    await w.engine.settled();
    expect(w.events.filter((e) => e.type === 'agentWaiting')).toEqual([
      { type: 'agentWaiting', deploymentId: 'd-1', instanceName: 'h1', lifecycleEvent: 'ApplicationStop', started: true, offlineSince: w.clock.now(), at: w.clock.now() },
    ]);
    // A reconnect that reports the command running marks it started (an ack this process may have missed) and sends nothing again.
    const sentBefore = w.sent.length;
    await w.engine.agentConnected('h1', [first.commandId]);
    await w.engine.settled();
    expect(w.sent).toHaveLength(sentBefore);
  });

  /** fanOut stores an AllAtOnce deployment d-1 to 450 connected instances, not started. */
  async function fanOut(x: World): Promise<string[]> {
    const many = Array.from({ length: 450 }, (_, i) => `m${i}`);
    for (const h of many) await x.engine.agentConnected(h, []);
    x.store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.AllAtOnce', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: {} });
    x.store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', deploymentConfigName: 'CodeDeployDefault.AllAtOnce', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 }, eventTimeouts: { default: 100 } }));
    x.store.addTargets(many.map((h) => newTarget('d-1', h, 0)));
    return many;
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('sends a large fan-out a chunk per loop turn after the start, each chunk marked sent; a reconnect in between gets its command at once, and once', async () => {
    await w.engine.start();
    await fanOut(w);
    // The loop turn each command went out in.
    let turns = 0;
    const ticking = { on: true };
    const tick = (): void => void (ticking.on && (turns++, setImmediate(tick)));
    setImmediate(tick);
    const sentAt: number[] = [];
    const send = w.sent.push.bind(w.sent);
    w.sent.push = (...c: CommandRecord[]) => (sentAt.push(turns), send(...c));
    await w.engine.deploymentCreated('d-1');
    expect(w.sent).toHaveLength(0); // the start ends before the sends begin
    expect(w.store.openCommands().filter((c) => c.state === 'pending')).toHaveLength(450);
    // An agent whose command waits in the queue reconnects: it gets the command now.
    await w.engine.agentConnected('m449', []);
    expect(w.sent.map((c) => c.instanceName)).toEqual(['m449']);
    await w.engine.settled();
    ticking.on = false;
    expect(w.sent).toHaveLength(450); // m449's was not sent again with its chunk
    expect(new Set(w.sent.map((c) => c.instanceName)).size).toBe(450);
    expect(w.store.openCommands().filter((c) => c.state === 'sent')).toHaveLength(450);
    // After m449's: at most 200 a turn, over at least three turns.
    const perTurn = [...sentAt.slice(1).reduce((m, t) => m.set(t, (m.get(t) ?? 0) + 1), new Map<number, number>()).values()];
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(200);
    expect(perTurn.length).toBeGreaterThanOrEqual(3);
  });

  it('a stop that comes before a fan-out has gone out sends the rest first, then each cancel after its command', async () => {
    await w.engine.start();
    await fanOut(w);
    const order: string[] = [];
    const send = w.sent.push.bind(w.sent);
    w.sent.push = (...c: CommandRecord[]) => (c.forEach((x) => order.push(`send ${x.commandId}`)), send(...c));
    const cancel = w.cancelled.push.bind(w.cancelled);
    w.cancelled.push = (...ids: string[]) => (ids.forEach((id) => order.push(`cancel ${id}`)), cancel(...ids));
    await w.engine.deploymentCreated('d-1');
    expect(await w.engine.stopRequested('d-1', false)).toBe('Pending');
    expect(w.sent).toHaveLength(450);
    expect(new Set(w.cancelled)).toEqual(new Set(w.sent.map((c) => c.commandId)));
    for (const id of w.cancelled) expect(order.indexOf(`send ${id}`)).toBeLessThan(order.indexOf(`cancel ${id}`));
    await w.engine.settled();
    expect(w.sent).toHaveLength(450); // nothing sent twice
    await answerAll(w, () => bad);
    expect(w.store.getDeployment('d-1')!.status).toBe('Stopped');
  });

  it('lets an API transaction waiting for its turn go before the next chunk of a fan-out, but never twice running', async () => {
    const priority = createLoopPriority();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-engine-priority-'));
    const store = openSqliteStore(dir);
    const sent: CommandRecord[] = [];
    const engine = createEngine({ store: asyncSqliteStore(store), priority, blobs: undefined as never, clock: createFakeClock(), config, agents: { send: (c) => (sent.push(c), true), cancel: () => {}, acknowledge: () => {} }, log: pino({ level: 'silent' }) });
    try {
      await engine.start();
      await fanOut({ engine, store } as World);
      await engine.deploymentCreated('d-1');
      priority.queued(); // a transaction waits for its turn, and goes on waiting
      await turn();
      expect(sent).toHaveLength(0); // the first chunk's turn gave way
      await engine.settled(); // the others went on, a turn given way at most between two chunks
      expect(sent).toHaveLength(450);
    } finally {
      await engine.stop();
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a stop cancels the running command, starts nothing more, and ends Stopped', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    expect(await w.engine.stopRequested('d-1', false)).toBe('Pending');
    await w.engine.settled();
    expect(w.cancelled).toEqual([w.sent[0]!.commandId]);
    await answerAll(w, () => bad);
    expect(w.sent).toHaveLength(1);
    expect(w.store.getDeployment('d-1')).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['Failed', 'Skipped', 'Skipped']);
    expect(w.store.getDeployment('d-1')!.rollbackInfo).toBeUndefined(); // no rollback was asked for
  });

  it('after a restart, re-sends what had no result when the agent connects, and finishes the deployment', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    await answerAll(w); // h1's ApplicationStop done; its DownloadBundle is sent
    const inFlight = w.sent[1]!;
    await w.engine.stop();
    await w.engine.settled();
    w.store.close();

    w = world(dir, w.clock);
    await w.engine.start();
    await w.engine.settled();
    expect(w.sent).toEqual([]); // no agent is connected yet
    await w.engine.agentConnected('h1', []);
    await w.engine.settled();
    expect(w.sent.map((c) => c.commandId)).toEqual([inFlight.commandId]);
    while ((await answerAll(w)) > 0) for (const h of HOSTS) await w.engine.agentConnected(h, []);
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
  });

  it('after a restart, agents get the restart grace (not the shorter agent grace) to come back', async () => {
    seed(w, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } });
    await w.engine.start();
    await w.engine.settled();
    await w.engine.stop();
    await w.engine.settled();
    w.store.close();
    w = world(dir, w.clock);
    await w.engine.start();
    await w.engine.settled();
    w.clock.advance(config.agentGraceSeconds * 1000 + 1000);
    await w.engine.settled();
    expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['InProgress', 'InProgress', 'InProgress']);
    await w.engine.agentConnected('h1', []);
    await w.engine.settled();
    const resent = w.sent.find((c) => c.instanceName === 'h1')!;
    await w.engine.commandAcknowledged('h1', resent.commandId);
    await w.engine.settled();
    w.clock.advance(60_000 - config.agentGraceSeconds * 1000);
    await w.engine.settled();
    // h1 came back in time; h2 and h3 did not
    expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['InProgress', 'Failed', 'Failed']);
  });

  /** A group that deployed d-good successfully to the hosts, with the given autoRollbackConfiguration (and other stored fields). */
  function groupWithHistory(autoRollbackConfiguration?: { enabled: boolean; events: string[] }, extra: Record<string, unknown> = {}): void {
    seed(w);
    w.store.putGroup({
      ...w.store.getGroupById('gid')!,
      onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }],
      lastSuccessfulDeployment: { deploymentId: 'd-good', status: 'Succeeded', createTime: 0 },
      targetRevision: { revisionType: 'S3', s3Location: { bucket: 'bucket-1', key: 'good', bundleType: 'zip' } },
      extra: { ...extra, ...(autoRollbackConfiguration ? { autoRollbackConfiguration } : {}) },
    });
    w.store.putDeployment(deploymentRecord({ deploymentId: 'd-good', status: 'Succeeded', revision: { revisionType: 'S3', s3Location: { bucket: 'bucket-1', key: 'good', bundleType: 'zip' } } }));
    for (const h of HOSTS) w.store.putInstance({ instanceName: h, instanceArn: h, registerTime: 0, tags: [{ Key: 'env', Value: 'prod' }] });
  }

  describe('rollbacks', () => {
    it('a failed deployment with DEPLOYMENT_FAILURE rollback starts a deployment of the last good revision, linked both ways', async () => {
      groupWithHistory({ enabled: true, events: ['DEPLOYMENT_FAILURE'] });
      await w.engine.start();
      await w.engine.settled();
      await answerAll(w, () => bad); // h1's ApplicationStop fails: OneAtATime cannot go on
      const failed = w.store.getDeployment('d-1')!;
      expect(failed.status).toBe('Failed');
      const rollbackId = failed.rollbackInfo!.rollbackDeploymentId!;
      const rollback = w.store.getDeployment(rollbackId)!;
      expect(rollback).toMatchObject({ creator: 'codeDeployRollback', status: 'InProgress', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-1' } });
      expect(rollback.revision.s3Location!.key).toBe('good');
      while ((await answerAll(w)) > 0);
      expect(w.store.getDeployment(rollbackId)!.status).toBe('Succeeded');
      expect(w.store.activeDeployments()).toEqual([]); // a rollback is never rolled back again, nor loops
    });

    it('a guided failure that an operator fails rolls back as a failure does', async () => {
      groupWithHistory({ enabled: true, events: ['DEPLOYMENT_FAILURE'] }, { onInstanceFailure: 'guided' });
      await w.engine.start();
      await w.engine.settled();
      await answerAll(w, () => bad);
      expect(w.store.getDeployment('d-1')!.plan?.held).toEqual(['h1']);
      expect(w.store.getDeployment('d-1')!.rollbackInfo).toBeUndefined(); // held, not failed: nothing rolls back yet
      expect(await w.engine.resolveInstanceFailure('d-1', 'h1', 'fail')).toBe('resolved');
      await w.engine.settled();
      const failed = w.store.getDeployment('d-1')!;
      expect(failed.status).toBe('Failed');
      expect(w.store.getDeployment(failed.rollbackInfo!.rollbackDeploymentId!)).toMatchObject({ creator: 'codeDeployRollback', status: 'InProgress' });
    });

    it('StopDeployment with autoRollbackEnabled rolls back to the last good revision', async () => {
      groupWithHistory();
      await w.engine.start();
      await w.engine.settled();
      await w.engine.stopRequested('d-1', true);
      await w.engine.settled();
      await answerAll(w, () => bad);
      expect(w.store.getDeployment('d-1')!.rollbackInfo?.rollbackDeploymentId).toBeDefined();
    });

    it('says why when there is nothing to roll back to', async () => {
      seed(w, { autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] } });
      await w.engine.start();
      await w.engine.settled();
      await answerAll(w, () => bad);
      const failed = w.store.getDeployment('d-1')!;
      expect(failed.rollbackInfo).toEqual({ rollbackMessage: expect.stringContaining('no earlier successful revision') });
      expect(w.store.activeDeployments()).toEqual([]);
    });
  });

  describe('alarms', () => {
    const cpu = { alarmConfiguration: { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'cpu' }] } };
    let reading: AlarmReading;
    const setState = (state: 'OK' | 'ALARM'): void => void (reading = { ok: true, states: new Map([['cpu', state]]) });
    /** settle lets the alarm source's answer (a resolved promise) reach the engine, and the engine's steps run. */
    const settle = async (): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      await w.engine.settled();
    };

    beforeEach(async () => {
      setState('OK');
      await w.engine.stop();
      await w.engine.settled();
      w.store.close();
      w = world(dir, w.clock, { name: 'CloudWatch', states: async () => reading });
      for (const h of HOSTS) await w.engine.agentConnected(h, []);
      await w.engine.settled();
    });

    it('an alarm firing mid-deployment cancels the running command, starts nothing more, and ends Stopped with ALARM_ACTIVE naming it', async () => {
      groupWithHistory(undefined, cpu);
      await w.engine.start();
      await w.engine.settled();
      await settle(); // the look before the start
      await answerAll(w); // h1's ApplicationStop; DownloadBundle is sent
      expect(w.sent).toHaveLength(2);
      setState('ALARM');
      w.clock.advance(ALARM_POLL_MS);
      await w.engine.settled();
      await settle();
      expect(w.cancelled).toEqual([w.sent[1]!.commandId]);
      await answerAll(w, () => bad); // the cancelled event reports as failed
      expect(w.sent).toHaveLength(2);
      expect(w.store.getDeployment('d-1')).toMatchObject({ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE', message: 'Stopped by alarm monitoring: CloudWatch reports alarm cpu in the ALARM state' } });
      expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['Failed', 'Skipped', 'Skipped']);
      expect(w.store.getDeployment('d-1')!.rollbackInfo).toBeUndefined(); // DEPLOYMENT_STOP_ON_ALARM was not asked for
    });

    it('with DEPLOYMENT_STOP_ON_ALARM the stopped deployment is rolled back, and the rollback is not stopped by the same alarm', async () => {
      groupWithHistory({ enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] }, cpu);
      await w.engine.start();
      await w.engine.settled();
      await settle();
      setState('ALARM');
      w.clock.advance(ALARM_POLL_MS);
      await w.engine.settled();
      await settle();
      await answerAll(w, () => bad);
      const stopped = w.store.getDeployment('d-1')!;
      expect(stopped.errorInformation?.code).toBe('ALARM_ACTIVE');
      const rollbackId = stopped.rollbackInfo!.rollbackDeploymentId!;
      expect(w.store.getDeployment(rollbackId)).toMatchObject({ creator: 'codeDeployRollback', status: 'InProgress' });
      w.clock.advance(ALARM_POLL_MS * 3); // the alarm still fires
      await w.engine.settled();
      await settle();
      while ((await answerAll(w)) > 0);
      expect(w.store.getDeployment(rollbackId)!.status).toBe('Succeeded');
    });

    it('an alarm already firing when the deployment starts stops it before any command is sent', async () => {
      seed(w);
      w.store.putGroup({ ...w.store.getGroupById('gid')!, extra: cpu });
      setState('ALARM');
      await w.engine.start();
      await w.engine.settled();
      expect(w.store.getDeployment('d-1')!.status).toBe('Created'); // still looking
      await settle();
      expect(w.sent).toEqual([]);
      expect(w.store.getDeployment('d-1')).toMatchObject({ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE' } });
      expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['Skipped', 'Skipped', 'Skipped']);
    });

    it('a deployment resumed after a restart is watched again', async () => {
      seed(w);
      w.store.putGroup({ ...w.store.getGroupById('gid')!, extra: cpu });
      await w.engine.start();
      await w.engine.settled();
      await settle();
      expect(w.sent).toHaveLength(1);
      w.alarms!.close();
      await w.engine.stop();
      await w.engine.settled();
      w.store.close();

      w = world(dir, w.clock, { name: 'CloudWatch', states: async () => reading });
      await w.engine.start();
      await w.engine.settled();
      await w.engine.agentConnected('h1', []);
      await w.engine.settled();
      setState('ALARM');
      w.clock.advance(ALARM_POLL_MS);
      await w.engine.settled();
      await settle();
      expect(w.cancelled).toEqual([w.sent[0]!.commandId]);
      await answerAll(w, () => bad);
      expect(w.store.getDeployment('d-1')).toMatchObject({ status: 'Stopped', errorInformation: { code: 'ALARM_ACTIVE' } });
    });

    it('a StopDeployment that comes while the alarms are read before the start stops it there, before any command', async () => {
      let answer: (r: AlarmReading) => void = () => {};
      w.alarms!.close();
      await w.engine.stop();
      await w.engine.settled();
      w.store.close();
      w = world(dir, w.clock, { name: 'CloudWatch', states: () => new Promise((resolve) => (answer = resolve)) });
      for (const h of HOSTS) await w.engine.agentConnected(h, []);
      await w.engine.settled();
      seed(w);
      w.store.putGroup({ ...w.store.getGroupById('gid')!, extra: cpu });
      await w.engine.start();
      await w.engine.settled();
      expect(await w.engine.stopRequested('d-1', false)).toBe('Pending');
      await w.engine.settled();
      answer({ ok: true, states: new Map([['cpu', 'ALARM']]) }); // an alarm too: the request came first
      await settle();
      expect(w.sent).toEqual([]);
      expect(w.store.getDeployment('d-1')).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
      expect(w.store.getDeployment('d-1')!.alarmStop).toBeUndefined();
      expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['Skipped', 'Skipped', 'Skipped']);
    });

    it('a StopDeployment already winding down is not turned into an alarm stop', async () => {
      seed(w);
      w.store.putGroup({ ...w.store.getGroupById('gid')!, extra: cpu });
      await w.engine.start();
      await w.engine.settled();
      await settle();
      await w.engine.stopRequested('d-1', false);
      await w.engine.settled();
      setState('ALARM');
      w.clock.advance(ALARM_POLL_MS);
      await w.engine.settled();
      await settle();
      await answerAll(w, () => bad);
      expect(w.store.getDeployment('d-1')).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
      expect(w.store.getDeployment('d-1')!.alarmStop).toBeUndefined();
    });
  });
});

describe('the engine on a full disk', () => {
  /** The tables an engine step writes: filled, every step's commit fails with SQLITE_FULL. */
  const ENGINE_TABLES = ['commands', 'deployment_targets', 'deployments'];
  let dir: string;
  let w: World;
  let lines: Record<string, unknown>[];
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-engine-full-'));
    lines = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) });
    w = world(dir, createFakeClock(), undefined, pino({ level: 'info' }, sink));
    for (const h of HOSTS) await w.engine.agentConnected(h, []);
    await w.engine.settled();
  });
  afterEach(async () => {
    await w.engine.stop();
    await w.engine.settled();
    w.store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const logged = (): string[] => lines.map((l) => `${String(l.level)} ${String(l.msg)}`);
  const event = (host: string, name: string): { status: string; diagnostics?: { message: string } } => w.store.getTarget('d-1', host)!.lifecycleEvents.find((e) => e.lifecycleEventName === name)!;

  it("does not acknowledge a result it cannot store, and once space returns ends the event with the agent's outcome, not a timeout", async () => {
    // given h1 running ApplicationStop (100 s timeout + 5 s margin)
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    const c1 = w.sent[0]!;
    await w.engine.commandAcknowledged('h1', c1.commandId);
    await w.engine.settled();
    // when the disk fills up and the agent's result comes, and comes again in its next hello
    fillDatabase(w.store.db, ENGINE_TABLES);
    await w.engine.commandResult('h1', { commandId: c1.commandId, ...ok });
    await w.engine.settled();
    await w.engine.commandResult('h1', { commandId: c1.commandId, ...ok });
    await w.engine.settled();
    // then the agent is told nothing (it keeps the result), and the event still runs
    expect(w.acked).toEqual([]);
    expect(event('h1', 'ApplicationStop').status).toBe('InProgress');
    // and the event's deadline passes while the disk stays full: the timeout cannot be stored either
    w.clock.advance(120_000);
    await w.engine.settled();
    expect(event('h1', 'ApplicationStop').status).toBe('InProgress');
    // when space returns
    freeDatabase(w.store.db);
    w.clock.advance(500); // one sweep
    await w.engine.settled();
    // then the event ends as the agent reported it, the result is acknowledged, and the instance goes on
    expect(event('h1', 'ApplicationStop')).toMatchObject({ status: 'Succeeded' });
    expect(w.acked).toEqual([c1.commandId]);
    expect(w.sent.map((c) => c.lifecycleEvent)).toEqual(['ApplicationStop', 'DownloadBundle']);
    while ((await answerAll(w)) > 0);
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
    // and the log has one line for the episode's start and one for its end, however many steps failed
    expect(logged().filter((l) => l.includes('disk'))).toEqual(['50 disk full: nothing can be stored until space is freed in the data directory', '30 disk space is back: writes succeed again']);
    expect(logged().filter((l) => l.startsWith('50 '))).toHaveLength(1);
  });

  it('stores an ack that came while the disk was full once space returns, so the command does not fail as never picked up', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    const c1 = w.sent[0]!;
    fillDatabase(w.store.db, ENGINE_TABLES);
    await w.engine.commandAcknowledged('h1', c1.commandId);
    await w.engine.settled();
    w.clock.advance(70_000); // past the 60 s pick-up timeout
    await w.engine.settled();
    freeDatabase(w.store.db);
    w.clock.advance(500);
    await w.engine.settled();
    expect(w.store.getCommand(c1.commandId)!.state).toBe('acked');
    expect(event('h1', 'ApplicationStop').status).toBe('InProgress');
    await w.engine.commandResult('h1', { commandId: c1.commandId, ...ok });
    await w.engine.settled();
    expect(event('h1', 'ApplicationStop').status).toBe('Succeeded');
  });

  it('a batch of reports that cannot be committed reaches no agent and no listener, and each report is stored once space returns', async () => {
    seed(w, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } });
    await w.engine.start();
    await w.engine.settled();
    const first = [...w.sent];
    const seen = w.events.length;
    fillDatabase(w.store.db, ENGINE_TABLES);
    await answerTogether(w);
    expect(w.acked).toEqual([]);
    expect(w.sent).toHaveLength(3);
    expect(w.events.length).toBe(seen);
    expect(HOSTS.map((h) => event(h, 'ApplicationStop').status)).toEqual(['Pending', 'Pending', 'Pending']);
    freeDatabase(w.store.db);
    w.clock.advance(500); // one sweep stores what it owes, in the order it came
    await w.engine.settled();
    expect(HOSTS.map((h) => event(h, 'ApplicationStop').status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(w.acked).toEqual(first.map((c) => c.commandId));
    while ((await answerTogether(w)) > 0);
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
  });

  it('sends a reconnecting agent its queued command on a full disk, and records it as sent once space returns', async () => {
    seed(w);
    await w.engine.agentDisconnected('h1');
    await w.engine.settled();
    await w.engine.start();
    await w.engine.settled();
    const queued = w.store.openCommands()[0]!;
    expect(queued.state).toBe('pending');
    fillDatabase(w.store.db, ENGINE_TABLES);
    await expect(w.engine.agentConnected('h1', [])).resolves.toBeUndefined();
    await w.engine.settled();
    expect(w.sent.map((c) => c.commandId)).toEqual([queued.commandId]);
    expect(w.store.getCommand(queued.commandId)!.state).toBe('pending');
    freeDatabase(w.store.db);
    w.clock.advance(500);
    await w.engine.settled();
    expect(w.store.getCommand(queued.commandId)!.state).toBe('sent');
  });

  it('logs any other failure to record a command as sent, throws nothing to the agent server, and does not retry it', async () => {
    seed(w);
    await w.engine.agentDisconnected('h1');
    await w.engine.settled();
    await w.engine.start();
    await w.engine.settled();
    const queued = w.store.openCommands()[0]!;
    w.store.db.exec("CREATE TEMP TRIGGER refuse_sent BEFORE UPDATE ON main.commands BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
    await expect(w.engine.agentConnected('h1', [])).resolves.toBeUndefined();
    await w.engine.settled();
    expect(w.sent.map((c) => c.commandId)).toEqual([queued.commandId]);
    w.store.db.exec('DROP TRIGGER temp.refuse_sent');
    w.clock.advance(500);
    await w.engine.settled();
    expect(w.store.getCommand(queued.commandId)!.state).toBe('pending');
    expect(lines.filter((l) => l.level === 50).map((l) => [l.msg, (l.err as { message?: string } | undefined)?.message])).toEqual([['could not record that a command was sent', 'refused by the test']]);
  });
});

describe('engine: guided failure', () => {
  let dir: string;
  let w: World;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-engine-guided-'));
    w = world(dir);
    for (const h of HOSTS) await w.engine.agentConnected(h, []);
    await w.engine.settled();
  });
  afterEach(async () => {
    await w.engine.stop();
    await w.engine.settled();
    w.store.close();
  });

  /** seedGuided stores a OneAtATime deployment in a group with onInstanceFailure guided. */
  function seedGuided(over: Parameters<typeof deploymentRecord>[0] = {}): void {
    seed(w, over);
    w.store.putGroup({ ...w.store.getGroupById('gid')!, extra: { onInstanceFailure: 'guided' } });
  }
  const failInstall = (host: string) => (c: CommandRecord) => (c.instanceName === host && c.lifecycleEvent === 'Install' ? bad : ok);

  it('holds the deployment at the first failure, across a restart, and a retry succeeds without touching the others', async () => {
    seedGuided({ minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } }); // two at a time
    await w.engine.start();
    await w.engine.settled();
    while ((await answerAll(w, failInstall('h2'))) > 0);
    const deployment = w.store.getDeployment('d-1')!;
    expect(deployment.status).toBe('InProgress');
    expect(deployment.plan?.held).toEqual(['h2']);
    expect(w.store.getTarget('d-1', 'h1')!.status).toBe('Succeeded');
    expect(w.store.getTarget('d-1', 'h2')!.status).toBe('Failed');
    expect(w.store.getTarget('d-1', 'h3')!.status).toBe('Pending'); // nothing started while held
    expect(w.events.filter((e) => e.type === 'guidedFailure')).toMatchObject([{ instanceName: 'h2', lifecycleEvent: 'Install' }]);

    await w.engine.stop();
    await w.engine.settled();
    w.store.close();
    w = world(dir, w.clock);
    await w.engine.start();
    await w.engine.settled();
    for (const h of HOSTS) await w.engine.agentConnected(h, []);
    await w.engine.settled();
    expect(w.store.getDeployment('d-1')!.plan?.held).toEqual(['h2']);
    expect(await w.engine.resolveInstanceFailure('d-1', 'h1', 'retry')).toBe('notHeld');
    await w.engine.settled();

    expect(await w.engine.resolveInstanceFailure('d-1', 'h2', 'retry')).toBe('resolved');
    await w.engine.settled();
    expect(w.sent.map((c) => `${c.instanceName}:${c.lifecycleEvent}`)).toEqual(['h2:ApplicationStop', 'h3:ApplicationStop']);
    while ((await answerAll(w)) > 0);
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
    const h2 = w.store.getTarget('d-1', 'h2')!;
    expect(h2).toMatchObject({ status: 'Succeeded', attempt: 2 });
    expect(h2.previousAttempts?.[0]?.find((e) => e.lifecycleEventName === 'Install')?.status).toBe('Failed');
    expect(w.sent.some((c) => c.instanceName === 'h1')).toBe(false); // h1 was not deployed to again
  });

  it('cancels a timed-out event on its agent and holds a retry until the agent says it ended, across a restart', async () => {
    seedGuided();
    await w.engine.start();
    await w.engine.settled();
    const c1 = w.sent[0]!;
    await w.engine.commandAcknowledged(c1.instanceName, c1.commandId);
    await w.engine.settled();
    w.clock.advance(105_500); // 100 s event timeout + 5 s margin from the ack
    await w.engine.settled();
    expect(w.store.getDeployment('d-1')!.plan?.held).toEqual([c1.instanceName]);
    expect(w.cancelled).toEqual([c1.commandId]);
    expect(await w.engine.resolveInstanceFailure('d-1', c1.instanceName, 'retry')).toBe('stillRunning');
    await w.engine.settled();
    expect(w.engine.stillRunningOn(c1.instanceName)).toMatchObject([{ commandId: c1.commandId, deploymentId: 'd-1', lifecycleEvent: c1.lifecycleEvent }]);
    await w.engine.agentConnected(c1.instanceName, [c1.commandId]); // reconnected, still running it
    await w.engine.settled();
    expect(await w.engine.resolveInstanceFailure('d-1', c1.instanceName, 'retry')).toBe('stillRunning');
    await w.engine.settled();

    // a restarted coordinator learns of it from the hello, and cancels it again
    await w.engine.stop();
    await w.engine.settled();
    w.store.close();
    w = world(dir, w.clock);
    await w.engine.start();
    await w.engine.settled();
    for (const h of HOSTS) await w.engine.agentConnected(h, h === c1.instanceName ? [c1.commandId] : []);
    await w.engine.settled();
    expect(w.cancelled).toEqual([c1.commandId]);
    expect(await w.engine.resolveInstanceFailure('d-1', c1.instanceName, 'retry')).toBe('stillRunning');
    await w.engine.settled();
    await w.engine.commandResult(c1.instanceName, { commandId: c1.commandId, ...bad }); // the agent's own end of it
    await w.engine.settled();
    expect(w.store.getTarget('d-1', c1.instanceName)!.lifecycleEvents[0]!.diagnostics!.message).toContain('did not finish within its timeout'); // the result changes nothing
    expect(await w.engine.resolveInstanceFailure('d-1', c1.instanceName, 'retry')).toBe('resolved');
    await w.engine.settled();
  });

  it('a hello that no longer lists the timed-out command lets the retry go; skip and fail never wait', async () => {
    seedGuided();
    await w.engine.start();
    await w.engine.settled();
    const c1 = w.sent[0]!;
    await w.engine.commandAcknowledged(c1.instanceName, c1.commandId);
    await w.engine.settled();
    w.clock.advance(105_500);
    await w.engine.settled();
    expect(await w.engine.resolveInstanceFailure('d-1', c1.instanceName, 'retry')).toBe('stillRunning');
    await w.engine.settled();
    await w.engine.agentDisconnected(c1.instanceName);
    await w.engine.settled();
    await w.engine.agentConnected(c1.instanceName, []); // it ended while the agent was away
    await w.engine.settled();
    expect(w.engine.stillRunningOn(c1.instanceName)).toEqual([]);
    expect(await w.engine.resolveInstanceFailure('d-1', c1.instanceName, 'retry')).toBe('resolved');
    await w.engine.settled();

    // a second timeout of the same host: skip is answered at once
    const c2 = w.sent.at(-1)!;
    expect(c2.instanceName).toBe(c1.instanceName);
    await w.engine.commandAcknowledged(c2.instanceName, c2.commandId);
    await w.engine.settled();
    w.clock.advance(105_500);
    await w.engine.settled();
    expect(w.engine.stillRunningOn(c1.instanceName)).toHaveLength(1);
    expect(await w.engine.resolveInstanceFailure('d-1', c1.instanceName, 'skip')).toBe('resolved');
    await w.engine.settled();
  });

  it('a command never picked up is not cancelled nor waited for', async () => {
    seedGuided();
    await w.engine.start();
    await w.engine.settled();
    const c1 = w.sent[0]!;
    w.clock.advance(60_500); // pick-up timeout: the agent never started it
    await w.engine.settled();
    expect(w.store.getDeployment('d-1')!.plan?.held).toEqual([c1.instanceName]);
    expect(w.cancelled).toEqual([]);
    expect(await w.engine.resolveInstanceFailure('d-1', c1.instanceName, 'retry')).toBe('resolved');
    await w.engine.settled();
  });

  it('skip marks the instance Skipped and Unhealthy, and the deployment goes on', async () => {
    seedGuided({ minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } });
    await w.engine.start();
    await w.engine.settled();
    while ((await answerAll(w, failInstall('h1'))) > 0);
    expect(await w.engine.resolveInstanceFailure('d-1', 'h1', 'skip')).toBe('resolved');
    await w.engine.settled();
    while ((await answerAll(w)) > 0);
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
    expect(w.store.getTarget('d-1', 'h1')!.status).toBe('Skipped');
    expect(w.store.getHealth('gid', 'h1')).toMatchObject({ health: 'Unhealthy' });
    expect(w.store.getHealth('gid', 'h1')?.revisionKey).toBeUndefined();
  });

  it('fail ends the deployment Failed with a message naming the operator and the failure', async () => {
    seedGuided();
    await w.engine.start();
    await w.engine.settled();
    while ((await answerAll(w, failInstall('h1'))) > 0);
    expect(await w.engine.resolveInstanceFailure('d-1', 'h1', 'fail')).toBe('resolved');
    await w.engine.settled();
    const done = w.store.getDeployment('d-1')!;
    expect(done.status).toBe('Failed');
    expect(done.errorInformation).toEqual({ code: 'HEALTH_CONSTRAINTS', message: 'An operator chose to fail the deployment (guided failure) after h1 failed in Install (ScriptFailed)' });
    expect(await w.engine.resolveInstanceFailure('d-1', 'h1', 'retry')).toBe('notHeld');
    await w.engine.settled();
    expect(await w.engine.resolveInstanceFailure('d-nope', 'h1', 'retry')).toBe('noDeployment');
    await w.engine.settled();
  });

  it('a stop while held ends the deployment Stopped', async () => {
    seedGuided();
    await w.engine.start();
    await w.engine.settled();
    while ((await answerAll(w, failInstall('h1'))) > 0);
    await w.engine.stopRequested('d-1', false);
    await w.engine.settled();
    expect(w.store.getDeployment('d-1')!.status).toBe('Stopped');
  });

  it('records the agent\'s OnFailure report as one more event after the failure, which stays what ended the instance', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    await answerAll(w); // h1 ApplicationStop
    await answerAll(w); // h1 DownloadBundle
    const failing = w.sent.at(-1)!;
    expect(failing.lifecycleEvent).toBe('BeforeInstall');
    const cleanup = { status: 'Failed' as const, diagnostics: { errorCode: 'ScriptFailed', scriptName: 'clean.sh', message: 'exit 2', logTail: '' }, startedAt: 1_000, endedAt: 2_000 };
    await w.engine.commandAcknowledged('h1', failing.commandId);
    await w.engine.settled();
    await w.engine.commandResult('h1', { commandId: failing.commandId, ...bad, onFailure: cleanup });
    await w.engine.settled();
    const h1 = w.store.getTarget('d-1', 'h1')!;
    expect(h1.status).toBe('Failed');
    expect(h1.lifecycleEvents.map((e) => `${e.lifecycleEventName}:${e.status}`)).toEqual([
      'ApplicationStop:Succeeded', 'DownloadBundle:Succeeded', 'BeforeInstall:Failed', 'Install:Skipped', 'AfterInstall:Skipped', 'ApplicationStart:Skipped', 'ValidateService:Skipped', 'OnFailure:Failed',
    ]);
    expect(h1.lifecycleEvents.at(-1)).toMatchObject({ startTime: 1_000, endTime: 2_000, diagnostics: { scriptName: 'clean.sh' } });
    const done = w.store.getDeployment('d-1')!;
    expect(done.status).toBe('Failed');
    expect(done.errorInformation?.message).toContain('h1 failed in BeforeInstall (ScriptFailed)'); // not in OnFailure
  });

  it('a group without guided failure fails as CodeDeploy does', async () => {
    seed(w);
    await w.engine.start();
    await w.engine.settled();
    while ((await answerAll(w, failInstall('h1'))) > 0);
    expect(w.store.getDeployment('d-1')!.status).toBe('Failed');
    expect(w.events.some((e) => e.type === 'guidedFailure')).toBe(false);
  });
});
