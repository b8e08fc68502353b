/**
 * What the coordinator's metrics read from its records (metrics/coordinator-metrics.ts): counts at
 * scrape time from SQLite, lifecycle event durations from the engine's events, and SQLite
 * transaction time around the store's transactions.
 */
import type Database from 'better-sqlite3';
import type { Store } from '../store/store.js';
import type { DeploymentEvent } from '../deployment/events.js';
import type { CoordinatorMetrics } from './coordinator-metrics.js';
import type { Counts } from './cached-counts.js';
import type { PgQuery } from '../store/pg/pg-store.js';

/** countSources reads deployments by status, the bucket's bytes and trigger notifications by state, one query each. */
export function countSources(db: Database.Database): { deploymentsByStatus(): Record<string, number>; bucketBytes(): number; triggerDeliveriesByState(): Record<string, number> } {
  const byStatus = db.prepare<[], { status: string; n: number }>('SELECT status, COUNT(*) AS n FROM deployments GROUP BY status');
  const bytes = db.prepare<[], { n: number }>('SELECT COALESCE(SUM(size), 0) AS n FROM bucket_objects');
  const deliveries = db.prepare<[], { state: string; n: number }>('SELECT state, COUNT(*) AS n FROM trigger_deliveries GROUP BY state');
  return {
    deploymentsByStatus: () => Object.fromEntries(byStatus.all().map((r) => [r.status, r.n])),
    bucketBytes: () => bytes.get()?.n ?? 0,
    triggerDeliveriesByState: () => Object.fromEntries(deliveries.all().map((r) => [r.state, r.n])),
  };
}

/** pgCounts reads the same counts from PostgreSQL, together (metrics/cached-counts.ts keeps them). */
export function pgCounts(db: PgQuery): () => Promise<Counts> {
  const byState = (rows: Array<{ k: string; n: number }>): Record<string, number> => Object.fromEntries(rows.map((r) => [r.k, r.n]));
  return async () => {
    const [statuses, bytes, deliveries] = await Promise.all([
      db.query('SELECT status AS k, COUNT(*)::int AS n FROM deployments GROUP BY status'),
      db.query('SELECT COALESCE(SUM(size), 0)::float8 AS n FROM bucket_objects'),
      db.query('SELECT state AS k, COUNT(*)::int AS n FROM trigger_deliveries GROUP BY state'),
    ]);
    return { deploymentsByStatus: byState(statuses.rows), bucketBytes: Number(bytes.rows[0]?.n ?? 0), triggerDeliveriesByState: byState(deliveries.rows) };
  };
}

/**
 * observeLifecycleEvents turns the engine's events into event durations: an instance's event that
 * ended carries when the agent started and ended it (events that never started are not timed).
 */
export function observeLifecycleEvents(metrics: Pick<CoordinatorMetrics, 'lifecycleEvent'>): (e: DeploymentEvent) => void {
  return (e) => {
    if (e.type !== 'lifecycleEvent' || (e.status !== 'Succeeded' && e.status !== 'Failed')) return;
    if (e.startTime === undefined || e.endTime === undefined) return;
    metrics.lifecycleEvent(e.lifecycleEvent, e.status, (e.endTime - e.startTime) / 1000);
  };
}

/** timeTransactions is `store` with each transaction timed; one nested in another (a savepoint) is part of the outer one's time. */
export function timeTransactions<S extends Pick<Store, 'transaction'>>(store: S, observe: (seconds: number) => void): S {
  const inner = store.transaction;
  let depth = 0;
  return {
    ...store,
    transaction<T>(fn: () => T): T {
      if (depth > 0) return inner(fn);
      const started = process.hrtime.bigint();
      depth++;
      try {
        return inner(fn);
      } finally {
        depth--;
        observe(Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  };
}
