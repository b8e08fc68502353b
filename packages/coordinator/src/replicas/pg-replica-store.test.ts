import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeWithTools } from '../../../../test/harness/system-tools.js';
import { usePostgres } from '../../../../test/harness/postgres.js';
import { openPgStore } from '../store/pg/pg-store.js';
import { pgAgentSessionStore } from '../store/pg/pg-side-stores.js';
import { defineReplicaStoreContract } from '../testing/replica-store-contract.js';
import { pgReplicaStore } from './pg-replica-store.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describeWithTools(['postgres'], 'PostgreSQL replica store', () => {
  const server = usePostgres();

  describe('the replica store contract', () => {
    // The database's clock judges: time passes for real, 0.3 ttl or more either side of each lapse.
    defineReplicaStoreContract(async () => {
      const store = await openPgStore(await server().freshDatabase(), { poolSize: 2 });
      return { replicas: pgReplicaStore(store), sessionsOf: (id) => pgAgentSessionStore(store, id), ttl: 800, elapse: sleep, close: () => store.close() };
    });
  });

  it('reaps a dead replica once when several live replicas look at the same moment', async () => {
    const url = await server().freshDatabase();
    const store = await openPgStore(url, { poolSize: 1 });
    // One pool per replica, as separate coordinator processes would have; connections opened beforehand.
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 1 }));
    try {
      await Promise.all(pools.map((p) => p.query('SELECT 1')));
      const ROUNDS = 10;
      const reapers = new Set<string>();
      for (let round = 0; round < ROUNDS; round++) {
        const dead = `replica-dead-${round}`;
        await pgReplicaStore(store).join({ id: dead, startedAt: 1, apiUrl: 'https://d.test', agentAddress: 'd.test:1' }, 60_000);
        const sessions = pgAgentSessionStore(store, dead);
        for (let i = 0; i < 20; i++) await sessions.connected(`web-${round}-${i}`, '0.1.0', 1_000);
        await store.query('UPDATE replicas SET alive_until = alive_until - 120000 WHERE id = $1', [dead]); // as if its renewals had stopped two minutes ago
        const answers = await Promise.all(pools.map((p, i) => pgReplicaStore(p).reap(`replica-${i}`)));
        const reaped = answers.flatMap((a, i) => a.map((r) => ({ by: i, ...r })));
        expect(reaped, `round ${round}`).toEqual([expect.objectContaining({ id: dead, closedSessions: 20 })]);
        reapers.add(String(reaped[0]!.by));
        const { rows } = await store.query('SELECT count(*)::int AS open FROM agent_sessions WHERE held_by = $1 AND disconnected_at IS NULL', [dead]);
        expect(rows).toEqual([{ open: 0 }]);
      }
      expect(reapers.size, 'the race was real: more than one replica reaped over the rounds').toBeGreaterThan(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await store.close();
    }
  }, 60_000);
});
