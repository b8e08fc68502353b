import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeWithTools } from '../../../../test/harness/system-tools.js';
import { usePostgres } from '../../../../test/harness/postgres.js';
import { openPgStore } from '../store/pg/pg-store.js';
import { defineLeaseStoreContract } from '../testing/lease-store-contract.js';
import type { Lease } from './lease-store.js';
import { pgLeaseStore } from './pg-lease-store.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describeWithTools(['postgres'], 'PostgreSQL lease store', () => {
  const server = usePostgres();

  describe('the lease store contract', () => {
    // The database's clock judges expiry: time passes for real, 0.3 ttl either side of each expiry.
    defineLeaseStoreContract(async () => {
      const store = await openPgStore(await server().freshDatabase(), { poolSize: 2 });
      return { leases: pgLeaseStore(store), ttl: 800, elapse: sleep, close: () => store.close() };
    });
  });

  it('joins a store transaction through its handle: the fencing check guards its writes, a rolled-back acquire is undone', async () => {
    const store = await openPgStore(await server().freshDatabase(), { poolSize: 2 });
    try {
      const leases = pgLeaseStore(store);
      const a = (await leases.acquire('deployment/d-1', 'replica-a', 60_000))!;
      const write = (generation: number): Promise<string> =>
        store.transaction(async (tx) => {
          if (!(await pgLeaseStore(tx).holds('deployment/d-1', 'replica-a', generation))) return 'fenced off';
          await tx.putApplication({ applicationId: 'id', applicationName: `app-${generation}`, computePlatform: 'Server', createTime: 1, linkedToGitHub: false });
          return 'written';
        });
      expect(await write(a.generation)).toBe('written');
      // Another replica takes over: A's tenure can write no more.
      await leases.release('deployment/d-1', 'replica-a', a.generation);
      expect(await leases.acquire('deployment/d-1', 'replica-b', 60_000)).toMatchObject({ generation: a.generation + 1 });
      expect(await write(a.generation)).toBe('fenced off');
      expect((await store.listApplications()).map((x) => x.applicationName)).toEqual([`app-${a.generation}`]);
      await expect(
        store.transaction(async (tx) => {
          expect(await pgLeaseStore(tx).acquire('deployment/d-2', 'replica-a', 60_000)).toMatchObject({ generation: 1 });
          throw new Error('crash');
        }),
      ).rejects.toThrow('crash');
      expect((await leases.list()).map((l) => l.name)).toEqual(['deployment/d-1']);
    } finally {
      await store.close();
    }
  });

  it('keeps a lease from being taken over until the transaction whose fencing check passed has ended', async () => {
    const store = await openPgStore(await server().freshDatabase(), { poolSize: 3 });
    try {
      const leases = pgLeaseStore(store);
      const a = (await leases.acquire('deployment/d-1', 'replica-a', 300))!;
      const order: string[] = [];
      const step = store.transaction(async (tx) => {
        expect(await pgLeaseStore(tx).holds('deployment/d-1', 'replica-a', a.generation)).toBe(true);
        // A step that takes long (a pause): the lease expires meanwhile.
        await sleep(800);
        await tx.putApplication({ applicationId: 'id', applicationName: 'written-by-a', computePlatform: 'Server', createTime: 1, linkedToGitHub: false });
        order.push('replica-a committed');
      });
      await sleep(400);
      const taken = leases.acquire('deployment/d-1', 'replica-b', 60_000).then((l) => order.push(`replica-b took generation ${l?.generation}`));
      await Promise.all([step, taken]);
      // The takeover waited for the step, so replica-b's tenure starts with replica-a's writes in place.
      expect(order).toEqual(['replica-a committed', `replica-b took generation ${a.generation + 1}`]);
    } finally {
      await store.close();
    }
  });

  it('gives a contested lease to exactly one of several replicas each round, generations strictly increasing', async () => {
    const url = await server().freshDatabase();
    await (await openPgStore(url, { poolSize: 1 })).close(); // migrated
    const REPLICAS = 5;
    const ROUNDS = 60;
    // One pool per replica, as separate coordinator processes would have; connections opened beforehand.
    const pools = Array.from({ length: REPLICAS }, () => new pg.Pool({ connectionString: url, max: 1 }));
    try {
      await Promise.all(pools.map((p) => p.query('SELECT 1')));
      const replicas = pools.map((pool, i) => ({ id: `replica-${i}`, pool, leases: pgLeaseStore(pool) }));
      const winners: Lease[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const answers = await Promise.all(replicas.map((r) => r.leases.acquire('deployment/d-1', r.id, 60_000)));
        const won = answers.filter((a): a is Lease => a !== undefined);
        expect(won, `round ${round}`).toHaveLength(1);
        const winner = won[0]!;
        const { rows } = await pools[0]!.query('SELECT owner, generation::int AS generation FROM leases WHERE name = $1', ['deployment/d-1']);
        expect(rows, `round ${round}`).toEqual([{ owner: winner.owner, generation: winner.generation }]);
        winners.push(winner);
        // Free the lease for the next round by both ways a tenure ends: release, or expiry (the
        // row's expiry moved into the past, as time passing would, so the race takes the expired path).
        const holder = replicas.find((r) => r.id === winner.owner)!;
        if (round % 2 === 0) expect(await holder.leases.release('deployment/d-1', holder.id, winner.generation)).toBe(true);
        else await pools[0]!.query('UPDATE leases SET expires_at = expires_at - 120000 WHERE name = $1', ['deployment/d-1']);
      }
      expect(winners.map((w) => w.generation)).toEqual(Array.from({ length: ROUNDS }, (_, i) => i + 1));
      // The race was real: more than one replica won over the rounds.
      expect(new Set(winners.map((w) => w.owner)).size).toBeGreaterThan(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  }, 60_000);
});
