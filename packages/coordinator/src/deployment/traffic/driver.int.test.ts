/**
 * The traffic driver over a real SQLite store with a fake clock and a recording router: whole
 * Lambda deployments run in milliseconds, including a restart of the driver in the middle of a shift.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../store/sqlite-store.js';
import { openSqliteStore } from '../../store/sqlite-store.js';
import { sqliteTrafficJournal } from '../../store/traffic-store.js';
import type { TrafficJournal } from '../../store/traffic-store.js';
import type { AsyncStore } from '../../store/async-store.js';
import { asyncSqliteStore } from '../../store/async-store.js';
import type { FakeClock } from '../../testing/fake-clock.js';
import { createFakeClock } from '../../testing/fake-clock.js';
import { deploymentRecord } from '../../testing/record-builders.js';
import type { LambdaDeploymentSpec, ServerBlueGreenSpec } from '../../store/records.js';
import type { AgentPhases, TrafficDriver } from './driver.js';
import type { DeploymentEngine } from '../../api/context.js';
import { createTrafficDriver } from './driver.js';
import type { TrafficRouter } from './router.js';
import { RouterError } from './router.js';
import { createWindowGate } from '../window-gate.js';
import type { AlarmStop, AlarmWatch } from '../../alarms/alarm-watch.js';

const MIN = 60_000;
const LINEAR: LambdaDeploymentSpec['trafficRoutingConfig'] = { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } };

/** RecordingRouter notes each call with the fake time; `failRollbacks` makes that many rollbacks fail first. */
interface RecordingRouter extends TrafficRouter {
  calls: Array<[number, string, number?]>;
  hooks: Array<{ fn: string; executionId: string }>;
  failRollbacks: number;
  failCheck?: RouterError;
}

function recordingRouter(clock: FakeClock): RecordingRouter {
  const r: RecordingRouter = {
    calls: [],
    hooks: [],
    failRollbacks: 0,
    async check() {
      r.calls.push([clock.now(), 'check']);
      if (r.failCheck !== undefined) throw r.failCheck;
    },
    async shift(weight) {
      r.calls.push([clock.now(), 'shift', weight]);
    },
    async rollback() {
      r.calls.push([clock.now(), 'rollback']);
      if (r.failRollbacks > 0) {
        r.failRollbacks--;
        throw new RouterError('INVALID_LAMBDA_CONFIGURATION', 'Lambda is unreachable');
      }
    },
    async invokeHook(fn, payload) {
      r.calls.push([clock.now(), `invoke ${fn}`]);
      r.hooks.push({ fn, executionId: payload.LifecycleEventHookExecutionId });
    },
  };
  return r;
}

/** settle lets the driver's promise chains run (the fake clock only fires timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('traffic driver', () => {
  let dir: string;
  let store: SqliteStore;
  let asyncStore: AsyncStore;
  let journal: TrafficJournal;
  let clock: FakeClock;
  let router: RecordingRouter;
  let driver: TrafficDriver;
  const log = pino({ level: 'silent' });

  const makeDriver = (): TrafficDriver =>
    createTrafficDriver({ asyncStore, journal, clock, routerFor: () => router, minuteMs: MIN, hookTimeoutSeconds: 3600, log });

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-traffic-'));
    store = openSqliteStore(dir);
    asyncStore = asyncSqliteStore(store);
    journal = sqliteTrafficJournal(store.db);
    clock = createFakeClock(0);
    router = recordingRouter(clock);
    driver = makeDriver();
    await driver.start();
  });
  afterEach(() => {
    driver.stop();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** create stores a Created Lambda deployment and hands it to the driver. */
  async function create(over: Partial<LambdaDeploymentSpec> = {}): Promise<string> {
    const lambda: LambdaDeploymentSpec = { functionName: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2', hooks: {}, trafficRoutingConfig: LINEAR, ...over };
    store.putDeployment(deploymentRecord({ deploymentId: 'd-LAMBDA001', status: 'Created', computePlatform: 'Lambda', lambda, revision: { revisionType: 'String', string: { content: 'x' } } }));
    driver.deploymentCreated('d-LAMBDA001');
    await settle();
    return 'd-LAMBDA001';
  }

  async function advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 1000) {
      clock.advance(Math.min(1000, ms - t));
      await settle();
    }
  }

  it('shifts 10 % a minute from the start, then finishes Succeeded', async () => {
    const id = await create();
    await advance(10 * MIN);
    expect(router.calls.filter((c) => c[1] === 'shift')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((m) => [m * MIN, 'shift', (m + 1) * 10]));
    expect(store.getDeployment(id)).toMatchObject({ status: 'Succeeded', completeTime: 9 * MIN });
  });

  it('hands each deployment status change to recordEvents inside the transaction that makes it, before telling it', async () => {
    driver.stop();
    const recorded: string[] = [];
    const told: string[] = [];
    driver = createTrafficDriver({
      asyncStore, journal, clock, routerFor: () => router, minuteMs: MIN, hookTimeoutSeconds: 3600, log,
      recordEvents: async (tx, events) => {
        // inside the transaction: the change is visible through its handle, and the event has not been told yet
        for (const e of events) recorded.push(`${e.type === 'deployment' ? e.status : e.type} stored as ${(await tx.getDeployment(e.deploymentId))?.status} after ${told.length} told`);
      },
    });
    driver.subscribe((e) => void (e.type === 'deployment' && told.push(e.status)));
    await driver.start();
    await create();
    await advance(10 * MIN);
    expect(recorded).toEqual(['InProgress stored as InProgress after 0 told', 'Succeeded stored as Succeeded after 1 told']);
    expect(told).toEqual(['InProgress', 'Succeeded']);
  });

  it('a status change whose recordEvents fails is not stored', async () => {
    driver.stop();
    driver = createTrafficDriver({ asyncStore, journal, clock, routerFor: () => router, minuteMs: MIN, hookTimeoutSeconds: 3600, log, recordEvents: () => Promise.reject(new Error('outbox unwritable')) });
    await driver.start();
    const id = await create().catch(() => 'd-LAMBDA001');
    expect(store.getDeployment(id)?.status).toBe('Created');
  });

  it('a start whose transaction fails is tried again after a few seconds, and then goes ahead', async () => {
    driver.stop();
    let failures = 1;
    driver = createTrafficDriver({
      asyncStore, journal, clock, routerFor: () => router, minuteMs: MIN, hookTimeoutSeconds: 3600, log,
      recordEvents: async () => {
        if (failures-- > 0) throw new Error('outbox unwritable');
      },
    });
    await driver.start();
    const id = await create();
    expect(store.getDeployment(id)?.status).toBe('Created');
    await advance(5_000);
    expect(store.getDeployment(id)?.status).toBe('InProgress');
    expect(router.calls.map((c) => c.slice(0, 2))).toEqual([[5_000, 'check'], [5_000, 'shift']]);
  });

  it('an alarm stop whose transaction fails is tried again until it is stored, then rolls the traffic back', async () => {
    // given a deployment whose alarm watch the test fires, and a journal that fails its next write once told to
    driver.stop();
    let onStop: ((stop: AlarmStop) => void) | undefined;
    const alarms: AlarmWatch = { beforeStart: (_id, then) => then(undefined), watch: (_id, f) => void (onStop = f), close: () => undefined };
    let failPuts = 0;
    const failing: TrafficJournal = (db) => {
      const inner = journal(db);
      return { get: (id) => inner.get(id), put: (state) => (failPuts-- > 0 ? Promise.reject(new Error('disk I/O error')) : inner.put(state)) };
    };
    driver = createTrafficDriver({ asyncStore, journal: failing, clock, routerFor: () => router, minuteMs: MIN, hookTimeoutSeconds: 3600, log, alarms });
    await driver.start();
    const id = await create();
    await advance(MIN); // 10, 20 %
    // when the alarm fires while the journal cannot be written
    failPuts = 1;
    onStop!({ action: 'stop', code: 'ALARM_ACTIVE', message: 'alarm high-errors is in ALARM' });
    await settle();
    // then nothing is recorded yet, and a few seconds later the stop is, and the traffic goes back
    expect(store.getDeployment(id)?.alarmStop).toBeUndefined();
    await advance(5_000);
    expect(store.getDeployment(id)).toMatchObject({ status: 'Stopped', alarmStop: { message: 'alarm high-errors is in ALARM' }, errorInformation: { code: 'ALARM_ACTIVE' } });
    expect(router.calls.map((c) => c[1]).slice(-2)).toEqual(['shift', 'rollback']);
  });

  it('never calls a router while a transaction is open on the shared connection, with several deployments resumed at once', async () => {
    // given three deployments mid-shift, resumed together by a restarted driver
    const open: string[] = [];
    const watching = (r: RecordingRouter, name: string): TrafficRouter => ({
      check: () => (store.db.inTransaction && open.push(`${name} check`), r.check()),
      shift: (w) => (store.db.inTransaction && open.push(`${name} shift ${w}`), r.shift(w)),
      rollback: () => (store.db.inTransaction && open.push(`${name} rollback`), r.rollback()),
      invokeHook: (fn, payload) => (store.db.inTransaction && open.push(`${name} invoke`), r.invokeHook(fn, payload)),
    });
    driver.stop();
    const ids = ['d-LAMBDA001', 'd-LAMBDA002', 'd-LAMBDA003'];
    for (const deploymentId of ids) {
      store.putDeployment(deploymentRecord({ deploymentId, status: 'Created', computePlatform: 'Lambda', lambda: { functionName: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2', hooks: {}, trafficRoutingConfig: LINEAR }, revision: { revisionType: 'String', string: { content: 'x' } } }));
    }
    driver = createTrafficDriver({ asyncStore, journal, clock, routerFor: (d) => watching(router, d.deploymentId), minuteMs: MIN, hookTimeoutSeconds: 3600, log });
    // when it runs them to the end
    await driver.start();
    await advance(10 * MIN);
    // then all ended, and no router call landed inside a transaction
    expect(ids.map((i) => store.getDeployment(i)?.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(router.calls.filter((c) => c[1] === 'shift')).toHaveLength(30);
    expect(open).toEqual([]);
  });

  it('behind the window gate: a Lambda deployment created before its group\'s window waits Queued (across a driver restart) and shifts from the opening', async () => {
    store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: { deploymentWindows: { windows: [{ cron: '0 1 * * *', durationMinutes: 60 }], outsideWindow: 'queue', windowClose: 'finish-running' } } });
    // A coordinator alone: it drives every deployment, and none is ever taken over.
    const windowed = { windowClosed: async () => undefined, windowOpened: async () => undefined, drives: () => true, whenTakenOver: () => () => undefined };
    /** inner is the driver as the platform router presents it to the gate. */
    const inner = (): DeploymentEngine => ({
      deploymentCreated: async (id) => driver.deploymentCreated(id),
      stopRequested: (id, auto) => driver.stopRequested(id, auto),
      hookReported: (id, executionId, status) => driver.hookReported(id, executionId, status),
      fleetChanged: () => undefined,
      resolveInstanceFailure: async () => 'notHeld',
      stillRunningOn: () => [],
    });
    const gate = createWindowGate({ store: asyncStore, clock, log, inner: inner(), engine: windowed });
    store.putDeployment(deploymentRecord({ deploymentId: 'd-LAMBDA001', status: 'Created', computePlatform: 'Lambda', lambda: { functionName: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2', hooks: {}, trafficRoutingConfig: LINEAR }, revision: { revisionType: 'String', string: { content: 'x' } } }));
    await gate.deploymentCreated('d-LAMBDA001');
    await settle();
    expect(store.getDeployment('d-LAMBDA001')!.status).toBe('Queued');
    // A restarted driver leaves a queued deployment to the gate.
    driver.stop();
    driver = makeDriver();
    await driver.start();
    await settle();
    expect(store.getDeployment('d-LAMBDA001')!.status).toBe('Queued');
    expect(router.calls).toEqual([]);
    gate.stop();
    const restarted = createWindowGate({ store: asyncStore, clock, log, inner: inner(), engine: windowed });
    await restarted.start();
    await advance(60 * MIN);
    expect(store.getDeployment('d-LAMBDA001')!.status).toBe('InProgress');
    expect(router.calls.filter((c) => c[1] === 'shift')[0]).toEqual([60 * MIN, 'shift', 10]);
    restarted.stop();
  });

  it('tells each applied step as a traffic event, in order, before the deployment ends', async () => {
    const seen: string[] = [];
    driver.subscribe((e) => seen.push(e.type === 'traffic' ? `traffic ${e.weight} at ${e.at / MIN}` : `${e.type} ${'status' in e ? e.status : ''}`));
    await create();
    await advance(10 * MIN);
    expect(seen).toEqual(['deployment InProgress', ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `traffic ${n * 10} at ${n - 1}`), 'deployment Succeeded']);
  });

  it('tells the rollback as weight 0 once the router has put the traffic back, not before', async () => {
    const weights: number[] = [];
    driver.subscribe((e) => e.type === 'traffic' && weights.push(e.weight));
    const id = await create();
    await advance(2 * MIN); // 10, 20, 30 %
    router.failRollbacks = 1;
    await driver.stopRequested(id, false);
    await settle();
    expect(weights).toEqual([10, 20, 30]); // the rollback failed: nothing moved yet
    await advance(10_000);
    expect(weights).toEqual([10, 20, 30, 0]);
    expect(store.getDeployment(id)?.status).toBe('Stopped');
  });

  it('a driver restarted mid-shift after a long outage moves on one step, then one per interval: no catching up', async () => {
    const id = await create();
    await advance(3 * MIN); // 10, 20, 30, 40 %
    driver.stop(); // the coordinator dies
    clock.advance(20 * MIN); // and is away for 20 minutes
    router.calls.length = 0;
    driver = makeDriver();
    await driver.start();
    await settle();
    expect(router.calls).toEqual([[23 * MIN, 'shift', 50]]); // 40 % has had its minute (and more)
    await advance(MIN - 1000);
    expect(router.calls).toHaveLength(1);
    await advance(1000);
    expect(router.calls.at(-1)).toEqual([24 * MIN, 'shift', 60]);
    await advance(10 * MIN);
    expect(store.getDeployment(id)?.status).toBe('Succeeded');
  });

  it('hook reports: unknown, recorded once, then refused; a failed AfterAllowTraffic rolls back', async () => {
    const id = await create({ hooks: { BeforeAllowTraffic: 'pre', AfterAllowTraffic: 'post' }, trafficRoutingConfig: { type: 'AllAtOnce' } });
    expect(router.calls.map((c) => c[1])).toEqual(['check', 'invoke pre']);
    expect(await driver.hookReported(id, 'nope', 'Succeeded')).toBe('unknownExecution');
    const pre = router.hooks[0]!.executionId;
    expect(await driver.hookReported(id, pre, 'Succeeded')).toBe('recorded');
    expect(await driver.hookReported(id, pre, 'Failed')).toBe('alreadyReported');
    await settle();
    expect(router.calls.map((c) => c[1])).toEqual(['check', 'invoke pre', 'shift', 'invoke post']);
    expect(await driver.hookReported(id, router.hooks[1]!.executionId, 'Failed')).toBe('recorded');
    await settle();
    expect(router.calls.at(-1)![1]).toBe('rollback');
    expect(store.getDeployment(id)).toMatchObject({ status: 'Failed', errorInformation: { code: 'HOOK_EXECUTION_FAILURE' } });
    expect(await driver.hookReported(id, 'nope', 'Succeeded')).toBe('unknownExecution');
  });

  it('a rollback that cannot reach the router is retried until it works; only then does the deployment end', async () => {
    const id = await create();
    await advance(2 * MIN);
    router.failRollbacks = 2;
    expect(await driver.stopRequested(id, false)).toBe('Pending');
    await settle();
    expect(store.getDeployment(id)?.status).toBe('InProgress');
    await advance(10_000);
    expect(router.calls.filter((c) => c[1] === 'rollback')).toHaveLength(3);
    expect(store.getDeployment(id)).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(router.calls.filter((c) => c[1] === 'shift')).toHaveLength(3); // nothing moved after the stop
  });

  it('a failed check ends the deployment without touching the traffic', async () => {
    router.failCheck = new RouterError('INVALID_LAMBDA_CONFIGURATION', 'the alias points to version 3');
    const id = await create();
    expect(router.calls.map((c) => c[1])).toEqual(['check']);
    expect(store.getDeployment(id)).toMatchObject({ status: 'Failed', errorInformation: { code: 'INVALID_LAMBDA_CONFIGURATION', message: 'the alias points to version 3' } });
  });

  it('a blue/green deployment moves on after the agents\' news is told, not inside it: its end never comes before the instance events that led to it', async () => {
    // given a blue/green deployment whose agents end each phase when the test says
    const started = new Set<string>();
    const done = new Set<string>();
    const agents: AgentPhases = {
      startPhase: async (_id, event) => void started.add(event),
      phaseStatus: async (_id, event) => (done.has(event) ? { status: 'Succeeded' } : { status: 'InProgress' }),
      endPhases: async () => undefined,
    };
    driver.stop();
    const serverRouter: TrafficRouter = { ...router, prepare: async () => undefined, cleanup: async () => undefined };
    driver = createTrafficDriver({ asyncStore, journal, clock, routerFor: () => serverRouter, minuteMs: MIN, hookTimeoutSeconds: 3600, log, agents });
    await driver.start();
    const blueGreen: ServerBlueGreenSpec = { backend: 'site', green: ['sim-2'], blue: ['sim-1'], terminate: { action: 'KEEP_ALIVE', waitMinutes: 0 }, trafficRoutingConfig: { type: 'AllAtOnce' } };
    store.putDeployment(deploymentRecord({ deploymentId: 'd-BLUEGRN01', status: 'Created', blueGreen }));
    const told: string[] = [];
    driver.subscribe((e) => told.push(e.type === 'deployment' ? `deployment ${e.status}` : e.type));
    driver.deploymentCreated('d-BLUEGRN01');
    await settle();
    // when the engine tells it, phase after phase, that its instances moved on
    const phases: string[] = [];
    for (let i = 0; i < 10 && store.getDeployment('d-BLUEGRN01')?.status !== 'Succeeded'; i++) {
      for (const event of started) {
        if (done.has(event)) continue;
        phases.push(event);
        done.add(event);
      }
      const before = told.length;
      driver.agentsProgressed('d-BLUEGRN01');
      // then nothing is told while the engine is still publishing (the call returns first)
      expect(told.length, `after ${phases.join(', ')}: ${told.join(', ')}`).toBe(before);
      await settle();
    }
    expect(phases).toEqual(['Install', 'BeforeAllowTraffic', 'AfterAllowTraffic', 'BeforeBlockTraffic', 'AfterBlockTraffic']);
    expect(store.getDeployment('d-BLUEGRN01')?.status, JSON.stringify(store.getDeployment('d-BLUEGRN01')?.errorInformation)).toBe('Succeeded');
    expect(told.at(-1)).toBe('deployment Succeeded');
  });
});
