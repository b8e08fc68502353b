/**
 * `fleetdeploy-coordinator enrol-token --instance NAME`: mints a token from a second process on the
 * daemon's data directory (SQLite in WAL mode takes both), or with no daemon running at all; with
 * `--database`, on the PostgreSQL database the replicas share (their CA is kept there).
 */
import type { CoordinatorConfig } from '../config.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import type { Clock } from '../clock.js';
import { openEnrolment, sqliteEnrolmentStores } from './open-enrolment.js';
import { connectPg } from '../storage/pg-storage.js';
import { pgCertificateStore, pgThrough } from '../store/pg/pg-side-stores.js';
import { pgAuthorityRow, withFirstStartLock } from '../store/pg/pg-first-start.js';
import { openSharedAuthority } from './shared-authority.js';

/** mintEnrolmentToken opens the data directory (or the database), mints one token for `instanceName` and closes it again. */
export async function mintEnrolmentToken(config: CoordinatorConfig, instanceName: string, ttlMs: number | undefined, clock: Clock): Promise<string> {
  if (config.database !== undefined) {
    const pg = await connectPg(config.database, 2);
    try {
      // The replicas' CA from the database (made, as a replica's start would, if none has started yet).
      const enrolment = await openEnrolment(config, { store: pg, certificates: pgThrough(pgCertificateStore, 'certificate store') }, () => clock.now(), (_dataDir, files, now) =>
        withFirstStartLock(pg.pool, () => openSharedAuthority(pgAuthorityRow(pg), undefined, files, now)),
      );
      return await enrolment.mintToken(instanceName, ttlMs);
    } finally {
      await pg.close();
    }
  }
  const store = openSqliteStore(config.dataDir);
  try {
    const enrolment = await openEnrolment(config, sqliteEnrolmentStores(store, asyncSqliteStore(store)), () => clock.now());
    return await enrolment.mintToken(instanceName, ttlMs);
  } finally {
    store.close();
  }
}
