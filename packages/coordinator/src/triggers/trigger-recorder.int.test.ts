/**
 * The trigger recorder as the coordinator wires it: the engine over a real SQLite store writes each
 * step's notifications in the step's own transaction.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultCoordinatorConfig } from '../config.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { CommandRecord } from '../store/records.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { createEngine } from '../deployment/engine.js';
import type { Engine } from '../deployment/engine.js';
import type { DeploymentEvent } from '../deployment/events.js';
import { newTarget } from '../deployment/instance-lifecycle.js';
import { createTriggerOutbox } from './trigger-outbox.js';
import type { TriggerOutbox } from './trigger-outbox.js';
import { createTriggerRecorder, triggersOf } from './trigger-recorder.js';

const HOSTS = ['h1', 'h2'];
const TRIGGERS = [
  { triggerName: 'hook', triggerTargetArn: 'http://127.0.0.1:1/x', triggerEvents: ['DeploymentStart', 'DeploymentSuccess', 'InstanceSuccess'] },
  { triggerName: 'sns', triggerTargetArn: 'arn:aws:sns:us-east-1:000000000000:t', triggerEvents: ['DeploymentSuccess'] },
];
const ok = { status: 'Succeeded' as const, diagnostics: { errorCode: 'Success', scriptName: '', message: '', logTail: '' } };

describe('trigger notifications recorded by the engine', () => {
  let dir: string;
  let store: SqliteStore;
  let outbox: TriggerOutbox;
  let engine: Engine;
  const sent: CommandRecord[] = [];
  const events: DeploymentEvent[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-recorder-'));
    store = openSqliteStore(dir);
    outbox = createTriggerOutbox(store.db);
    const clock = createFakeClock();
    const log = pino({ level: 'silent' });
    const recordEvents = createTriggerRecorder({ outbox, region: 'us-east-1', accountId: '000000000000', arnPrefix: 'arn:aws:codedeploy:us-east-1:000000000000', now: () => clock.now(), log });
    sent.length = 0;
    events.length = 0;
    engine = createEngine({ store: asyncSqliteStore(store), blobs: undefined as never, clock, config: defaultCoordinatorConfig, agents: { send: (c) => (sent.push(c), true), cancel: () => undefined, acknowledge: () => undefined }, recordEvents, log });
    engine.subscribe((e) => void events.push(e));
    store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.AllAtOnce', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: { triggerConfigurations: TRIGGERS } });
    store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', eventTimeouts: { default: 100 } }));
    for (const h of HOSTS) store.putTarget(newTarget('d-1', h, 0));
    for (const h of HOSTS) await engine.agentConnected(h, []);
  });
  afterEach(async () => {
    await engine.stop();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function runToEnd(): Promise<void> {
    for (let answered = 1; answered > 0; ) {
      answered = 0;
      for (const c of [...sent]) {
        if (store.getCommand(c.commandId)?.state === 'done') continue;
        await engine.commandAcknowledged(c.instanceName, c.commandId);
        await engine.commandResult(c.instanceName, { commandId: c.commandId, ...ok });
        answered++;
      }
    }
  }

  it('a deployment leaves one pending notification per trigger and event it listens for', async () => {
    await engine.start();
    await engine.settled();
    await runToEnd();
    expect(store.getDeployment('d-1')!.status).toBe('Succeeded');
    const rows = outbox.due(Number.MAX_SAFE_INTEGER, 100).map((d) => `${d.triggerName} ${d.triggerEvent} ${(JSON.parse(d.body) as { instanceId?: string }).instanceId ?? ''}`.trim());
    expect(rows.sort()).toEqual(['hook DeploymentStart', 'hook DeploymentSuccess', 'hook InstanceSuccess arn:aws:codedeploy:us-east-1:000000000000:instance/h1', 'hook InstanceSuccess arn:aws:codedeploy:us-east-1:000000000000:instance/h2', 'sns DeploymentSuccess']);
  });

  it('a step whose notifications cannot be written is not committed either, and publishes nothing', async () => {
    store.db.exec('DROP TABLE trigger_deliveries');
    await engine.start();
    await engine.settled();
    expect(store.getDeployment('d-1')!.status).toBe('Created');
    expect(events).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('leaves out stored trigger entries not of the validated shape', async () => {
    expect(triggersOf(undefined)).toEqual([]);
    expect(triggersOf({ triggerName: 'x' })).toEqual([]);
    expect(triggersOf([null, 7, { triggerName: 'a' }, { triggerName: 'b', triggerTargetArn: 'arn:x', triggerEvents: 'DeploymentStart' }, TRIGGERS[0]])).toEqual([TRIGGERS[0]]);
  });
});
