import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { itWithTools } from '../../../../test/harness/system-tools.js';
import { createCoordinatorMetrics } from './coordinator-metrics.js';
import type { MetricsSources } from './coordinator-metrics.js';

const base: MetricsSources = { deploymentsByStatus: () => ({}), connectedAgents: () => 0, bucketBytes: () => 0 };

/** series are the exposition's sample lines of fleetdeploy's replica gauges. */
const replicaSeries = (text: string) => text.split('\n').filter((l) => /^fleetdeploy_replica/.test(l));

describe('coordinator metrics: the replica', () => {
  it('names the replica in an info gauge and counts, at scrape time, the live replicas it sees and the leases it holds', async () => {
    let live = 1;
    let owned = 0;
    const metrics = createCoordinatorMetrics({ ...base, replica: { id: 'replica-7f3a', liveReplicas: () => live, ownedLeases: () => owned } });
    expect(replicaSeries(await metrics.render())).toEqual(['fleetdeploy_replica_info{replica="replica-7f3a"} 1', 'fleetdeploy_replicas_live 1', 'fleetdeploy_replica_leases 0']);
    live = 3;
    owned = 2;
    expect(replicaSeries(await metrics.render())).toEqual(['fleetdeploy_replica_info{replica="replica-7f3a"} 1', 'fleetdeploy_replicas_live 3', 'fleetdeploy_replica_leases 2']);
  });

  it('has no replica gauges without a replica', async () => {
    expect(replicaSeries(await createCoordinatorMetrics(base).render())).toEqual([]);
  });

  itWithTools(['promtool'], "passes Prometheus' format check and naming lint for the replica gauges", async () => {
    const text = await createCoordinatorMetrics({ ...base, replica: { id: 'replica-a', liveReplicas: () => 2, ownedLeases: () => 0 } }).render();
    const ours = text.split('\n').filter((l) => /^# (HELP|TYPE) fleetdeploy_replica|^fleetdeploy_replica/.test(l)).join('\n') + '\n';
    const r = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8' });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
  });
});

/** pgSeries are the exposition's sample lines of the PostgreSQL transaction metrics (the histogram's count and sum, and the reruns). */
const pgSeries = (text: string) => text.split('\n').filter((l) => /^fleetdeploy_postgres_transaction_(duration_seconds_(count|sum)|reruns_total)/.test(l));

describe('coordinator metrics: PostgreSQL transactions', () => {
  it('times this replica\'s transactions by outcome and counts their reruns, in place of the SQLite histogram', async () => {
    const metrics = createCoordinatorMetrics({ ...base, backend: 'postgres' });
    metrics.postgresTransaction({ seconds: 0.004, runs: 1, committed: true });
    metrics.postgresTransaction({ seconds: 0.75, runs: 3, committed: true });
    metrics.postgresTransaction({ seconds: 30.5, runs: 40, committed: false });
    const text = await metrics.render();
    expect(pgSeries(text)).toEqual([
      'fleetdeploy_postgres_transaction_duration_seconds_sum{outcome="committed"} 0.754',
      'fleetdeploy_postgres_transaction_duration_seconds_count{outcome="committed"} 2',
      'fleetdeploy_postgres_transaction_duration_seconds_sum{outcome="failed"} 30.5',
      'fleetdeploy_postgres_transaction_duration_seconds_count{outcome="failed"} 1',
      'fleetdeploy_postgres_transaction_reruns_total 41',
    ]);
    expect(text).toContain('fleetdeploy_postgres_transaction_duration_seconds_bucket{le="0.005",outcome="committed"} 1');
    expect(text).toContain('fleetdeploy_postgres_transaction_duration_seconds_bucket{le="1",outcome="committed"} 2');
    expect(text).toContain('fleetdeploy_postgres_transaction_duration_seconds_bucket{le="30",outcome="failed"} 0');
    expect(text).not.toContain('fleetdeploy_sqlite_transaction');
  });

  it('has no PostgreSQL series on SQLite, where transactions are timed as before', async () => {
    const metrics = createCoordinatorMetrics(base);
    metrics.transaction(0.002);
    metrics.postgresTransaction({ seconds: 1, runs: 2, committed: true });
    const text = await metrics.render();
    expect(pgSeries(text)).toEqual([]);
    expect(text).not.toContain('fleetdeploy_postgres_transaction');
    expect(text).toContain('fleetdeploy_sqlite_transaction_duration_seconds_count 1');
  });

  itWithTools(['promtool'], "passes Prometheus' format check and naming lint for the PostgreSQL transaction metrics", async () => {
    const metrics = createCoordinatorMetrics({ ...base, backend: 'postgres' });
    metrics.postgresTransaction({ seconds: 0.01, runs: 2, committed: true });
    const text = await metrics.render();
    const ours = text.split('\n').filter((l) => /^# (HELP|TYPE) fleetdeploy_postgres|^fleetdeploy_postgres/.test(l)).join('\n') + '\n';
    const r = spawnSync('promtool', ['check', 'metrics'], { input: ours, encoding: 'utf8' });
    expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: '' });
  });
});
