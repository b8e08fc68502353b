/**
 * The engine over a real SQLite store, with a recording agent link and a fake clock: whole
 * deployments, timeouts and restarts in milliseconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
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

const config = { ...defaultCoordinatorConfig, agentGraceSeconds: 10, pickupTimeoutSeconds: 60, eventTimeoutMarginSeconds: 5 };
const HOSTS = ['h1', 'h2', 'h3'];

interface World {
  store: SqliteStore;
  clock: FakeClock;
  engine: Engine;
  sent: CommandRecord[];
  cancelled: string[];
  acked: string[];
  events: DeploymentEvent[];
}

function world(dir: string, clock = createFakeClock()): World {
  const store = openSqliteStore(dir);
  const sent: CommandRecord[] = [];
  const cancelled: string[] = [];
  const acked: string[] = [];
  const link: AgentLink = {
    send: (c) => (sent.push(c), true),
    cancel: (_i, id) => void cancelled.push(id),
    acknowledge: (_i, id) => void acked.push(id),
  };
  const engine = createEngine({ store, blobs: undefined as never, clock, config, agents: link, log: pino({ level: 'silent' }) });
  const events: DeploymentEvent[] = [];
  engine.subscribe((e) => void events.push(e));
  return { store, clock, engine, sent, cancelled, acked, events };
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
function answerAll(w: World, outcome: (c: CommandRecord) => typeof ok | typeof bad = () => ok): number {
  let answered = 0;
  for (const c of [...w.sent]) {
    if (w.store.getCommand(c.commandId)?.state === 'done') continue;
    w.engine.commandAcknowledged(c.instanceName, c.commandId);
    w.engine.commandResult(c.instanceName, { commandId: c.commandId, ...outcome(c) });
    answered++;
  }
  return answered;
}

describe('engine', () => {
  let dir: string;
  let w: World;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-engine-'));
    w = world(dir);
    for (const h of HOSTS) w.engine.agentConnected(h, []);
  });
  afterEach(() => {
    w.engine.stop();
    w.store.close();
  });

  it('runs OneAtATime to Succeeded: one instance at a time, seven events each, acknowledging every result', () => {
    seed(w);
    w.engine.start();
    let maxInFlight = 0;
    while (answerAll(w) > 0) {
      maxInFlight = Math.max(maxInFlight, w.store.listTargets('d-1').filter((t) => t.status === 'InProgress').length);
    }
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
    expect(w.sent).toHaveLength(21);
    expect(w.acked).toHaveLength(21);
    expect(maxInFlight).toBe(1);
    expect(w.store.openCommands()).toEqual([]);
    expect(w.store.getGroupById('gid')!.lastSuccessfulDeployment?.deploymentId).toBe('d-1');
    expect(w.store.getHealth('gid', 'h2')).toMatchObject({ health: 'Healthy', revisionKey: 's3://bucket-1/k#zip' });
    const summary = w.events.filter((e) => e.type !== 'lifecycleEvent').map((e) => `${e.type === 'instance' ? e.instanceName : 'deployment'}:${e.status}`);
    expect(summary).toEqual(['deployment:InProgress', 'h1:InProgress', 'h1:Succeeded', 'h2:InProgress', 'h2:Succeeded', 'h3:InProgress', 'h3:Succeeded', 'deployment:Succeeded']);
  });

  it('a result for an unknown or finished command is acknowledged and changes nothing', () => {
    seed(w);
    w.engine.start();
    w.engine.commandResult('h1', { commandId: 'nope', ...ok });
    const first = w.sent[0]!;
    w.engine.commandResult('h2', { commandId: first.commandId, ...bad }); // not this instance's command
    expect(w.acked).toEqual(['nope', first.commandId]);
    expect(w.store.getCommand(first.commandId)!.state).toBe('sent');
  });

  it('fails a running event when its agent is gone past the grace, and goes on by the minimum-healthy rules', () => {
    seed(w, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } }); // AllAtOnce
    w.engine.start();
    expect(w.sent.map((c) => c.instanceName)).toEqual(HOSTS);
    w.engine.agentDisconnected('h2');
    w.clock.advance(9_000);
    expect(w.store.getTarget('d-1', 'h2')!.status).toBe('InProgress'); // still within the grace
    w.clock.advance(2_000);
    const h2 = w.store.getTarget('d-1', 'h2')!;
    expect(h2.status).toBe('Failed');
    expect(h2.lifecycleEvents[0]!.diagnostics!.message).toContain('stopped answering');
    while (answerAll(w, (c) => (c.instanceName === 'h2' ? bad : ok)) > 0);
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
  });

  it('fails a command nobody picked up, and one acknowledged but never finished, after their timeouts', () => {
    seed(w, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } });
    w.engine.start();
    const [c1, c2] = w.sent;
    w.engine.commandAcknowledged(c1!.instanceName, c1!.commandId); // h1 runs it; h2 never answers at all
    w.clock.advance(60_500); // pick-up timeout
    expect(w.store.getTarget('d-1', c2!.instanceName)!.lifecycleEvents[0]!.diagnostics!.message).toContain('did not pick up');
    expect(w.store.getTarget('d-1', c1!.instanceName)!.status).toBe('InProgress');
    w.clock.advance(45_000); // 100 s event timeout + 5 s margin from the ack
    expect(w.store.getTarget('d-1', c1!.instanceName)!.lifecycleEvents[0]!.diagnostics!.message).toContain('did not finish within its timeout');
  });

  it('a stop cancels the running command, starts nothing more, and ends Stopped', () => {
    seed(w);
    w.engine.start();
    expect(w.engine.stopRequested('d-1', false)).toBe('Pending');
    expect(w.cancelled).toEqual([w.sent[0]!.commandId]);
    answerAll(w, () => bad);
    expect(w.sent).toHaveLength(1);
    expect(w.store.getDeployment('d-1')).toMatchObject({ status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' } });
    expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['Failed', 'Skipped', 'Skipped']);
    expect(w.store.getDeployment('d-1')!.rollbackInfo).toBeUndefined(); // no rollback was asked for
  });

  it('after a restart, re-sends what had no result when the agent connects, and finishes the deployment', () => {
    seed(w);
    w.engine.start();
    answerAll(w); // h1's ApplicationStop done; its DownloadBundle is sent
    const inFlight = w.sent[1]!;
    w.engine.stop();
    w.store.close();

    w = world(dir, w.clock);
    w.engine.start();
    expect(w.sent).toEqual([]); // no agent is connected yet
    w.engine.agentConnected('h1', []);
    expect(w.sent.map((c) => c.commandId)).toEqual([inFlight.commandId]);
    while (answerAll(w) > 0) for (const h of HOSTS) w.engine.agentConnected(h, []);
    expect(w.store.getDeployment('d-1')!.status).toBe('Succeeded');
  });

  it('after a restart, agents get the restart grace (not the shorter agent grace) to come back', () => {
    seed(w, { minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } });
    w.engine.start();
    w.engine.stop();
    w.store.close();
    w = world(dir, w.clock);
    w.engine.start();
    w.clock.advance(config.agentGraceSeconds * 1000 + 1000);
    expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['InProgress', 'InProgress', 'InProgress']);
    w.engine.agentConnected('h1', []);
    const resent = w.sent.find((c) => c.instanceName === 'h1')!;
    w.engine.commandAcknowledged('h1', resent.commandId);
    w.clock.advance(60_000 - config.agentGraceSeconds * 1000);
    // h1 came back in time; h2 and h3 did not
    expect(w.store.listTargets('d-1').map((t) => t.status)).toEqual(['InProgress', 'Failed', 'Failed']);
  });

  describe('rollbacks', () => {
    /** A group that deployed d-good successfully to the hosts, with the given autoRollbackConfiguration. */
    function groupWithHistory(autoRollbackConfiguration?: { enabled: boolean; events: string[] }): void {
      seed(w);
      w.store.putGroup({
        ...w.store.getGroupById('gid')!,
        onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }],
        lastSuccessfulDeployment: { deploymentId: 'd-good', status: 'Succeeded', createTime: 0 },
        targetRevision: { revisionType: 'S3', s3Location: { bucket: 'bucket-1', key: 'good', bundleType: 'zip' } },
        extra: autoRollbackConfiguration ? { autoRollbackConfiguration } : {},
      });
      w.store.putDeployment(deploymentRecord({ deploymentId: 'd-good', status: 'Succeeded', revision: { revisionType: 'S3', s3Location: { bucket: 'bucket-1', key: 'good', bundleType: 'zip' } } }));
      for (const h of HOSTS) w.store.putInstance({ instanceName: h, instanceArn: h, registerTime: 0, tags: [{ Key: 'env', Value: 'prod' }] });
    }

    it('a failed deployment with DEPLOYMENT_FAILURE rollback starts a deployment of the last good revision, linked both ways', () => {
      groupWithHistory({ enabled: true, events: ['DEPLOYMENT_FAILURE'] });
      w.engine.start();
      answerAll(w, () => bad); // h1's ApplicationStop fails: OneAtATime cannot go on
      const failed = w.store.getDeployment('d-1')!;
      expect(failed.status).toBe('Failed');
      const rollbackId = failed.rollbackInfo!.rollbackDeploymentId!;
      const rollback = w.store.getDeployment(rollbackId)!;
      expect(rollback).toMatchObject({ creator: 'codeDeployRollback', status: 'InProgress', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-1' } });
      expect(rollback.revision.s3Location!.key).toBe('good');
      while (answerAll(w) > 0);
      expect(w.store.getDeployment(rollbackId)!.status).toBe('Succeeded');
      expect(w.store.activeDeployments()).toEqual([]); // a rollback is never rolled back again, nor loops
    });

    it('StopDeployment with autoRollbackEnabled rolls back to the last good revision', () => {
      groupWithHistory();
      w.engine.start();
      w.engine.stopRequested('d-1', true);
      answerAll(w, () => bad);
      expect(w.store.getDeployment('d-1')!.rollbackInfo?.rollbackDeploymentId).toBeDefined();
    });

    it('says why when there is nothing to roll back to', () => {
      seed(w, { autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] } });
      w.engine.start();
      answerAll(w, () => bad);
      const failed = w.store.getDeployment('d-1')!;
      expect(failed.rollbackInfo).toEqual({ rollbackMessage: expect.stringContaining('no earlier successful revision') });
      expect(w.store.activeDeployments()).toEqual([]);
    });
  });
});
