import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWithTools } from '../../../../../test/harness/system-tools.js';
import type { PostgresServer } from '../../../../../test/harness/postgres.js';
import { startPostgres } from '../../../../../test/harness/postgres.js';
import { newTrafficState } from '../../deployment/traffic/plan.js';
import type { ScheduleRecord } from '../schedule-store.js';
import { openPgStore } from './pg-store.js';
import type { PgStore } from './pg-store.js';
import { pgAccessKeyStore, pgAgentSessionStore, pgBlobReferences, pgCertificateStore, pgScheduleStore, pgTrafficStore, pgTriggerOutbox } from './pg-side-stores.js';
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
  let server: PostgresServer;
  let store: PgStore;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });
  const fresh = async () => {
    await store?.close();
    store = await openPgStore(await server.freshDatabase(), { poolSize: 2 });
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

  // Each coordinator is a PgStore of its own (its own pool) on the shared database.
  describe('the side store contract', () => {
    const sideStores = async (url: string): Promise<SideStores> => {
      const pgStore = await openPgStore(url, { poolSize: 4 });
      return {
        store: pgStore,
        accessKeys: pgAccessKeyStore(pgStore),
        certificates: pgCertificateStore(pgStore),
        sessions: pgAgentSessionStore(pgStore),
        outbox: pgTriggerOutbox(pgStore),
        references: pgBlobReferences(pgStore),
        buckets: (options) => pgBucketStore(pgStore, options),
        close: () => pgStore.close(),
      };
    };
    defineSideStoreContract(async () => {
      const url = await server.freshDatabase();
      return { ...(await sideStores(url)), replica: () => sideStores(url) };
    });
  });
});
