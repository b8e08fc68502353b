/**
 * The engine over the PostgreSQL store: what issue 13's conversion is for. Every step is a
 * transaction on a pooled connection (SERIALIZABLE, retried when refused), so this shows the engine
 * makes only tx calls inside its transactions and that its working copies follow the store there too.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { describeWithTools } from '../../../../test/harness/system-tools.js';
import { usePostgres } from '../../../../test/harness/postgres.js';
import { openPgStore } from '../store/pg/pg-store.js';
import type { PgStore, PgTransaction } from '../store/pg/pg-store.js';
import { pgTriggerOutbox } from '../store/pg/pg-side-stores.js';
import { createTriggerRecorder } from '../triggers/trigger-recorder.js';
import type { CommandRecord } from '../store/records.js';
import { defaultCoordinatorConfig } from '../config.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { createEngine } from './engine.js';
import { newTarget } from './instance-lifecycle.js';

const HOSTS = ['h1', 'h2', 'h3'];
const TRIGGERS = [{ triggerName: 'hook', triggerTargetArn: 'http://127.0.0.1:1/x', triggerEvents: ['DeploymentStart', 'DeploymentSuccess'] }];
const ok = { status: 'Succeeded' as const, diagnostics: { errorCode: 'Success', scriptName: '', message: '', logTail: '' } };

describeWithTools(['postgres'], 'engine over PostgreSQL', () => {
  const server = usePostgres();

  describe('a deployment', () => {
    it('runs OneAtATime to Succeeded, one instance at a time, each result acknowledged after its commit', async () => {
      const store = await openPgStore(await server().freshDatabase(), { poolSize: 4 });
      const sent: CommandRecord[] = [];
      const acked: string[] = [];
      const engine = createEngine({ store, blobs: undefined as never, clock: createFakeClock(), config: defaultCoordinatorConfig, agents: { send: (c) => (sent.push(c), true), cancel: () => {}, acknowledge: (_i, id) => void acked.push(id) }, log: pino({ level: 'silent' }) });
      try {
        await store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.OneAtATime', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: {} });
        await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', eventTimeouts: { default: 100 } }));
        await store.addTargets(HOSTS.map((h) => newTarget('d-1', h, 0)));
        for (const h of HOSTS) await engine.agentConnected(h, []);
        await engine.start(); // finds d-1 Created and starts it
        await engine.settled();
        let maxInFlight = 0;
        for (let answered = 1; answered > 0; ) {
          answered = 0;
          for (const c of [...sent]) {
            if ((await store.getCommand(c.commandId))?.state === 'done') continue;
            // Both at once: the queue runs the ack's step, then the result's.
            await Promise.all([engine.commandAcknowledged(c.instanceName, c.commandId), engine.commandResult(c.instanceName, { commandId: c.commandId, ...ok })]);
            answered++;
          }
          await engine.settled();
          maxInFlight = Math.max(maxInFlight, (await store.listTargets('d-1')).filter((t) => t.status === 'InProgress').length);
        }
        expect((await store.getDeployment('d-1'))!.status).toBe('Succeeded');
        expect(sent).toHaveLength(21);
        expect(acked).toHaveLength(21);
        expect(maxInFlight).toBe(1);
        expect(await store.openCommands()).toEqual([]);
        expect((await store.getGroupById('gid'))!.lastSuccessfulDeployment?.deploymentId).toBe('d-1');
      } finally {
        await engine.stop();
        await store.close();
      }
    });
  });

  describe('a batch of agent reports', () => {
    it('runs again whole when PostgreSQL refuses one report\'s part for a concurrent transaction: no report of it is dropped', async () => {
      const store = await openPgStore(await server().freshDatabase(), { poolSize: 4 });
      const sent: CommandRecord[] = [];
      const engine = createEngine({ store, blobs: undefined as never, clock: createFakeClock(), config: defaultCoordinatorConfig, agents: { send: (c) => (sent.push(c), true), cancel: () => {}, acknowledge: () => {} }, log: pino({ level: 'silent' }) });
      try {
        await store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.AllAtOnce', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: {} });
        await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', deploymentConfigName: 'CodeDeployDefault.AllAtOnce', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 }, eventTimeouts: { default: 100 } }));
        await store.addTargets(HOSTS.map((h) => newTarget('d-1', h, 0)));
        for (const h of HOSTS) await engine.agentConnected(h, []);
        await engine.start();
        await engine.settled();
        expect(sent).toHaveLength(3);
        // The next update of a command is refused once as a serialization failure would be (a sequence: not undone by a rollback).
        await store.query('CREATE SEQUENCE refusals');
        await store.query("CREATE FUNCTION refuse_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF nextval('refusals') = 1 THEN RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'serialization_failure'; END IF; RETURN NEW; END $$");
        await store.query('CREATE TRIGGER refuse_once BEFORE UPDATE ON commands FOR EACH ROW EXECUTE FUNCTION refuse_once()');
        await engine.agentReports(sent.map((c) => ({ instanceName: c.instanceName, ack: c.commandId })));
        await engine.settled();
        expect((await store.query("SELECT last_value FROM refusals")).rows[0]).toEqual({ last_value: '4' });
        expect((await store.openCommands()).map((c) => `${c.instanceName} ${c.state}`)).toEqual(['h1 acked', 'h2 acked', 'h3 acked']);
      } finally {
        await engine.stop();
        await store.close();
      }
    });
  });

  describe('trigger notifications', () => {
    /** engineWithTriggers is an engine over `store` whose steps write their notifications through their own transaction. */
    const engineWithTriggers = (store: PgStore, sent: CommandRecord[]) => {
      const clock = createFakeClock();
      const log = pino({ level: 'silent' });
      const recordEvents = createTriggerRecorder({ outbox: (tx) => pgTriggerOutbox(tx as PgTransaction), region: 'us-east-1', accountId: '000000000000', arnPrefix: 'arn:aws:codedeploy:us-east-1:000000000000', now: () => clock.now(), log });
      return createEngine({ store, blobs: undefined as never, clock, config: defaultCoordinatorConfig, agents: { send: (c) => (sent.push(c), true), cancel: () => {}, acknowledge: () => {} }, recordEvents, log });
    };
    const seed = async (store: PgStore): Promise<void> => {
      await store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.AllAtOnce', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: { triggerConfigurations: TRIGGERS } });
      await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Created', eventTimeouts: { default: 100 } }));
      await store.addTargets([newTarget('d-1', 'h1', 0)]);
    };

    it('are written in the step that made the event', async () => {
      const store = await openPgStore(await server().freshDatabase(), { poolSize: 4 });
      const sent: CommandRecord[] = [];
      const engine = engineWithTriggers(store, sent);
      try {
        await seed(store);
        await engine.agentConnected('h1', []);
        await engine.start();
        await engine.settled();
        expect((await store.getDeployment('d-1'))!.status).toBe('InProgress');
        const rows = await pgTriggerOutbox(store).due(Number.MAX_SAFE_INTEGER, 10);
        expect(rows.map((r) => `${r.triggerName} ${r.triggerEvent}`)).toEqual(['hook DeploymentStart']);
      } finally {
        await engine.stop();
        await store.close();
      }
    });

    it('are not kept when the step\'s commit fails after they were written, and the step sends nothing', async () => {
      const store = await openPgStore(await server().freshDatabase(), { poolSize: 4 });
      const sent: CommandRecord[] = [];
      const engine = engineWithTriggers(store, sent);
      try {
        await seed(store);
        // A check deferred to COMMIT: the step's writes, its notifications among them, all succeed until then.
        await store.query("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit by the test'; END $$");
        await store.query('CREATE CONSTRAINT TRIGGER refuse_commit AFTER UPDATE ON deployments DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()');
        await engine.agentConnected('h1', []);
        await engine.start();
        await engine.settled();
        expect((await store.getDeployment('d-1'))!.status).toBe('Created');
        expect(await pgTriggerOutbox(store).due(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
        expect(await store.openCommands()).toEqual([]);
        expect(sent).toEqual([]);
      } finally {
        await engine.stop();
        await store.close();
      }
    });
  });
});
