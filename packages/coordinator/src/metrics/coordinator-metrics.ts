/**
 * The coordinator's Prometheus metrics (prom-client), served at `/metrics` on the API port. Counts
 * that the coordinator already keeps (deployments by status, connected agents, stored bytes) are read
 * at scrape time; events are counted as they happen. Every name starts with `fleetdeploy_`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PgTransactionTiming } from '../store/pg/pg-store.js';

/** MetricsSources are what the scrape-time gauges read. */
export interface MetricsSources {
  deploymentsByStatus(): Record<string, number>;
  connectedAgents(): number;
  bucketBytes(): number;
  /** Trigger notifications in the outbox by state (pending, delivered, dead); absent: no such gauge. */
  triggerDeliveriesByState?(): Record<string, number>;
  /** The replica this coordinator is (issue 13); absent: no replica gauges. */
  replica?: ReplicaMetricsSources;
  /** The store's backend: its transactions are timed under its own name (default sqlite). */
  backend?: 'sqlite' | 'postgres';
}

/** ReplicaMetricsSources: which replica, and what it sees and owns. */
export interface ReplicaMetricsSources {
  id: string;
  /** liveReplicas is how many live replicas it saw at its last look, itself included. */
  liveReplicas(): number;
  /** ownedLeases is how many leases it holds (0 without a Leaser). */
  ownedLeases(): number;
}

/** CoordinatorMetrics records what happens and renders the exposition text. */
export interface CoordinatorMetrics {
  readonly contentType: string;
  apiRequest(operation: string, outcome: string): void;
  lifecycleEvent(event: string, status: string, seconds: number): void;
  streamRefused(): void;
  /** transaction times an SQLite transaction. */
  transaction(seconds: number): void;
  /** postgresTransaction records how a PostgreSQL transaction of this replica went. */
  postgresTransaction(timing: PgTransactionTiming): void;
  render(): Promise<string>;
}

/** EVENT_BUCKETS are lifecycle event durations in seconds: a no-op hook to an hour-long install. */
const EVENT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** TRANSACTION_BUCKETS are SQLite transaction times in seconds. */
const TRANSACTION_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];
/**
 * PG_TRANSACTION_BUCKETS are PostgreSQL transaction times in seconds: a round trip or more each
 * (about a millisecond on one host), up to the 30 s a refused transaction keeps being run again.
 */
const PG_TRANSACTION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** createCoordinatorMetrics builds the registry; `process` metrics (CPU, RSS, event loop lag) included. */
export function createCoordinatorMetrics(sources: MetricsSources): CoordinatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetdeploy_' });
  new Gauge({
    name: 'fleetdeploy_deployments',
    help: 'Deployments by status (all kept deployments, finished ones included)',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [status, n] of Object.entries(sources.deploymentsByStatus())) this.set({ status }, n);
    },
  });
  new Gauge({
    name: 'fleetdeploy_agents_connected',
    help: 'Agents with a live stream to this coordinator',
    registers: [registry],
    collect() {
      this.set(sources.connectedAgents());
    },
  });
  new Gauge({
    name: 'fleetdeploy_bucket_bytes',
    help: 'Bytes of the objects in the revision bucket',
    registers: [registry],
    collect() {
      this.set(sources.bucketBytes());
    },
  });
  if (sources.triggerDeliveriesByState !== undefined) {
    const byState = sources.triggerDeliveriesByState;
    new Gauge({
      name: 'fleetdeploy_trigger_notifications',
      help: 'Trigger notifications in the outbox by state: pending (to send or retry), delivered (kept a week), dead (gave up after trigger_max_attempts)',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const state of ['pending', 'delivered', 'dead']) this.set({ state }, 0);
        for (const [state, n] of Object.entries(byState())) this.set({ state }, n);
      },
    });
  }
  if (sources.replica !== undefined) {
    const replica = sources.replica;
    // An info gauge: the replica id as a label on a constant 1, so a scrape says which replica answered.
    new Gauge({ name: 'fleetdeploy_replica_info', help: 'The coordinator replica answering this scrape, by its id (always 1)', labelNames: ['replica'], registers: [registry] }).set({ replica: replica.id }, 1);
    new Gauge({
      name: 'fleetdeploy_replicas_live',
      help: 'Live coordinator replicas on the database as this replica last saw them, itself included',
      registers: [registry],
      collect() {
        this.set(replica.liveReplicas());
      },
    });
    new Gauge({
      name: 'fleetdeploy_replica_leases',
      help: 'Leases (deployments, groups) this replica holds',
      registers: [registry],
      collect() {
        this.set(replica.ownedLeases());
      },
    });
  }
  const requests = new Counter({ name: 'fleetdeploy_api_requests_total', help: 'CodeDeploy API requests by operation and outcome (ok, or the error type)', labelNames: ['operation', 'outcome'], registers: [registry] });
  const events = new Histogram({ name: 'fleetdeploy_lifecycle_event_duration_seconds', help: 'Lifecycle events on instances, from the agent starting them to their result', labelNames: ['event', 'status'], buckets: EVENT_BUCKETS, registers: [registry] });
  const refused = new Counter({ name: 'fleetdeploy_agent_streams_refused_total', help: 'Agent streams told to back off by the admission rate (streams_per_second)', registers: [registry] });
  // Each backend's transactions under its own name: the two are not alike (one process's file vs. round trips to a shared server).
  const postgres = sources.backend === 'postgres';
  const transactions = postgres ? undefined : new Histogram({ name: 'fleetdeploy_sqlite_transaction_duration_seconds', help: 'Time spent in SQLite transactions', buckets: TRANSACTION_BUCKETS, registers: [registry] });
  const pgTransactions = postgres
    ? new Histogram({
        name: 'fleetdeploy_postgres_transaction_duration_seconds',
        help: 'PostgreSQL transactions of this replica by outcome (committed, failed): from asking for one to its commit or failure, the wait for a pooled connection and every rerun included',
        labelNames: ['outcome'],
        buckets: PG_TRANSACTION_BUCKETS,
        registers: [registry],
      })
    : undefined;
  const pgReruns = postgres
    ? new Counter({ name: 'fleetdeploy_postgres_transaction_reruns_total', help: 'PostgreSQL transactions of this replica run again after the server refused them for a concurrent one (serialization failure, deadlock)', registers: [registry] })
    : undefined;
  return {
    contentType: registry.contentType,
    apiRequest: (operation, outcome) => requests.inc({ operation: operation === '' ? 'unknown' : operation, outcome }),
    lifecycleEvent: (event, status, seconds) => events.observe({ event, status }, seconds),
    streamRefused: () => refused.inc(),
    transaction: (seconds) => transactions?.observe(seconds),
    postgresTransaction(timing) {
      pgTransactions?.observe({ outcome: timing.committed ? 'committed' : 'failed' }, timing.seconds);
      if (timing.runs > 1) pgReruns?.inc(timing.runs - 1);
    },
    render: () => registry.metrics(),
  };
}
