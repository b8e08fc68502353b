/**
 * The coordinator's storage in its data directory: one SQLite file (store/sqlite-store.ts), read
 * whole (quick_check) as it opens, under the data directory's lock the caller holds, so no other
 * coordinator uses it (`exclusive`). One asyncSqliteStore over the one connection serializes the
 * transactions of the engine, the API, enrolment and the traffic driver (store/async-store.ts);
 * the side stores run their statements at once (store/promised.ts), and a thread checkpoints the WAL
 * out of the commits (store/wal-checkpointer.ts).
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { Storage } from './storage.js';
import { DATABASE_FILE, openSqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import { startWalCheckpointer } from '../store/wal-checkpointer.js';
import { promised } from '../store/promised.js';
import type { LoopPriority } from '../loop-priority.js';
import { countSources, timeTransactions } from '../metrics/metrics-sources.js';
import { createAccessKeyStore, restrictDataDir } from '../auth/access-keys.js';
import { sqliteCertificateStores } from '../ca/certificate-store.js';
import { openAuthority } from '../ca/authority.js';
import { createAgentSessionStore } from '../fleet/agent-sessions.js';
import { createTriggerOutbox } from '../triggers/trigger-outbox.js';
import { sqliteTrafficJournal } from '../store/traffic-store.js';
import { sqliteScheduleStores } from '../store/schedule-store.js';
import { createBucketStore } from '../store/bucket-store.js';
import { createBlobReferences } from '../store/blob-references.js';
import { sqliteLeaseStore } from '../lease/sqlite-lease-store.js';
import { sqliteReplicaStore } from '../replicas/sqlite-replica-store.js';

/** SqliteStorageOptions: where each transaction's time goes (metrics), the API's priority over background turns, the log. */
export interface SqliteStorageOptions {
  observeTransaction: (seconds: number) => void;
  priority: LoopPriority;
  log: Logger;
}

/** openSqliteStorage opens (or makes) `<dataDir>/coordinator.db`; the caller holds the data directory's lock. */
export function openSqliteStorage(dataDir: string, options: SqliteStorageOptions): Storage {
  const file = path.join(dataDir, DATABASE_FILE);
  const store = timeTransactions(openSqliteStore(dataDir, { verify: true }), options.observeTransaction);
  try {
    restrictDataDir(dataDir, DATABASE_FILE); // the database holds the access keys' secrets
  } catch (err) {
    store.close();
    throw err;
  }
  const { db } = store;
  const asyncStore = asyncSqliteStore(store, { observe: options.observeTransaction, priority: options.priority });
  const checkpointer = startWalCheckpointer({ db, file, log: options.log });
  const sessions = createAgentSessionStore(db); // a coordinator alone: its sessions have no holder
  const outbox = createTriggerOutbox(db);
  const bucketReads = promised(createBucketStore(db));
  return {
    where: file,
    exclusive: true,
    store: asyncStore,
    // Synchronous, as before: the connection guard refuses it inside another caller's transaction.
    instanceLookup: store,
    accessKeys: promised(createAccessKeyStore(db)),
    certificates: sqliteCertificateStores(db),
    sessions: promised(sessions),
    sessionLookup: sessions,
    outbox: promised(outbox),
    outboxWrites: outbox,
    trafficJournal: sqliteTrafficJournal(db),
    schedules: sqliteScheduleStores(db),
    buckets: (bucketOptions) => promised(createBucketStore(db, bucketOptions)),
    bucketReads: () => bucketReads, // one connection: in a transaction or not
    blobReferences: promised(createBlobReferences(db)),
    leases: sqliteLeaseStore(db),
    replicas: sqliteReplicaStore(db),
    counts: countSources(db),
    authority: (dir, files, now) => openAuthority(dir, files, now),
    firstStart: (fn) => fn(), // the data directory's lock: nobody else starts on this file
    isOpen: () => db.open,
    async close() {
      await checkpointer.stop();
      if (db.open) store.close();
    },
  };
}
