import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { deploymentRecord } from '../../testing/record-builders.js';
import { newTarget } from '../../deployment/instance-lifecycle.js';

describe('FleetDeploy_20261204.ListInstances', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const register = (name: string) => h.ok('RegisterOnPremisesInstance', { instanceName: name, iamUserArn: `arn:aws:iam::123456789012:user/${name}` });

  it('lists each registered instance with its agent, certificate and latest deployment', async () => {
    await register('web-01');
    await register('web-02');
    await register('web-03');
    await register('gone');
    await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['web-01'], tags: [{ Key: 'role', Value: 'web' }] });
    await h.ok('DeregisterOnPremisesInstance', { instanceName: 'gone' });
    const t0 = h.clock.now();
    h.sessions.connected('web-01', '0.1.0', t0 + 1_000);
    h.sessions.heartbeat('web-01', t0 + 11_000);
    h.sessions.connected('web-02', '0.0.9', t0 + 2_000);
    h.sessions.disconnected('web-02', t0 + 30_000, t0 + 25_000);
    h.certificates.set('web-01', t0 + 30 * 86_400_000);
    h.store.putDeployment(deploymentRecord({ deploymentId: 'd-OLDER0001', status: 'Succeeded', createTime: t0 }));
    h.store.putTarget({ ...newTarget('d-OLDER0001', 'web-01', t0), status: 'Succeeded' });
    h.store.putDeployment(deploymentRecord({ deploymentId: 'd-NEWER0001', status: 'InProgress', createTime: t0 + 5_000, revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'shop/v2.zip', bundleType: 'zip' } } }));
    h.store.putTarget({ ...newTarget('d-NEWER0001', 'web-01', t0 + 5_000), status: 'InProgress' });

    const { instances, nextToken } = await h.ok('FleetDeploy.ListInstances');
    expect(nextToken).toBeUndefined();
    expect(instances.map((i: { instanceName: string }) => i.instanceName)).toEqual(['web-01', 'web-02', 'web-03']); // deregistered ones are not the fleet
    const s = (ms: number): number => ms / 1000;
    expect(instances[0]).toEqual({
      instanceName: 'web-01',
      tags: [{ Key: 'role', Value: 'web' }],
      registerTime: s(t0),
      agent: { status: 'Connected', agentVersion: '0.1.0', connectedTime: s(t0 + 1_000), lastHeartbeatTime: s(t0 + 11_000) },
      certificateExpiryTime: s(t0 + 30 * 86_400_000),
      lastDeployment: {
        deploymentId: 'd-NEWER0001',
        applicationName: 'app',
        deploymentGroupName: 'g',
        deploymentStatus: 'InProgress',
        instanceStatus: 'InProgress',
        revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'shop/v2.zip', bundleType: 'zip' } },
        createTime: s(t0 + 5_000),
        lastUpdatedAt: s(t0 + 5_000),
      },
    });
    expect(instances[1].agent).toEqual({ status: 'Disconnected', agentVersion: '0.0.9', connectedTime: s(t0 + 2_000), lastHeartbeatTime: s(t0 + 25_000), disconnectedTime: s(t0 + 30_000) });
    expect(instances[2]).toEqual({ instanceName: 'web-03', tags: [], registerTime: s(t0), agent: { status: 'NeverConnected' } });
  });

  it('pages a large fleet 100 at a time', async () => {
    for (let i = 0; i < 101; i++) await register(`host-${String(i).padStart(3, '0')}`);
    const first = await h.ok('FleetDeploy.ListInstances');
    expect(first.instances).toHaveLength(100);
    const second = await h.ok('FleetDeploy.ListInstances', { nextToken: first.nextToken });
    expect(second.instances.map((i: { instanceName: string }) => i.instanceName)).toEqual(['host-100']);
    expect((await h.refused('FleetDeploy.ListInstances', { nextToken: 'x' })).type).toBe('InvalidNextTokenException');
  });

  it('is not a CodeDeploy operation, and CodeDeploy operations are not fleetdeploy ones', async () => {
    expect((await h.refused('ListInstances')).type).toBe('UnknownOperationException');
    expect((await h.refused('FleetDeploy.ListApplications')).type).toBe('UnknownOperationException');
  });
});

describe('GetDeployment of a running deployment', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('says in deploymentStatusMessages which instances wait for an offline agent, while it runs', async () => {
    const t0 = h.clock.now();
    h.store.putDeployment(deploymentRecord({ deploymentId: 'd-WAITING01' }));
    h.store.putTarget({ ...newTarget('d-WAITING01', 'web-01', t0), status: 'InProgress' });
    h.store.putTarget(newTarget('d-WAITING01', 'web-02', t0));
    h.sessions.connected('web-01', '0.1.0', t0);
    h.sessions.disconnected('web-01', Date.UTC(2026, 11, 6, 23, 50, 1), t0);
    const info = async (): Promise<string[]> => (await h.ok('GetDeployment', { deploymentId: 'd-WAITING01' })).deploymentInfo.deploymentStatusMessages;
    expect(await info()).toEqual([
      'waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z) to start ApplicationStop',
      'the agent of web-02 is not connected (never connected); its events will wait for it',
    ]);
    h.sessions.connected('web-01', '0.1.0', t0 + 1);
    h.sessions.connected('web-02', '0.1.0', t0 + 1);
    expect(await info()).toEqual([]);
    h.sessions.disconnected('web-02', t0 + 2, t0 + 2);
    h.store.putDeployment(deploymentRecord({ deploymentId: 'd-WAITING01', status: 'Failed' }));
    expect(await info()).toEqual([]); // a finished deployment waits for nobody
  });
});
