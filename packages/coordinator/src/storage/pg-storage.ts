/**
 * The coordinator's storage in a PostgreSQL database that several replicas share (issue 13). It is
 * migrated as it opens, under the migration lock (store/pg/pg-migrate.ts): a replica of a newer
 * version brings the schema up to date for all, replicas starting together migrate once, and a
 * database newer than this coordinator is refused. Nothing here assumes this replica is alone
 * (`exclusive: false`): its agent sessions carry its replica id, the CA and the first admin key
 * are made once between replicas, and what the engine and /metrics read synchronously comes from
 * caches refreshed in the background.
 */
import type { Logger } from 'pino';
import type { Storage } from './storage.js';
import { ConfigError } from '../config.js';
import { openPgStore } from '../store/pg/pg-store.js';
import type { PgOpenOptions, PgQuery, PgStore } from '../store/pg/pg-store.js';
import { connectFailure, redactPassword } from '../store/database-url.js';
import { pgAccessKeyStore, pgAgentSessionStore, pgBlobReferences, pgCertificateStore, pgScheduleStore, pgThrough, pgTrafficJournal, pgTriggerOutbox } from '../store/pg/pg-side-stores.js';
import { pgBucketStore } from '../store/pg/pg-bucket-store.js';
import type { PgTransactor } from '../store/pg/pg-bucket-store.js';
import { pgLeaseStore } from '../lease/pg-lease-store.js';
import { pgReplicaStore } from '../replicas/pg-replica-store.js';
import { pgAuthorityRow, withFirstStartLock } from '../store/pg/pg-first-start.js';
import { openSharedAuthority } from '../ca/shared-authority.js';
import { cachedCounts } from '../metrics/cached-counts.js';
import { pgCounts } from '../metrics/metrics-sources.js';
import { cachedSessionLookup } from '../fleet/cached-session-lookup.js';
import { createPgOwnership, engineWakeups } from '../deployment/pg-ownership.js';
import { createWakeupListener } from '../store/pg/pg-wakeups.js';

/** CONNECT_TIMEOUT_MS bounds the wait for a server that neither answers nor refuses (a dropped packet). */
const CONNECT_TIMEOUT_MS = 10_000;
/** How old the counts /metrics shows may be: a scrape costs the database one read per this, at most. */
const COUNTS_MAX_AGE_MS = 10_000;
/** How old a copy of an agent session may be when the engine words a waiting message from it. */
const SESSION_COPY_MAX_AGE_MS = 5_000;
const SESSION_COPIES = 100_000;

/** PgStorageOptions: this replica's id (the holder of its agent sessions), the clock (ms) and the log. */
export interface PgStorageOptions {
  replicaId: string;
  now: () => number;
  log: Logger;
  /** The pool's size (default 10). */
  poolSize?: number;
  /** Where each transaction's timing goes (/metrics). */
  observePgTransaction?: PgOpenOptions['observeTransaction'];
}

/**
 * connectPg opens and migrates the database; every way that fails is a {@link ConfigError} of one
 * line naming the database (never its password).
 */
export async function connectPg(url: string, poolSize?: number, observeTransaction?: PgOpenOptions['observeTransaction']): Promise<PgStore> {
  const where = redactPassword(url);
  try {
    return await openPgStore(url, { connectTimeoutMs: CONNECT_TIMEOUT_MS, ...(poolSize === undefined ? {} : { poolSize }), ...(observeTransaction === undefined ? {} : { observeTransaction }) });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/schema version/.test(message)) throw new ConfigError(message);
    // An SQLSTATE (five characters) is the server's answer: it was reached, and refused the migration.
    const sqlState = typeof (err as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code);
    if (sqlState || /^PostgreSQL migration/.test(message)) throw new ConfigError(`cannot migrate the PostgreSQL database ${where}: ${message}`);
    throw new ConfigError(`cannot connect to the PostgreSQL database ${where}: ${connectFailure(err)}`);
  }
}

/** openPgStorage connects to `url`, migrates it, and returns the storage of the replica `replicaId`. */
export async function openPgStorage(url: string, options: PgStorageOptions): Promise<Storage> {
  const { log, now } = options;
  const pgStore = await connectPg(url, options.poolSize, options.observePgTransaction);
  const sessions = pgAgentSessionStore(pgStore, options.replicaId);
  const counts = cachedCounts(pgCounts(pgStore), { maxAgeMs: COUNTS_MAX_AGE_MS, now, failed: (err) => log.warn({ err }, 'cannot read the counts /metrics shows; it shows the last ones read') });
  await counts.refresh(); // the first scrape has numbers
  let open = true;
  return {
    where: redactPassword(url),
    exclusive: false,
    store: pgStore,
    instanceLookup: pgStore,
    accessKeys: pgAccessKeyStore(pgStore),
    certificates: pgThrough(pgCertificateStore, 'certificate store'),
    sessions,
    sessionLookup: cachedSessionLookup(sessions, { maxAgeMs: SESSION_COPY_MAX_AGE_MS, maxEntries: SESSION_COPIES, now, failed: (err, instance) => log.warn({ err, instance }, 'cannot read an agent session') }),
    outbox: pgTriggerOutbox(pgStore),
    // The recorder is given the step's transaction handle: its rows commit with the step.
    outboxWrites: (tx) => pgTriggerOutbox(tx as unknown as PgQuery),
    trafficJournal: pgTrafficJournal,
    schedules: pgThrough(pgScheduleStore, 'schedule store'),
    buckets: (bucketOptions) => pgBucketStore(pgStore, bucketOptions),
    bucketReads: pgThrough((db) => pgBucketStore(db as PgTransactor), 'bucket store'),
    blobReferences: pgBlobReferences(pgStore),
    leases: pgLeaseStore(pgStore),
    replicas: pgReplicaStore(pgStore),
    counts,
    authority: (dataDir, files, at) => openSharedAuthority(pgAuthorityRow(pgStore), dataDir, files, at),
    firstStart: (fn) => withFirstStartLock(pgStore.pool, fn),
    replication: {
      ownership: (ownershipOptions) => createPgOwnership(pgStore, ownershipOptions),
      // Its own connection (a LISTEN belongs to a session): not one of the pool's.
      listen: (engine, listenerLog) => createWakeupListener({ connection: url, log: listenerLog, ...engineWakeups(engine) }),
    },
    isOpen: () => open,
    async close() {
      if (!open) return;
      open = false;
      await pgStore.close();
    },
  };
}
