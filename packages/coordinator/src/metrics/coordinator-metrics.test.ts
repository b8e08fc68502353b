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
