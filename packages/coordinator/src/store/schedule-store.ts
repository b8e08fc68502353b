/**
 * ScheduleStore keeps the deployments scheduled for a cron time (migration 010), on the coordinator's
 * database beside the {@link Store}, so its writes join the store's transactions.
 */
import type Database from 'better-sqlite3';
import type { AsyncStore } from './async-store.js';
import type { PromisedMethods } from './promised.js';
import { promised } from './promised.js';

/** ScheduleRecord is one scheduled deployment: when, and the CreateDeployment request to send then. */
export interface ScheduleRecord {
  scheduleId: string;
  applicationName: string;
  deploymentGroupName: string;
  cron: string;
  timeZone?: string;
  /** The CreateDeployment input, as given (applicationName and deploymentGroupName included). */
  request: Record<string, unknown>;
  createTime: number;
  /** When it creates its deployment; a time in the past (the coordinator was down) runs at start. */
  runTime: number;
  status: 'Scheduled' | 'Created' | 'Failed';
  deploymentId?: string;
  error?: { type: string; message: string };
}

export interface ScheduleStore {
  get(scheduleId: string): ScheduleRecord | undefined;
  put(schedule: ScheduleRecord): void;
  /**
   * putIfScheduled writes `schedule` only while the stored one is still Scheduled, and says whether
   * it did. With replicas on one database each arms the same timer: the one whose CreateDeployment
   * was refused because another's created the deployment first must not overwrite that record.
   */
  putIfScheduled(schedule: ScheduleRecord): boolean;
  delete(scheduleId: string): void;
  /** list returns every schedule, oldest first. */
  list(): ScheduleRecord[];
}

export function createScheduleStore(db: Database.Database): ScheduleStore {
  const get = db.prepare('SELECT doc FROM deployment_schedules WHERE schedule_id = ?');
  const put = db.prepare(`INSERT INTO deployment_schedules (schedule_id, seq, doc) VALUES (@id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM deployment_schedules), @doc)
    ON CONFLICT (schedule_id) DO UPDATE SET doc = excluded.doc`);
  const putIfScheduled = db.prepare("UPDATE deployment_schedules SET doc = @doc WHERE schedule_id = @id AND json_extract(doc, '$.status') = 'Scheduled'");
  const del = db.prepare('DELETE FROM deployment_schedules WHERE schedule_id = ?');
  const list = db.prepare('SELECT doc FROM deployment_schedules ORDER BY seq');
  return {
    get(id) {
      const row = get.get(id) as { doc: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.doc) as ScheduleRecord);
    },
    put(s) {
      put.run({ id: s.scheduleId, doc: JSON.stringify(s) });
    },
    putIfScheduled(s) {
      return putIfScheduled.run({ id: s.scheduleId, doc: JSON.stringify(s) }).changes === 1;
    },
    delete(id) {
      del.run(id);
    },
    list() {
      return (list.all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as ScheduleRecord);
    },
  };
}

/** AsyncScheduleStore is {@link ScheduleStore}, asynchronously (PostgreSQL's, or SQLite's through promised()). */
export type AsyncScheduleStore = PromisedMethods<ScheduleStore>;

/**
 * ScheduleStoreOpener opens the schedules through an AsyncStore or one of its transactions' handles,
 * so that a write made through a handle commits or rolls back with that transaction.
 */
export type ScheduleStoreOpener = (db: AsyncStore) => AsyncScheduleStore;

/** sqliteScheduleStores is the opener on the coordinator's SQLite database: every handle runs on its one connection. */
export function sqliteScheduleStores(db: Database.Database): ScheduleStoreOpener {
  const store = promised(createScheduleStore(db));
  return () => store;
}
