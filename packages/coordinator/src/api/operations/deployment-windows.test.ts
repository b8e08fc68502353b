import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';

const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';
const S3 = { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'app.zip', bundleType: 'zip' } };
/** The harness clock starts at 2024-01-01T00:00Z, a Monday. */
const WINDOW = { cron: '0 22 * * 1-5', durationMinutes: 120, timeZone: 'Europe/Paris' };

describe('deployment windows at the API', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
    await h.ok('CreateApplication', { applicationName: 'app' });
    await h.ok('RegisterOnPremisesInstance', { instanceName: 'h1', iamUserArn: 'arn:aws:iam::000000000000:user/h1' });
    await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['h1'], tags: [{ Key: 'env', Value: 'prod' }] });
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }] });
    await h.ctx.buckets.createBucket('revisions', 0);
    const blob = await h.ctx.blobs.put(Readable.from([Buffer.from('bundle')]));
    await h.ctx.buckets.putObject({ bucket: 'revisions', key: 'app.zip', sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, 0);
  });
  afterEach(() => h.close());

  const group = async () => (await h.ok('GetDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g' })).deploymentGroupInfo;

  it('stores deploymentWindows given to CreateDeploymentGroup and UpdateDeploymentGroup, with defaults, and null removes them', async () => {
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g2', serviceRoleArn: ROLE, deploymentWindows: { windows: [WINDOW] } });
    expect((await h.ok('GetDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g2' })).deploymentGroupInfo.deploymentWindows).toEqual({ windows: [WINDOW], outsideWindow: 'queue', windowClose: 'finish-running' });
    await h.ok('UpdateDeploymentGroup', { applicationName: 'app', currentDeploymentGroupName: 'g', deploymentWindows: { windows: [WINDOW], outsideWindow: 'refuse' } });
    expect((await group()).deploymentWindows).toMatchObject({ outsideWindow: 'refuse' });
    await h.ok('UpdateDeploymentGroup', { applicationName: 'app', currentDeploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.AllAtOnce' });
    expect((await group()).deploymentWindows).toMatchObject({ outsideWindow: 'refuse' }); // an update without the field keeps them
    await h.ok('UpdateDeploymentGroup', { applicationName: 'app', currentDeploymentGroupName: 'g', deploymentWindows: null });
    expect((await group()).deploymentWindows).toBeUndefined();
  });

  it('sets and removes them with FleetDeploy_20261204.PutDeploymentWindows / DeleteDeploymentWindows', async () => {
    const before = h.engine.count('fleetChanged');
    const put = await h.ok('FleetDeploy.PutDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'g', deploymentWindows: { windows: [WINDOW], windowClose: 'continue' } });
    expect(h.engine.count('fleetChanged')).toBe(before + 1);
    expect(put.deploymentWindows).toEqual({ windows: [WINDOW], outsideWindow: 'queue', windowClose: 'continue' });
    expect((await group()).deploymentWindows).toEqual(put.deploymentWindows);
    const told = h.engine.count('fleetChanged'); // queued deployments look at the new windows
    expect((await h.ok('FleetDeploy.GetDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'g' })).deploymentWindows).toEqual(put.deploymentWindows);
    await h.ok('FleetDeploy.DeleteDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'g' });
    expect(h.engine.count('fleetChanged')).toBe(told + 1);
    expect((await group()).deploymentWindows).toBeUndefined();
    expect((await h.ok('FleetDeploy.GetDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'g' })).deploymentWindows).toBeUndefined();
  });

  it.each([
    ['a bad cron expression', { windows: [{ ...WINDOW, cron: 'nightly' }] }, 'deploymentWindows.windows[0].cron "nightly" is not a valid cron expression'],
    ['an unknown time zone', { windows: [{ ...WINDOW, timeZone: 'Paris' }] }, 'deploymentWindows.windows[0].timeZone "Paris" is not an IANA time zone name'],
    ['a bad outsideWindow', { windows: [WINDOW], outsideWindow: 'later' }, 'deploymentWindows.outsideWindow must be queue or refuse, got "later"'],
  ])('refuses %s with InvalidDeploymentWindowsException naming the field, and stores nothing', async (_what, windows, message) => {
    for (const [op, input] of [
      ['UpdateDeploymentGroup', { applicationName: 'app', currentDeploymentGroupName: 'g', deploymentWindows: windows }],
      ['FleetDeploy.PutDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'g', deploymentWindows: windows }],
    ] as const) {
      const r = await h.call(op, input);
      expect(r.status).toBe(400);
      expect(r.body.__type).toBe('InvalidDeploymentWindowsException');
      expect(r.body.message).toContain(message);
    }
    expect((await group()).deploymentWindows).toBeUndefined();
  });

  it('PutDeploymentWindows needs the field and an existing group', async () => {
    expect((await h.call('FleetDeploy.PutDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'g' })).body).toMatchObject({ __type: 'InvalidDeploymentWindowsException', message: expect.stringContaining('deploymentWindows is required') });
    expect((await h.call('FleetDeploy.DeleteDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'nope' })).body.__type).toBe('DeploymentGroupDoesNotExistException');
  });

  it('CreateDeployment outside every window of a refusing group fails with DeploymentWindowClosedException and stores nothing', async () => {
    await h.ok('FleetDeploy.PutDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'g', deploymentWindows: { windows: [WINDOW], outsideWindow: 'refuse' } });
    const r = await h.call('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: S3 });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      __type: 'DeploymentWindowClosedException',
      message: 'deployment group g refuses deployments outside its deployment windows (outsideWindow: refuse) and no window is open now; the next window "0 22 * * 1-5" (Europe/Paris, 120 min) opens at 2024-01-01T21:00:00.000Z',
    });
    expect(h.store.listDeploymentIds({})).toEqual([]);
    expect(h.engine.count('deploymentCreated')).toBe(0);
  });

  it('CreateDeployment inside a window of a refusing group, or outside one of a queueing group, is accepted', async () => {
    await h.ok('FleetDeploy.PutDeploymentWindows', { applicationName: 'app', deploymentGroupName: 'g', deploymentWindows: { windows: [{ cron: '0 0 * * *', durationMinutes: 30 }], outsideWindow: 'refuse' } });
    expect((await h.call('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: S3 })).status).toBe(200);
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'q', serviceRoleArn: ROLE, deploymentWindows: { windows: [WINDOW] } });
    expect((await h.call('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'q', revision: S3 })).status).toBe(200);
  });
});
