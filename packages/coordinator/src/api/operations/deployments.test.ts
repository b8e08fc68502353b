import fs from 'node:fs';
import AdmZip from 'adm-zip';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { tarHeader } from '../../testing/crafted-tar.js';

const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';
const S3 = (key = 'app.zip', extra: Record<string, unknown> = {}) => ({ revisionType: 'S3', s3Location: { bucket: 'revisions', key, bundleType: 'zip', ...extra } });

describe('deployment operations', () => {
  let h: ApiHarness;
  let etag: string;
  beforeEach(async () => {
    h = await startApiHarness();
    await h.ok('CreateApplication', { applicationName: 'app' });
    for (const name of ['h1', 'h2', 'h3']) {
      await h.ok('RegisterOnPremisesInstance', { instanceName: name, iamUserArn: `arn:aws:iam::000000000000:user/${name}` });
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: [name], tags: [{ Key: 'env', Value: name === 'h3' ? 'other' : 'prod' }] });
    }
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }] });
    await h.ctx.buckets.createBucket('revisions', 0);
    const blob = await h.ctx.blobs.put(Readable.from([Buffer.from('not really a zip, the engine is not running here')]));
    etag = `"${blob.md5}"`;
    await h.ctx.buckets.putObject({ bucket: 'revisions', key: 'app.zip', sha256: blob.sha256, size: blob.size, etag }, 0);
  });
  afterEach(() => h.close());

  const create = (over: Record<string, unknown> = {}) => h.call('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: S3(), ...over });

  it("CreateDeployment reads a bundle's hook timeouts once: the next deployment of the same stored bundle does not read it again", async () => {
    const zip = new AdmZip();
    zip.addFile('appspec.yml', Buffer.from('version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a.sh\n      timeout: 123\n'));
    zip.addFile('a.sh', Buffer.from('#!/bin/sh\n'));
    const blob = await h.ctx.blobs.put(Readable.from([zip.toBuffer()]));
    await h.ctx.buckets.putObject({ bucket: 'revisions', key: 'timed.zip', sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, 0);
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g2', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'other', Type: 'KEY_AND_VALUE' }] });
    const first = await create({ revision: S3('timed.zip') });
    expect(h.store.getDeployment(first.body.deploymentId as string)!.eventTimeouts).toMatchObject({ AfterInstall: 123 });
    // Gone from the disk: only what was read before can give the second deployment its timeout.
    fs.rmSync(h.ctx.blobs.path(blob.sha256));
    const second = await h.ok('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g2', revision: S3('timed.zip') });
    expect(h.store.getDeployment(second.deploymentId as string)!.eventTimeouts).toMatchObject({ AfterInstall: 123 });
  });

  it('CreateDeployment resolves the targets from the tags and the stored bundle, then hands it to the engine', async () => {
    const r = await create({ deploymentConfigName: 'CodeDeployDefault.AllAtOnce', description: 'first' });
    expect(r.status).toBe(200);
    const id = r.body.deploymentId as string;
    expect(id).toMatch(/^d-[A-Z0-9]{9}$/);
    expect(h.engine.count('deploymentCreated')).toBe(1);
    const d = h.store.getDeployment(id)!;
    expect(d).toMatchObject({ status: 'Created', deploymentConfigName: 'CodeDeployDefault.AllAtOnce', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 }, fileExistsBehavior: 'DISALLOW', creator: 'user' });
    expect(d.bundle).toMatchObject({ bundleType: 'zip', size: 48 });
    expect(d.eventTimeouts).toEqual({ default: 3600 }); // the stored bytes are no zip: the agent will say so; timeouts stay the hour
    expect(h.store.listTargets(id).map((t) => t.targetId)).toEqual(['h1', 'h2']);
    const info = (await h.ok('GetDeployment', { deploymentId: id })).deploymentInfo;
    expect(info).toMatchObject({ deploymentId: id, status: 'Created', description: 'first', deploymentOverview: { Pending: 2, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 } });
    expect((await h.ok('ListDeployments', { applicationName: 'app', deploymentGroupName: 'g' })).deployments).toEqual([id]);
    expect((await h.ok('ListDeploymentTargets', { deploymentId: id })).targetIds).toEqual(['h1', 'h2']);
    const target = (await h.ok('GetDeploymentTarget', { deploymentId: id, targetId: 'h1' })).deploymentTarget;
    expect(target.deploymentTargetType).toBe('InstanceTarget');
    expect(target.instanceTarget.lifecycleEvents.map((e: { lifecycleEventName: string }) => e.lifecycleEventName)).toEqual(['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService']);
    expect((await h.ok('BatchGetDeploymentTargets', { deploymentId: id, targetIds: ['h1', 'h2'] })).deploymentTargets).toHaveLength(2);
    expect((await h.ok('ListDeploymentInstances', { deploymentId: id })).instancesList).toEqual(['h1', 'h2']);
    expect((await h.ok('GetDeploymentInstance', { deploymentId: id, instanceId: 'h2' })).instanceSummary.status).toBe('Pending');
    expect((await h.ok('BatchGetDeploymentInstances', { deploymentId: id, instanceIds: ['h1'] })).instancesSummary).toHaveLength(1);
    expect((await h.ok('BatchGetDeployments', { deploymentIds: [id, 'd-MISSING00'] })).deploymentsInfo).toHaveLength(1);
  });

  it.each([
    ['a missing application', { applicationName: 'nope' }, 'ApplicationDoesNotExistException'],
    ['no group name', { deploymentGroupName: undefined }, 'DeploymentGroupNameRequiredException'],
    ['a missing group', { deploymentGroupName: 'nope' }, 'DeploymentGroupDoesNotExistException'],
    ['no revision and none deployed before', { revision: undefined }, 'RevisionRequiredException'],
    ['a bundle not in the bucket', { revision: S3('missing.zip') }, 'RevisionDoesNotExistException'],
    ['a wrong eTag', { revision: S3('app.zip', { eTag: 'abc' }) }, 'InvalidRevisionException'],
    ['a YAML bundle type', { revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'app.zip', bundleType: 'YAML' } } }, 'InvalidRevisionException'],
    ['a GitHub revision whose archive cannot be fetched', { revision: { revisionType: 'GitHub', gitHubLocation: { repository: 'a/b', commitId: 'abcdef1' } } }, 'InvalidRevisionException'],
    ['a missing configuration', { deploymentConfigName: 'Nope' }, 'DeploymentConfigDoesNotExistException'],
    ['a Lambda configuration', { deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' }, 'InvalidDeploymentConfigNameException'],
    ['a bad fileExistsBehavior', { fileExistsBehavior: 'MERGE' }, 'InvalidFileExistsBehaviorException'],
    ['a non-boolean ignoreApplicationStopFailures', { ignoreApplicationStopFailures: 'yes' }, 'InvalidIgnoreApplicationStopFailuresValueException'],
    ['a non-boolean updateOutdatedInstancesOnly', { updateOutdatedInstancesOnly: 1 }, 'InvalidUpdateOutdatedInstancesOnlyValueException'],
    ['a long description', { description: 'x'.repeat(257) }, 'DescriptionTooLongException'],
    ['blue/green target instances', { targetInstances: { tagFilters: [] } }, 'InvalidTargetInstancesException'],
    ['an overrideAlarmConfiguration (not supported yet)', { overrideAlarmConfiguration: { enabled: false } }, 'InvalidAlarmConfigException'],
  ])('CreateDeployment refuses %s and stores nothing', async (_what, over, type) => {
    const r = await create(over);
    expect(r.status).toBe(400);
    expect(r.body.__type).toBe(type);
    expect(h.store.listDeploymentIds({})).toEqual([]);
    expect(h.engine.count('deploymentCreated')).toBe(0);
  });

  it('CreateDeployment refuses a bundle past the agents\' bundle limits, naming the limit, and stores nothing', async () => {
    // a tgz whose first header declares 100 MiB: far more than 200 times the few hundred bytes stored
    const blob = await h.ctx.blobs.put(Readable.from([zlib.gzipSync(tarHeader('zeros.bin', 100 * 1024 * 1024))]));
    await h.ctx.buckets.putObject({ bucket: 'revisions', key: 'bomb.tgz', sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, 0);
    const r = await h.refused('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: S3('bomb.tgz', { bundleType: 'tgz' }) });
    expect(r.type).toBe('InvalidRevisionException');
    expect(r.message).toMatch(/^the bundle of revision s3:\/\/revisions\/bomb\.tgz#tgz is refused: bundle expands [\d.]+ times \(104857600 bytes from \d+\), more than the limit of 200 \(bundle\.maxCompressionRatio\); the coordinator applies the agents' default bundle_limits$/);
    expect(h.store.listDeploymentIds({})).toEqual([]);
    expect(h.engine.count('deploymentCreated')).toBe(0);
  });

  it('allows one active deployment per group (DeploymentLimitExceededException)', async () => {
    const first = (await create()).body.deploymentId as string;
    const second = await h.refused('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'g', revision: S3() });
    expect(second.type).toBe('DeploymentLimitExceededException');
    expect(second.message).toContain(first);
    expect(h.store.listDeploymentIds({})).toHaveLength(1);
  });

  it('StopDeployment asks the engine, and refuses unknown and finished deployments', async () => {
    const id = (await create()).body.deploymentId as string;
    const stopped = await h.ok('StopDeployment', { deploymentId: id });
    expect(stopped).toMatchObject({ status: 'Pending' }); // the recording engine reports an event still running
    expect(stopped.statusMessage).toContain('no new lifecycle events start');
    expect(h.engine.count('stopRequested')).toBe(1);
    expect((await h.refused('StopDeployment', {})).type).toBe('DeploymentIdRequiredException');
    expect((await h.refused('StopDeployment', { deploymentId: 'd-NOPE12345' })).type).toBe('DeploymentDoesNotExistException');
    h.store.putDeployment({ ...h.store.getDeployment(id)!, status: 'Succeeded' });
    expect((await h.refused('StopDeployment', { deploymentId: id })).type).toBe('DeploymentAlreadyCompletedException');
    expect(h.engine.count('stopRequested')).toBe(1);
  });

  it.each([
    ['GetDeployment', {}, 'DeploymentIdRequiredException'],
    ['GetDeployment', { deploymentId: 'd-NOPE12345' }, 'DeploymentDoesNotExistException'],
    ['BatchGetDeployments', {}, 'DeploymentIdRequiredException'],
    ['BatchGetDeployments', { deploymentIds: Array.from({ length: 26 }, (_, i) => `d-${i}`) }, 'BatchLimitExceededException'],
    ['ListDeployments', { deploymentGroupName: 'g' }, 'ApplicationNameRequiredException'],
    ['ListDeployments', { applicationName: 'app' }, 'DeploymentGroupNameRequiredException'],
    ['ListDeployments', { applicationName: 'nope', deploymentGroupName: 'g' }, 'ApplicationDoesNotExistException'],
    ['ListDeployments', { externalId: 7 }, 'InvalidExternalIdException'],
    ['ListDeployments', { applicationName: 'app', deploymentGroupName: 'nope' }, 'DeploymentGroupDoesNotExistException'],
    ['ListDeployments', { includeOnlyStatuses: ['Done'] }, 'InvalidDeploymentStatusException'],
    ['ListDeployments', { createTimeRange: { start: 'yesterday' } }, 'InvalidTimeRangeException'],
    ['ListDeployments', { nextToken: 'garbage' }, 'InvalidNextTokenException'],
    ['ListDeploymentTargets', { deploymentId: 'd-NOPE12345' }, 'DeploymentDoesNotExistException'],
    ['ListDeploymentInstances', { deploymentId: 'd-NOPE12345' }, 'DeploymentDoesNotExistException'],
  ])('%s refuses %j with %s', async (operation, input, type) => {
    expect((await h.refused(operation, input)).type).toBe(type);
  });

  it('target and instance lists filter by status, page, and refuse bad filters and Blue/Green labels of in-place deployments', async () => {
    const id = (await create()).body.deploymentId as string;
    h.store.putTarget({ ...h.store.getTarget(id, 'h2')!, status: 'Succeeded' });
    expect((await h.ok('ListDeploymentTargets', { deploymentId: id, targetFilters: { TargetStatus: ['Succeeded'] } })).targetIds).toEqual(['h2']);
    expect((await h.ok('ListDeploymentInstances', { deploymentId: id, instanceStatusFilter: ['Pending'] })).instancesList).toEqual(['h1']);
    const refusals: [string, Record<string, unknown>, string][] = [
      ['ListDeploymentTargets', { targetFilters: { TargetStatus: ['Done'] } }, 'InvalidInstanceStatusException'],
      ['ListDeploymentTargets', { targetFilters: { Colour: ['Blue'] } }, 'InvalidTargetFilterNameException'],
      ['ListDeploymentTargets', { targetFilters: { ServerInstanceLabel: ['Green'] } }, 'InvalidDeploymentInstanceTypeException'],
      ['ListDeploymentTargets', { targetFilters: { ServerInstanceLabel: ['Teal'] } }, 'InvalidInstanceTypeException'],
      ['ListDeploymentTargets', { nextToken: 'x' }, 'InvalidNextTokenException'],
      ['ListDeploymentInstances', { instanceStatusFilter: ['Done'] }, 'InvalidInstanceStatusException'],
      ['ListDeploymentInstances', { instanceTypeFilter: ['Blue'] }, 'InvalidDeploymentInstanceTypeException'],
      ['ListDeploymentInstances', { nextToken: 'x' }, 'InvalidNextTokenException'],
    ];
    for (const [operation, input, type] of refusals) expect((await h.refused(operation, { deploymentId: id, ...input })).type, `${operation} ${JSON.stringify(input)}`).toBe(type);
    expect((await h.ok('ListDeployments', { externalId: 'stack-1' })).deployments).toEqual([]);
  });

  it('target operations refuse missing targets and oversized batches', async () => {
    const id = (await create()).body.deploymentId as string;
    expect((await h.refused('GetDeploymentTarget', { deploymentId: id })).type).toBe('DeploymentTargetIdRequiredException');
    expect((await h.refused('GetDeploymentTarget', { deploymentId: id, targetId: 'h3' })).type).toBe('DeploymentTargetDoesNotExistException');
    expect((await h.refused('BatchGetDeploymentTargets', { deploymentId: id, targetIds: [] })).type).toBe('DeploymentTargetIdRequiredException');
    expect((await h.refused('BatchGetDeploymentTargets', { deploymentId: id, targetIds: Array.from({ length: 26 }, () => 'h1') })).type).toBe('DeploymentTargetListSizeExceededException');
    expect((await h.refused('GetDeploymentInstance', { deploymentId: id, instanceId: 'h3' })).type).toBe('InstanceDoesNotExistException');
    expect((await h.refused('BatchGetDeploymentInstances', { deploymentId: id })).type).toBe('InstanceIdRequiredException');
  });

  it('updateOutdatedInstancesOnly leaves out instances that already run the revision', async () => {
    const group = h.store.getGroup('app', 'g')!;
    h.store.putHealth({ deploymentGroupId: group.deploymentGroupId, instanceName: 'h1', health: 'Healthy', revisionKey: 's3://revisions/app.zip#zip' });
    const id = (await create({ updateOutdatedInstancesOnly: true })).body.deploymentId as string;
    expect(h.store.listTargets(id).map((t) => t.targetId)).toEqual(['h2']);
  });
});

describe('the JSON protocol edge', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
  });
  afterEach(() => h.close());

  it('refuses unknown operations, bad JSON and non-POST requests in CodeDeploy shapes', async () => {
    expect((await h.refused('Frobnicate', {})).type).toBe('UnknownOperationException');
    const bad = await fetch(h.endpoint, { method: 'POST', headers: { 'x-amz-target': 'CodeDeploy_20141006.ListApplications' }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { __type: string }).__type).toBe('SerializationException');
    const arr = await fetch(h.endpoint, { method: 'POST', headers: { 'x-amz-target': 'CodeDeploy_20141006.ListApplications' }, body: '[]' });
    expect(((await arr.json()) as { __type: string }).__type).toBe('SerializationException');
    const get = await fetch(h.endpoint, { method: 'GET', headers: { 'x-amz-target': 'CodeDeploy_20141006.ListApplications' } });
    expect(((await get.json()) as { __type: string }).__type).toBe('UnknownOperationException');
  });

  it('applications: create, get, list, rename, delete, and their refusals', async () => {
    await h.ok('CreateApplication', { applicationName: 'a1' });
    expect((await h.refused('CreateApplication', { applicationName: 'a1' })).type).toBe('ApplicationAlreadyExistsException');
    expect((await h.refused('CreateApplication', {})).type).toBe('ApplicationNameRequiredException');
    expect((await h.refused('CreateApplication', { applicationName: 'bad name!' })).type).toBe('InvalidApplicationNameException');
    expect((await h.refused('CreateApplication', { applicationName: 'a2', computePlatform: 'Mainframe' })).type).toBe('InvalidComputePlatformException');
    expect((await h.refused('GetApplication', { applicationName: 'zz' })).type).toBe('ApplicationDoesNotExistException');
    expect((await h.refused('BatchGetApplications', {})).type).toBe('ApplicationNameRequiredException');
    await h.ok('UpdateApplication', { applicationName: 'a1', newApplicationName: 'a3' });
    expect((await h.ok('ListApplications', {})).applications).toEqual(['a3']);
    expect((await h.ok('BatchGetApplications', { applicationNames: ['a3'] })).applicationsInfo[0].applicationName).toBe('a3');
    expect((await h.refused('UpdateApplication', { applicationName: 'zz', newApplicationName: 'q' })).type).toBe('ApplicationDoesNotExistException');
    await h.ok('DeleteApplication', { applicationName: 'a3' });
    expect((await h.ok('ListApplications', {})).applications).toEqual([]);
  });
});

describe('CreateDeployment on a replica that refuses blue/green (replicas on one database)', () => {
  let h: ApiHarness;
  const WHY = 'the HAProxy socket is one coordinator host\'s';
  beforeEach(async () => {
    h = await startApiHarness({ blueGreenRefused: WHY });
    await h.ok('CreateApplication', { applicationName: 'app' });
    await h.ok('RegisterOnPremisesInstance', { instanceName: 'h1', iamUserArn: 'arn:aws:iam::000000000000:user/h1' });
    await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['h1'], tags: [{ Key: 'env', Value: 'prod' }] });
    const filters = [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }];
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'in-place', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: filters });
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'bg', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: filters, deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' }, loadBalancerInfo: { targetGroupInfoList: [{ name: 'web' }] } });
    await h.ok('CreateApplication', { applicationName: 'fn', computePlatform: 'Lambda' });
    await h.ok('CreateDeploymentGroup', { applicationName: 'fn', deploymentGroupName: 'g', serviceRoleArn: ROLE, deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    await h.ctx.buckets.createBucket('revisions', 0);
    const blob = await h.ctx.blobs.put(Readable.from([Buffer.from('not really a zip, the engine is not running here')]));
    await h.ctx.buckets.putObject({ bucket: 'revisions', key: 'app.zip', sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, 0);
  });
  afterEach(() => h.close());

  it('refuses blue/green deployments, naming why, and stores nothing; in-place and Lambda ones go ahead', async () => {
    const bg = await h.refused('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'bg', revision: S3() });
    expect(bg).toEqual({ type: 'UnsupportedActionForDeploymentTypeException', message: `deployment group bg deploys blue/green, which is not supported here: ${WHY}` });
    expect(h.store.listDeploymentIds({})).toEqual([]);
    expect(h.engine.count('deploymentCreated')).toBe(0);
    const appSpec = 'version: 0.0\nResources:\n  - f:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: f\n        Alias: live\n        CurrentVersion: 1\n        TargetVersion: 2\n';
    await h.ok('CreateDeployment', { applicationName: 'fn', deploymentGroupName: 'g', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } } });
    await h.ok('CreateDeployment', { applicationName: 'app', deploymentGroupName: 'in-place', revision: S3() });
    expect(h.store.listDeploymentIds({})).toHaveLength(2);
  });
});
