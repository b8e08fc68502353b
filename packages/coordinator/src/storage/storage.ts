/**
 * Storage is everything the composition root (coordinator.ts) needs from where the coordinator
 * keeps its state, in one shape whichever the backend: SQLite in the data directory
 * (sqlite-storage.ts, one coordinator) or a PostgreSQL database replicas share (pg-storage.ts).
 * The composition root does not branch on the backend beyond `exclusive`.
 */
import type { AsyncStore } from '../store/async-store.js';
import type { InstanceLookup } from '../rpc/agent-server.js';
import type { AsyncAccessKeyStore, AsyncAgentSessionStore, AsyncBlobReferences, AsyncTriggerOutbox } from '../store/pg/pg-side-stores.js';
import type { AsyncBucketStore } from '../store/pg/pg-bucket-store.js';
import type { BucketStoreOptions } from '../store/bucket-store.js';
import type { BucketReadsOpener } from '../api/context.js';
import type { CertificateStoreOpener } from '../ca/certificate-store.js';
import type { AgentSessionStore } from '../fleet/agent-sessions.js';
import type { TrafficJournal } from '../store/traffic-store.js';
import type { ScheduleStoreOpener } from '../store/schedule-store.js';
import type { TriggerRecorderDeps } from '../triggers/trigger-recorder.js';
import type { LeaseStore } from '../lease/lease-store.js';
import type { ReplicaStore } from '../replicas/replica-store.js';
import type { CountSources } from '../metrics/cached-counts.js';
import type { Authority, CaFiles } from '../ca/authority.js';
import type { Logger } from 'pino';
import type { DeploymentOwnership } from '../deployment/ownership.js';
import type { PgOwnershipOptions } from '../deployment/pg-ownership.js';
import type { Engine } from '../deployment/engine.js';
import type { WakeupListener } from '../store/pg/pg-wakeups.js';

/**
 * Replication is what replicas sharing a database need beyond the stores (PostgreSQL): each
 * deployment's lease, so that one replica drives it (deployment/ownership.ts), and the wake-ups that
 * carry commands and agents' reports between replicas (store/pg/pg-wakeups.ts).
 */
export interface Replication {
  ownership(options: PgOwnershipOptions): DeploymentOwnership;
  /** listen starts the wake-up listener that hands `engine` what other replicas wrote for it. */
  listen(engine: Pick<Engine, 'commandsWaiting' | 'reportsWaiting' | 'wakeupsMissed'> & { eventsRelayed?(payloads: readonly string[]): void }, log: Logger): WakeupListener;
}

/** Storage is one opened backend; close it last. */
export interface Storage {
  /** What the logs call it: the SQLite file, or the database URL without its password. */
  readonly where: string;
  /**
   * exclusive: no other coordinator uses this storage (SQLite, under the data directory's lock), so
   * what an earlier process left (membership rows, trigger claims) is its own to clear, and blob
   * files are freed without a grace period. False on PostgreSQL: other replicas may be running.
   */
  readonly exclusive: boolean;
  readonly store: AsyncStore;
  /** Where the agent server reads a Hello's instance: at once on SQLite, asynchronously on PostgreSQL. */
  readonly instanceLookup: InstanceLookup;
  readonly accessKeys: AsyncAccessKeyStore;
  readonly certificates: CertificateStoreOpener;
  /** The agent sessions this replica holds (PostgreSQL: held by its replica id). */
  readonly sessions: AsyncAgentSessionStore;
  /** The sessions read synchronously, for the engine's `offlineSince` (PostgreSQL: a cache, fleet/cached-session-lookup.ts). */
  readonly sessionLookup: Pick<AgentSessionStore, 'get'>;
  readonly outbox: AsyncTriggerOutbox;
  /** Where the trigger recorder writes an event's notifications, inside the event's transaction. */
  readonly outboxWrites: TriggerRecorderDeps['outbox'];
  readonly trafficJournal: TrafficJournal;
  readonly schedules: ScheduleStoreOpener;
  buckets(options: BucketStoreOptions): AsyncBucketStore;
  /** The bucket's reads through the store or one of its transactions' handles (a read in a transaction's body joins it). */
  readonly bucketReads: BucketReadsOpener;
  readonly blobReferences: AsyncBlobReferences;
  readonly leases: LeaseStore;
  readonly replicas: ReplicaStore;
  /** The counts /metrics shows; they answer without waiting for the database. */
  readonly counts: CountSources;
  /** authority loads the CA agents enrol with (made at first start). */
  authority(dataDir: string, files: CaFiles, now: number): Promise<Authority>;
  /** firstStart runs `fn` so that replicas starting together run it one at a time (the first admin key). */
  firstStart<T>(fn: () => Promise<T>): Promise<T>;
  /** replication is there when other replicas may share the storage (PostgreSQL); a coordinator alone has none. */
  readonly replication?: Replication;
  /** isOpen says whether the storage is still open (/healthz). */
  isOpen(): boolean;
  /** close stops its background work and closes its connections. */
  close(): Promise<void>;
}
