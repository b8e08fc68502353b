import { Writable } from 'node:stream';
import pg from 'pg';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { eventually } from '../../../../test/harness/eventually.js';
import { describeWithTools } from '../../../../test/harness/system-tools.js';
import { usePostgres } from '../../../../test/harness/postgres.js';
import { openPgStore } from '../store/pg/pg-store.js';
import { pgAgentSessionStore } from '../store/pg/pg-side-stores.js';
import { defineReplicaStoreContract } from '../testing/replica-store-contract.js';
import { createMembership } from './membership.js';
import { pgReplicaStore } from './pg-replica-store.js';
import type { ReplicaStore } from './replica-store.js';

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

  it('two replicas\' memberships on one database: when one dies, the other closes its open sessions, logging its name, and not its own', async () => {
    const url = await server().freshDatabase();
    const store = await openPgStore(url, { poolSize: 2 });
    let bDead = false;
    const real = pgReplicaStore(store);
    // b's calls never answer once it is "killed": no renewal, no leave.
    const hangs = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A): Promise<R> => (bDead ? new Promise<R>(() => {}) : fn(...args));
    const forB: ReplicaStore = { join: hangs(real.join), renew: hangs(real.renew), leave: hangs(real.leave), live: hangs(real.live), reap: hangs(real.reap) };
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) });
    const TTL = 1_200; // renewals every 400 ms
    const self = (id: string) => ({ id, where: () => ({ apiUrl: `https://${id}.test:8443`, agentAddress: `${id}.test:8444` }) });
    const a = createMembership({ replicas: real, ...self('replica-a'), ttlMs: TTL, log: pino({ level: 'info' }, sink) });
    const b = createMembership({ replicas: forB, ...self('replica-b'), ttlMs: TTL, log: pino({ level: 'silent' }) });
    try {
      await a.start();
      await b.start();
      await pgAgentSessionStore(store, 'replica-a').connected('web-01', '0.1.0', 1_000);
      await pgAgentSessionStore(store, 'replica-b').connected('web-02', '0.1.0', 2_000);
      await eventually(() => expect(a.live().map((r) => r.id)).toEqual(['replica-a', 'replica-b']));
      await new Promise((resolve) => setTimeout(resolve, 2 * TTL)); // alive through several renewals
      expect(await pgAgentSessionStore(store).get('web-02')).not.toHaveProperty('disconnectedAt');
      bDead = true;
      await eventually(async () => expect(await pgAgentSessionStore(store).get('web-02')).toMatchObject({ disconnectedAt: 2_000, heldBy: 'replica-b' }), 10_000);
      expect(await pgAgentSessionStore(store).get('web-01')).not.toHaveProperty('disconnectedAt');
      expect((await real.live()).map((r) => r.id)).toEqual(['replica-a']);
      await eventually(() => expect(a.live().map((r) => r.id)).toEqual(['replica-a']));
      expect(a.status()).toEqual({ member: true });
      expect(lines.filter((l) => l.replica === 'replica-b').map((l) => l.msg)).toEqual(['replica replica-b is dead (its row lapsed); closed the 1 agent session(s) it held']);
    } finally {
      await a.stop();
      await store.close();
    }
  }, 30_000);
});
