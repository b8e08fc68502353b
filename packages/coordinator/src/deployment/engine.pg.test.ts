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
import type { CommandRecord } from '../store/records.js';
import { defaultCoordinatorConfig } from '../config.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { createEngine } from './engine.js';
import { newTarget } from './instance-lifecycle.js';

const HOSTS = ['h1', 'h2', 'h3'];
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
});
