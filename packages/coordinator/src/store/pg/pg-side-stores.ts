/**
 * The side stores that PostgreSQL already has: the traffic journal (store/traffic-store.ts) and the
 * deployment schedules (store/schedule-store.ts), asynchronously, over a {@link PgQuery}: the
 * PgStore itself, or a transaction's handle so that their writes commit with the store's. Their
 * records and ordering are the SQLite ones; the other side stores (bucket, access keys,
 * certificates, agent sessions, trigger outbox) have their tables (pg-migrations.ts) but no code yet.
 */
import type { Promised } from '../async-store.js';
import type { TrafficStore } from '../traffic-store.js';
import type { TrafficState } from '../../deployment/traffic/plan.js';
import type { ScheduleRecord, ScheduleStore } from '../schedule-store.js';
import type { PgQuery } from './pg-store.js';

/** AsyncTrafficStore is {@link TrafficStore}, asynchronously. */
export type AsyncTrafficStore = { [K in keyof TrafficStore]: Promised<TrafficStore[K]> };
/** AsyncScheduleStore is {@link ScheduleStore}, asynchronously. */
export type AsyncScheduleStore = { [K in keyof ScheduleStore]: Promised<ScheduleStore[K]> };

type Doc = { doc: string };

/** pgTrafficStore keeps one {@link TrafficState} per deployment in `traffic_shifts`. */
export function pgTrafficStore(db: PgQuery): AsyncTrafficStore {
  return {
    get: async (deploymentId) => {
      const { rows } = await db.query('SELECT doc FROM traffic_shifts WHERE deployment_id = $1', [deploymentId]);
      return rows.length === 0 ? undefined : (JSON.parse((rows[0] as Doc).doc) as TrafficState);
    },
    put: async (state) => {
      await db.query('INSERT INTO traffic_shifts (deployment_id, doc) VALUES ($1, $2) ON CONFLICT (deployment_id) DO UPDATE SET doc = excluded.doc', [state.deploymentId, JSON.stringify(state)]);
    },
  };
}

/** pgScheduleStore keeps the scheduled deployments in `deployment_schedules`, listed oldest first (seq from its sequence). */
export function pgScheduleStore(db: PgQuery): AsyncScheduleStore {
  return {
    get: async (id) => {
      const { rows } = await db.query('SELECT doc FROM deployment_schedules WHERE schedule_id = $1', [id]);
      return rows.length === 0 ? undefined : (JSON.parse((rows[0] as Doc).doc) as ScheduleRecord);
    },
    put: async (s) => {
      await db.query('INSERT INTO deployment_schedules (schedule_id, doc) VALUES ($1, $2) ON CONFLICT (schedule_id) DO UPDATE SET doc = excluded.doc', [s.scheduleId, JSON.stringify(s)]);
    },
    delete: async (id) => {
      await db.query('DELETE FROM deployment_schedules WHERE schedule_id = $1', [id]);
    },
    list: async () => (await db.query('SELECT doc FROM deployment_schedules ORDER BY seq')).rows.map((r) => JSON.parse((r as Doc).doc) as ScheduleRecord),
  };
}
