/**
 * GetDeployment of a running deployment reads its instances' statuses from the store's index and the
 * records of only the instances a status message is about (an offline agent's, a held failure's): it is
 * polled while the deployment runs, and a deployment has up to 1,000 instances.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { deploymentRecord } from '../../testing/record-builders.js';
import { newTarget } from '../../deployment/instance-lifecycle.js';
import type { TargetStatus } from '../../store/records.js';

const SIZE = 1000;
const name = (i: number) => `web-${String(i).padStart(4, '0')}`;
/** statusOf spreads the statuses over the instances: a fifth each of five. */
const statusOf = (i: number): TargetStatus => (['Succeeded', 'InProgress', 'Pending', 'Failed', 'Skipped'] as const)[i % 5]!;

describe('GetDeployment of a running 1,000-instance deployment', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
    h.store.putDeployment(deploymentRecord({ deploymentId: 'd-BIG', status: 'InProgress' }));
    h.store.addTargets(Array.from({ length: SIZE }, (_, i) => ({ ...newTarget('d-BIG', name(i), 0), status: statusOf(i) })));
    for (let i = 0; i < SIZE; i++) h.live.add(name(i));
  });
  afterEach(() => h.close());

  it('counts the instances by status without reading their records', async () => {
    const reads = [vi.spyOn(h.ctx.store, 'listTargets'), vi.spyOn(h.ctx.store, 'getTarget')];
    const { deploymentInfo } = (await h.ok('GetDeployment', { deploymentId: 'd-BIG' })) as { deploymentInfo: { deploymentOverview: Record<string, number>; deploymentStatusMessages: string[] } };
    expect(deploymentInfo.deploymentOverview).toEqual({ Pending: 200, InProgress: 200, Succeeded: 200, Failed: 200, Skipped: 200, Ready: 0 });
    expect(deploymentInfo.deploymentStatusMessages).toEqual([]);
    for (const read of reads) expect(read).not.toHaveBeenCalled();
  });

  it('reads only the records of unfinished instances whose agent is offline, and names them', async () => {
    // web-0001 is InProgress, web-0002 Pending, web-0000 Succeeded: only the first two wait.
    for (const i of [0, 1, 2]) {
      h.live.delete(name(i));
      h.sessions.connected(name(i), '0.1.0', 1_000);
      h.sessions.disconnected(name(i), Date.UTC(2026, 11, 7, 12, 0, 0), 2_000);
    }
    const getTarget = vi.spyOn(h.ctx.store, 'getTarget');
    const { deploymentInfo } = (await h.ok('GetDeployment', { deploymentId: 'd-BIG' })) as { deploymentInfo: { deploymentStatusMessages: string[] } };
    expect(deploymentInfo.deploymentStatusMessages).toEqual([
      'waiting for the agent of web-0001 (offline since 2026-12-07T12:00:00Z) to start ApplicationStop',
      'the agent of web-0002 is not connected (offline since 2026-12-07T12:00:00Z); its events will wait for it',
    ]);
    expect(getTarget.mock.calls.map((c) => c[1])).toEqual([name(1), name(2)]);
  });
});
