/**
 * TrafficStore keeps the traffic journal of traffic-shifted deployments (migration 006), on the
 * coordinator's database beside the {@link Store}, so its writes join the store's transactions.
 */
import type Database from 'better-sqlite3';
import type { TrafficState } from '../deployment/traffic/plan.js';
import type { AsyncStore } from './async-store.js';
import type { PromisedMethods } from './promised.js';
import { promised } from './promised.js';

/** TrafficStore reads and writes one {@link TrafficState} per deployment. */
export interface TrafficStore {
  get(deploymentId: string): TrafficState | undefined;
  put(state: TrafficState): void;
}

/** createTrafficStore builds the {@link TrafficStore} on an open, migrated database. */
export function createTrafficStore(db: Database.Database): TrafficStore {
  const get = db.prepare('SELECT doc FROM traffic_shifts WHERE deployment_id = ?');
  const put = db.prepare('INSERT INTO traffic_shifts (deployment_id, doc) VALUES (?, ?) ON CONFLICT (deployment_id) DO UPDATE SET doc = excluded.doc');
  return {
    get(deploymentId) {
      const row = get.get(deploymentId) as { doc: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.doc) as TrafficState);
    },
    put(state) {
      put.run(state.deploymentId, JSON.stringify(state));
    },
  };
}

/** AsyncTrafficStore is {@link TrafficStore}, asynchronously (PostgreSQL's, or SQLite's through promised()). */
export type AsyncTrafficStore = PromisedMethods<TrafficStore>;

/**
 * TrafficJournal opens the traffic journal through `db`: the AsyncStore itself, or one of its
 * transactions' handles, so that the journal's writes commit or roll back with that transaction's.
 */
export type TrafficJournal = (db: AsyncStore) => AsyncTrafficStore;

/**
 * sqliteTrafficJournal is the journal on the coordinator's SQLite database: every handle of
 * asyncSqliteStore runs on its one connection, so one store serves them all, inside a transaction
 * or not.
 */
export function sqliteTrafficJournal(db: Database.Database): TrafficJournal {
  const store = promised(createTrafficStore(db));
  return () => store;
}
