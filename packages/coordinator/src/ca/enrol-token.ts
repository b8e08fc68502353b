/**
 * `fleetdeploy-coordinator enrol-token --instance NAME`: mints a token from a second process on the
 * daemon's data directory (SQLite in WAL mode takes both), or with no daemon running at all.
 */
import type { CoordinatorConfig } from '../config.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import type { Clock } from '../clock.js';
import { openEnrolment, sqliteEnrolmentStores } from './open-enrolment.js';

/** mintEnrolmentToken opens the data directory, mints one token for `instanceName` and closes it again. */
export async function mintEnrolmentToken(config: CoordinatorConfig, instanceName: string, ttlMs: number | undefined, clock: Clock): Promise<string> {
  const store = openSqliteStore(config.dataDir);
  try {
    const enrolment = await openEnrolment(config, sqliteEnrolmentStores(store, asyncSqliteStore(store)), () => clock.now());
    return await enrolment.mintToken(instanceName, ttlMs);
  } finally {
    store.close();
  }
}
