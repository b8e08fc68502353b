/**
 * The window gate over the real engine and a real SQLite store, with a fake clock: a deployment
 * created outside its group's window waits Queued and starts at the opening; a window that closes
 * mid-deployment lets running instances finish and starts the rest at the next opening; a restarted
 * coordinator recomputes both timers from the records.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { CommandRecord } from '../store/records.js';
import { defaultCoordinatorConfig } from '../config.js';
import { createFakeClock } from '../testing/fake-clock.js';
import type { FakeClock } from '../testing/fake-clock.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { createEngine } from './engine.js';
import type { Engine } from './engine.js';
import { createWindowGate } from './window-gate.js';
import type { WindowGate } from './window-gate.js';
import { newTarget } from './instance-lifecycle.js';
import type { WindowPolicy } from './windows.js';

const config = { ...defaultCoordinatorConfig, agentGraceSeconds: 10, pickupTimeoutSeconds: 30 * 24 * 3600, eventTimeoutMarginSeconds: 5 };
const HOSTS = ['h1', 'h2', 'h3'];
// As the API does, each test stores a deployment after the engine started and hands it to the gate.
/** 2026-01-01 is a Thursday; the fake clock starts at its midnight UTC. */
const START = Date.UTC(2026, 0, 1);
const log = pino({ level: 'silent' });
const ok = { status: 'Succeeded' as const, diagnostics: { errorCode: 'Success', scriptName: '', message: '', logTail: '' } };

interface World {
  store: SqliteStore;
  clock: FakeClock;
  engine: Engine;
  gate: WindowGate;
  sent: CommandRecord[];
}

function world(dir: string, clock: FakeClock): World {
  const store = openSqliteStore(dir);
  const sent: CommandRecord[] = [];
  const asyncStore = asyncSqliteStore(store);
  const engine = createEngine({ store: asyncStore, blobs: undefined as never, clock, config, agents: { send: (c) => (sent.push(c), true), cancel: () => {}, acknowledge: () => {} }, log });
  const gate = createWindowGate({ store: asyncStore, clock, log, engine, inner: { deploymentCreated: (id) => engine.deploymentCreated(id), stopRequested: (id, a) => engine.stopRequested(id, a), fleetChanged: () => {}, hookReported: async () => 'unknownExecution', resolveInstanceFailure: (id, i, a) => engine.resolveInstanceFailure(id, i, a), stillRunningOn: (i) => engine.stillRunningOn(i) } });
  for (const h of HOSTS) void engine.agentConnected(h, []); // queued ahead of every later step
  return { store, clock, engine, gate, sent };
}

/**
 * settle lets what the gate's timers and calls began run to its end: the gate reads and writes
 * through the AsyncStore (a transaction a loop turn) and hands deployments to the engine, whose steps
 * settled() waits for. A few loop turns, no timer.
 */
async function settle(w: World): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    await w.engine.settled();
  }
}

function seed(w: World, policy: WindowPolicy): void {
  w.store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.OneAtATime', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: { deploymentWindows: policy } });
  w.store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', eventTimeouts: { default: 100 } }));
  for (const h of HOSTS) w.store.putTarget(newTarget('d-1', h, 0));
}

/** Answers every open command of one instance until its seven events are done. */
async function finishInstance(w: World, host: string): Promise<void> {
  for (;;) {
    const c = w.sent.find((x) => x.instanceName === host && w.store.getCommand(x.commandId)?.state !== 'done');
    if (c === undefined) return;
    await w.engine.commandAcknowledged(host, c.commandId);
    await settle(w);
    await w.engine.commandResult(host, { commandId: c.commandId, ...ok });
    await settle(w);
  }
}

const running = (w: World) => w.store.listTargets('d-1').filter((t) => t.status === 'InProgress').map((t) => t.targetId);

describe('window gate', () => {
  let dir: string;
  let w: World;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-window-'));
    w = world(dir, createFakeClock(START));
  });
  afterEach(async () => {
    w.gate.stop();
    await w.engine.stop();
    await settle(w);
    w.store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('queues a deployment created before its window with a message naming it, and starts it when it opens', async () => {
    await w.engine.start();
    await settle(w);
    await w.gate.start();
    await settle(w);
    seed(w, { windows: [{ cron: '0 1 * * *', durationMinutes: 60 }], outsideWindow: 'queue', windowClose: 'finish-running' });
    await w.gate.deploymentCreated('d-1');
    await settle(w);
    const queued = w.store.getDeployment('d-1')!;
    expect(queued.status).toBe('Queued');
    expect(queued.deploymentStatusMessages).toEqual(['fleetdeploy: deployment window: waits for the window "0 1 * * *" (UTC, 60 min), which opens at 2026-01-01T01:00:00.000Z']);
    expect(w.sent).toEqual([]);
    w.clock.advance(3600_000 - 1);
    await settle(w);
    expect(w.store.getDeployment('d-1')!.status).toBe('Queued');
    w.clock.advance(1);
    await settle(w);
    const started = w.store.getDeployment('d-1')!;
    expect(started.status).toBe('InProgress');
    expect(started.deploymentStatusMessages).toEqual([]);
    expect(running(w)).toEqual(['h1']);
  });

  it('starts a queued deployment at once when its group\'s windows are removed', async () => {
    await w.engine.start();
    await settle(w);
    seed(w, { windows: [{ cron: '0 1 * * *', durationMinutes: 60 }], outsideWindow: 'queue', windowClose: 'finish-running' });
    await w.gate.deploymentCreated('d-1');
    await settle(w);
    expect(w.store.getDeployment('d-1')!.status).toBe('Queued');
    w.store.putGroup({ ...w.store.getGroupById('gid')!, extra: {} });
    w.gate.fleetChanged();
    await settle(w);
    w.gate.fleetChanged(); // a burst of changes is looked at once, just after the request
    await settle(w);
    expect(w.store.getDeployment('d-1')!.status).toBe('Queued');
    w.clock.advance(0);
    await settle(w);
    expect(w.store.getDeployment('d-1')!.status).toBe('InProgress');
    expect(running(w)).toEqual(['h1']);
  });

  it('starts a deployment at once while a window is open', async () => {
    await w.engine.start();
    await settle(w);
    seed(w, { windows: [{ cron: '0 0 * * *', durationMinutes: 60 }], outsideWindow: 'queue', windowClose: 'finish-running' });
    await w.gate.deploymentCreated('d-1');
    await settle(w);
    expect(w.store.getDeployment('d-1')!.status).toBe('InProgress');
  });

  it('pauses at the window close (the running instance finishes, no new one starts) and resumes at the next opening', async () => {
    await w.engine.start();
    await settle(w);
    seed(w, { windows: [{ cron: '0 0 * * *', durationMinutes: 10 }], outsideWindow: 'queue', windowClose: 'finish-running' });
    await w.gate.deploymentCreated('d-1');
    await settle(w);
    await finishInstance(w, 'h1');
    expect(running(w)).toEqual(['h2']);
    w.clock.advance(10 * 60_000);
    await settle(w);
    const paused = w.store.getDeployment('d-1')!;
    expect(paused.plan?.paused).toBe(true);
    expect(paused.status).toBe('InProgress');
    expect(paused.deploymentStatusMessages).toEqual(['fleetdeploy: deployment window: closed at 2026-01-01T00:10:00.000Z; running instances finish and no new one starts; the rest start when the window "0 0 * * *" (UTC, 10 min) opens at 2026-01-02T00:00:00.000Z']);
    await finishInstance(w, 'h2');
    expect(running(w)).toEqual([]); // h3 waits
    expect(w.store.getTarget('d-1', 'h3')!.status).toBe('Pending');
    w.clock.advance(24 * 3600_000 - 10 * 60_000);
    await settle(w);
    expect(running(w)).toEqual(['h3']);
    expect(w.store.getDeployment('d-1')!.deploymentStatusMessages).toEqual([]);
    await finishInstance(w, 'h3');
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
  });

  it('lets a deployment run on past the close with windowClose continue', async () => {
    await w.engine.start();
    await settle(w);
    seed(w, { windows: [{ cron: '0 0 * * *', durationMinutes: 10 }], outsideWindow: 'queue', windowClose: 'continue' });
    await w.gate.deploymentCreated('d-1');
    await settle(w);
    w.clock.advance(20 * 60_000);
    await settle(w);
    await finishInstance(w, 'h1');
    expect(running(w)).toEqual(['h2']);
  });

  it('stops a queued deployment at once: every instance Skipped, nothing sent', async () => {
    await w.engine.start();
    await settle(w);
    seed(w, { windows: [{ cron: '0 1 * * *', durationMinutes: 60 }], outsideWindow: 'queue', windowClose: 'finish-running' });
    await w.gate.deploymentCreated('d-1');
    await settle(w);
    expect(await w.gate.stopRequested('d-1', false)).toBe('Succeeded');
    const stopped = w.store.getDeployment('d-1')!;
    expect(stopped.status).toBe('Stopped');
    expect(stopped.deploymentStatusMessages).toEqual([]);
    expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['Skipped', 'Skipped', 'Skipped']);
    w.clock.advance(2 * 3600_000);
    await settle(w);
    expect(w.sent).toEqual([]);
  });

  it('recomputes its timers after a restart: a queued deployment starts at the opening, a paused one resumes', async () => {
    await w.engine.start();
    await settle(w);
    seed(w, { windows: [{ cron: '0 1 * * *', durationMinutes: 60 }], outsideWindow: 'queue', windowClose: 'finish-running' });
    await w.gate.deploymentCreated('d-1');
    await settle(w);
    w.gate.stop();
    await w.engine.stop();
    await settle(w);
    w.store.close();
    w = world(dir, createFakeClock(START + 30 * 60_000));
    await w.engine.start();
    await settle(w);
    await w.gate.start();
    await settle(w);
    expect(w.store.getDeployment('d-1')!.status).toBe('Queued');
    w.clock.advance(30 * 60_000);
    await settle(w);
    expect(w.store.getDeployment('d-1')!.status).toBe('InProgress');
    expect(running(w)).toEqual(['h1']);
    // Down across the close: the restarted gate sees the window closed and pauses.
    w.gate.stop();
    await w.engine.stop();
    await settle(w);
    w.store.close();
    w = world(dir, createFakeClock(START + 2 * 3600_000));
    await w.engine.start();
    await settle(w);
    await w.gate.start();
    await settle(w);
    expect(w.store.getDeployment('d-1')!.plan?.paused).toBe(true);
    w.clock.advance(23 * 3600_000);
    await settle(w);
    expect(w.store.getDeployment('d-1')!.plan?.paused).toBeUndefined();
  });
});
