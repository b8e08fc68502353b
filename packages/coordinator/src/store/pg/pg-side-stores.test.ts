import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { asyncSqliteStore } from '../async-store.js';
import { openSqliteStore } from '../sqlite-store.js';
import { describeWithTools } from '../../../../../test/harness/system-tools.js';
import { usePostgres } from '../../../../../test/harness/postgres.js';
import { newTrafficState } from '../../deployment/traffic/plan.js';
import type { ScheduleRecord } from '../schedule-store.js';
import { openPgStore } from './pg-store.js';
import type { PgStore } from './pg-store.js';
import { pgAccessKeyStore, pgAgentSessionStore, pgBlobReferences, pgCertificateStore, pgScheduleStore, pgTrafficJournal, pgTrafficStore, pgTriggerOutbox } from './pg-side-stores.js';
import { pgBucketStore } from './pg-bucket-store.js';
import type { SideStores } from '../../testing/side-store-contract.js';
import { defineSideStoreContract } from '../../testing/side-store-contract.js';

const schedule = (id: string, over: Partial<ScheduleRecord> = {}): ScheduleRecord => ({
  scheduleId: id,
  applicationName: 'app',
  deploymentGroupName: 'g',
  cron: '0 3 * * *',
  request: { applicationName: 'app', deploymentGroupName: 'g' },
  createTime: 1,
  runTime: 2,
  status: 'Scheduled',
  ...over,
});

describeWithTools(['postgres'], 'PostgreSQL side stores', () => {
  const server = usePostgres();
  let store: PgStore;
  afterAll(async () => {
    await store?.close();
  });
  const fresh = async () => {
    await store?.close();
    store = await openPgStore(await server().freshDatabase(), { poolSize: 2 });
    return store;
  };

  it('keeps one traffic state per deployment, the latest put winning', async () => {
    const traffic = pgTrafficStore(await fresh());
    expect(await traffic.get('d-1')).toBeUndefined();
    const state = newTrafficState('d-1', [{ weight: 10, waitMs: 0 }, { weight: 100, waitMs: 60_000 }], { BeforeAllowTraffic: 'fn' });
    await traffic.put(state);
    await traffic.put({ ...state, checked: true, step: { index: 0, appliedAt: 5 } });
    expect(await traffic.get('d-1')).toEqual({ ...state, checked: true, step: { index: 0, appliedAt: 5 } });
  });

  it('lists schedules oldest first, an update keeping its place, and deletes one', async () => {
    const schedules = pgScheduleStore(await fresh());
    await schedules.put(schedule('s-2'));
    await schedules.put(schedule('s-1'));
    await schedules.put(schedule('s-2', { status: 'Created', deploymentId: 'd-1' }));
    expect((await schedules.list()).map((s) => `${s.scheduleId}:${s.status}`)).toEqual(['s-2:Created', 's-1:Scheduled']);
    expect(await schedules.get('s-1')).toEqual(schedule('s-1'));
    await schedules.delete('s-2');
    expect(await schedules.get('s-2')).toBeUndefined();
    expect((await schedules.list()).map((s) => s.scheduleId)).toEqual(['s-1']);
  });

  it('writes a schedule with putIfScheduled only while the stored one is still Scheduled', async () => {
    const schedules = pgScheduleStore(await fresh());
    await schedules.put(schedule('s-1'));
    expect(await schedules.putIfScheduled(schedule('s-1', { status: 'Created', deploymentId: 'd-1' }))).toBe(true);
    expect(await schedules.putIfScheduled(schedule('s-1', { status: 'Failed', error: { type: 'DeploymentLimitExceededException', message: 'x' } }))).toBe(false);
    expect(await schedules.get('s-1')).toEqual(schedule('s-1', { status: 'Created', deploymentId: 'd-1' }));
    expect(await schedules.putIfScheduled(schedule('s-9'))).toBe(false); // none stored: nothing written
    expect(await schedules.get('s-9')).toBeUndefined();
  });

  it('join the store\'s transaction through its handle: a throw undoes their writes with the store\'s', async () => {
    const s = await fresh();
    await expect(
      s.transaction(async (tx) => {
        await tx.putApplication({ applicationId: 'id', applicationName: 'app', computePlatform: 'Lambda', createTime: 1, linkedToGitHub: false });
        await pgTrafficStore(tx).put(newTrafficState('d-1', [], {}));
        await pgScheduleStore(tx).put(schedule('s-1'));
        expect(await pgTrafficStore(tx).get('d-1')).toBeDefined();
        throw new Error('crash');
      }),
    ).rejects.toThrow('crash');
    expect(await s.getApplication('app')).toBeUndefined();
    expect(await pgTrafficStore(s).get('d-1')).toBeUndefined();
    expect(await pgScheduleStore(s).list()).toEqual([]);
    // Committed, they count in changeCount with the store's writes.
    const before = await s.changeCount();
    await s.transaction(async (tx) => pgScheduleStore(tx).put(schedule('s-1')));
    expect(await s.changeCount()).toBe(before + 1);
  });

  it('the bucket store and the other side stores join a transaction they are given: a throw undoes their writes, and no blob is reported released', async () => {
    const s = await fresh();
    const released: string[][] = [];
    const options = { released: (b: readonly string[]) => void released.push([...b]) };
    await pgBucketStore(s, options).createBucket('b', 1);
    await pgBucketStore(s, options).putObject({ bucket: 'b', key: 'k', sha256: 'a'.repeat(64), size: 1, etag: '"a"' }, 1);
    await expect(
      s.transaction(async (tx) => {
        const bucket = pgBucketStore(tx, options);
        await bucket.putObject({ bucket: 'b', key: 'k', sha256: 'b'.repeat(64), size: 2, etag: '"b"' }, 2);
        await bucket.createUpload({ bucket: 'b', key: 'u' }, 2);
        await pgAccessKeyStore(tx).create('admin', 2);
        await pgTriggerOutbox(tx).enqueue('d-1', [{ eventId: 'e', triggerName: 't', triggerEvent: 'DeploymentStart', target: 'http://127.0.0.1:1/', subject: 's', body: '{}' }], 2);
        expect((await bucket.getObject('b', 'k'))?.size).toBe(2);
        throw new Error('crash');
      }),
    ).rejects.toThrow('crash');
    expect(await pgBucketStore(s).getObject('b', 'k')).toMatchObject({ sha256: 'a'.repeat(64), size: 1 });
    expect((await pgBucketStore(s).listUploads('b')).uploads).toEqual([]);
    expect(await pgAccessKeyStore(s).count()).toBe(0);
    expect(await pgTriggerOutbox(s).get('e')).toBeUndefined();
    // The savepoint's change was reported (it ended); the blob is still referenced, so the collector keeps it.
    expect(released).toEqual([['a'.repeat(64)]]);
    expect(await pgBlobReferences(s).has('a'.repeat(64))).toBe(true);
  });

  it('refuses NoSuchBucket, not a foreign key error, an upload begun in a bucket that another replica deletes before it ends', async () => {
    await store?.close();
    const url = await server().freshDatabase();
    store = await openPgStore(url, { poolSize: 2 });
    const s = store;
    const replica = await openPgStore(url, { poolSize: 2 });
    const buckets = pgBucketStore(replica);
    await buckets.createBucket('b', 1);
    let creating: Promise<unknown> | undefined;
    try {
      await s.transaction(async (tx) => {
        await tx.query('DELETE FROM bucket_buckets WHERE name = $1', ['b']);
        // The replica's INSERT sees the bucket (not yet deleted for it) and waits on the deletion's row lock.
        creating = buckets.createUpload({ bucket: 'b', key: 'k' }, 2).catch((err: unknown) => err);
        for (let i = 0; i < 200; i++) {
          const { rows } = await replica.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO bucket_uploads%'");
          if (rows[0].n > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      });
      expect(await creating).toMatchObject({ name: 'BucketStoreError', code: 'NoSuchBucket' });
    } finally {
      await replica.close();
    }
  });

  describe('trigger outbox claims, with replicas racing', () => {
    const note = (id: string) => ({ eventId: id, triggerName: 't', triggerEvent: 'DeploymentStart' as const, target: 'http://127.0.0.1:1/', subject: 's', body: '{}' });

    it('four replicas, each claiming on four connections at once, claim every due row exactly once', async () => {
      const url = await server().freshDatabase();
      const replicas = await Promise.all(Array.from({ length: 4 }, () => openPgStore(url, { poolSize: 4 })));
      try {
        const ids = Array.from({ length: 400 }, (_, i) => `e-${String(i).padStart(3, '0')}`);
        await pgTriggerOutbox(replicas[0]!).enqueue('d-1', ids.map(note), 100);
        const claims: Array<{ id: string; by: string }> = [];
        await Promise.all(
          replicas.flatMap((r, i) =>
            Array.from({ length: 4 }, async () => {
              const outbox = pgTriggerOutbox(r);
              // bounded: were claimed rows claimable again, the loops would never run dry
              for (let round = 0; round < ids.length / 4; round++) {
                const batch = await outbox.claim(200, 4, `r-${i}`, 60_000);
                if (batch.length === 0) return;
                claims.push(...batch.map((d) => ({ id: d.eventId, by: `r-${i}` })));
              }
            }),
          ),
        );
        expect(claims.map((c) => c.id).sort()).toEqual(ids);
        // every replica took part, so the claims did interleave
        expect(new Set(claims.map((c) => c.by)).size).toBe(4);
        const holders = new Map((await replicas[0]!.query('SELECT event_id, claimed_by FROM trigger_deliveries')).rows.map((r: { event_id: string; claimed_by: string }) => [r.event_id, r.claimed_by]));
        for (const c of claims) expect(holders.get(c.id)).toBe(c.by);
      } finally {
        await Promise.all(replicas.map((r) => r.close()));
      }
    });

    it('a replica claiming while another holds its claimed rows locked takes the other rows at once, not waiting on the lock', async () => {
      const url = await server().freshDatabase();
      const [a, b] = await Promise.all([openPgStore(url, { poolSize: 2 }), openPgStore(url, { poolSize: 2 })]);
      try {
        await pgTriggerOutbox(a).enqueue('d-1', ['e-1', 'e-2', 'e-3', 'e-4'].map(note), 100);
        let other: string[] | undefined;
        await a.transaction(async (tx) => {
          expect((await pgTriggerOutbox(tx).claim(200, 2, 'r-a', 60_000)).map((d) => d.eventId)).toEqual(['e-1', 'e-2']);
          // a's claim is not committed and its rows stay locked while b claims
          const claiming = pgTriggerOutbox(b).claim(200, 10, 'r-b', 60_000);
          const waited = await Promise.race([claiming.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 2_000))]);
          expect(waited).toBe(false);
          other = (await claiming).map((d) => d.eventId);
        });
        expect(other).toEqual(['e-3', 'e-4']);
        expect(await pgTriggerOutbox(b).claim(200, 10, 'r-b', 60_000)).toEqual([]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });

  // Each coordinator is a PgStore of its own (its own pool) on the shared database.
  describe('the side store contract', () => {
    const sideStores = async (url: string): Promise<SideStores> => {
      const pgStore = await openPgStore(url, { poolSize: 4 });
      return {
        store: pgStore,
        accessKeys: pgAccessKeyStore(pgStore),
        certificates: pgCertificateStore(pgStore),
        sessions: pgAgentSessionStore(pgStore),
        sessionsOf: (replicaId) => pgAgentSessionStore(pgStore, replicaId),
        outbox: pgTriggerOutbox(pgStore),
        references: pgBlobReferences(pgStore),
        buckets: (options) => pgBucketStore(pgStore, options),
        traffic: pgTrafficJournal,
        close: () => pgStore.close(),
      };
    };
    defineSideStoreContract(async () => {
      const url = await server().freshDatabase();
      return { ...(await sideStores(url)), replica: () => sideStores(url) };
    });
  });
});

describe('pgTrafficJournal', () => {
  it('refuses an AsyncStore that is not PostgreSQL\'s: the journal\'s writes would not join its transactions', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-pg-journal-'));
    const sqlite = openSqliteStore(dir);
    try {
      expect(() => pgTrafficJournal(asyncSqliteStore(sqlite))).toThrow(/PostgreSQL traffic journal needs a PgStore or one of its transaction handles/);
    } finally {
      sqlite.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
