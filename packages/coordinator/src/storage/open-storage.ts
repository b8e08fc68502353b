/**
 * openStorage opens the backend the configuration names: the PostgreSQL database of `database`
 * (several replicas), else the SQLite file in the data directory (one coordinator).
 */
import type { Logger } from 'pino';
import type { CoordinatorConfig } from '../config.js';
import type { LoopPriority } from '../loop-priority.js';
import type { Storage } from './storage.js';
import type { PgTransactionTiming } from '../store/pg/pg-store.js';
import { openSqliteStorage } from './sqlite-storage.js';
import { openPgStorage } from './pg-storage.js';

/** OpenStorageOptions: this replica's id, the clock (ms), the API's priority, where transaction times go, the log. */
export interface OpenStorageOptions {
  replicaId: string;
  now: () => number;
  priority: LoopPriority;
  observeTransaction: (seconds: number) => void;
  /** Where PostgreSQL transactions' timings go (the SQLite ones go to observeTransaction). */
  observePgTransaction: (timing: PgTransactionTiming) => void;
  log: Logger;
}

/** openStorage opens the configured backend; the caller holds the data directory's lock. */
export async function openStorage(config: Pick<CoordinatorConfig, 'dataDir' | 'database'>, options: OpenStorageOptions): Promise<Storage> {
  if (config.database !== undefined) return openPgStorage(config.database, options);
  return openSqliteStorage(config.dataDir, options);
}
