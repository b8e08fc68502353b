import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { createTrafficStore } from '../../store/traffic-store.js';
import { newTrafficState, trafficPlan } from '../../deployment/traffic/plan.js';

const ROLE = 'arn:aws:iam::000000000000:role/codedeploy';
const APPSPEC = `version: 0.0
Resources:
  - myLambdaFunction:
      Type: AWS::Lambda::Function
      Properties:
        Name: my-fn
        Alias: live
        CurrentVersion: 1
        TargetVersion: 2
Hooks:
  - BeforeAllowTraffic: check-before
  - AfterAllowTraffic: check-after
`;
const JSON_APPSPEC = JSON.stringify({ version: 0.0, Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'my-fn', Alias: 'live', CurrentVersion: '3', TargetVersion: '4' } } }] });
const ECS_APPSPEC = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: arn:aws:ecs:us-east-1:111122223333:task-definition/web:2
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 80
`;

describe('Lambda deployments at the API', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
    await h.ok('CreateApplication', { applicationName: 'fn-app', computePlatform: 'Lambda' });
    await h.ok('CreateDeploymentGroup', { applicationName: 'fn-app', deploymentGroupName: 'g', serviceRoleArn: ROLE, deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' });
  });
  afterEach(() => h.close());

  const create = (revision: Record<string, unknown>, over: Record<string, unknown> = {}) => h.call('CreateDeployment', { applicationName: 'fn-app', deploymentGroupName: 'g', revision, ...over });
  const inline = (content: string, type = 'AppSpecContent') => (type === 'String' ? { revisionType: 'String', string: { content } } : { revisionType: 'AppSpecContent', appSpecContent: { content } });

  it('stores the function, alias, versions, hooks and routing from an AppSpecContent revision and hands it to the engine', async () => {
    const r = await create(inline(APPSPEC));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const id = r.body.deploymentId as string;
    expect(h.engine.count('deploymentCreated')).toBe(1);
    expect(h.store.getDeployment(id)).toMatchObject({
      status: 'Created',
      computePlatform: 'Lambda',
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      lambda: {
        functionName: 'my-fn',
        alias: 'live',
        currentVersion: '1',
        targetVersion: '2',
        hooks: { BeforeAllowTraffic: 'check-before', AfterAllowTraffic: 'check-after' },
        trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } },
      },
    });
    const info = (await h.ok('GetDeployment', { deploymentId: id })).deploymentInfo;
    expect(info).toMatchObject({ computePlatform: 'Lambda', deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' }, deploymentOverview: { Pending: 1 } });
    // a function has no agent to wait for
    expect(info.deploymentStatusMessages).toEqual([]);
  });

  it('reads a JSON AppSpec from a String revision, and a YAML one from the revision bucket', async () => {
    const fromString = await create(inline(JSON_APPSPEC, 'String'), { deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    expect(fromString.status, JSON.stringify(fromString.body)).toBe(200);
    expect(h.store.getDeployment(fromString.body.deploymentId)?.lambda).toMatchObject({ currentVersion: '3', targetVersion: '4', hooks: {}, trafficRoutingConfig: { type: 'AllAtOnce' } });
    await h.ok('StopDeployment', { deploymentId: fromString.body.deploymentId });
    h.store.putDeployment({ ...h.store.getDeployment(fromString.body.deploymentId)!, status: 'Stopped' }); // the recording engine drives nothing
    await h.ctx.buckets.createBucket('revisions', 0);
    const blob = await h.ctx.blobs.put(Readable.from([Buffer.from(APPSPEC)]));
    await h.ctx.buckets.putObject({ bucket: 'revisions', key: 'appspec.yaml', sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, 0);
    const fromS3 = await create({ revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'appspec.yaml', bundleType: 'YAML' } });
    expect(fromS3.status, JSON.stringify(fromS3.body)).toBe(200);
    expect(h.store.getDeployment(fromS3.body.deploymentId)?.lambda?.functionName).toBe('my-fn');
  });

  it('refuses, storing nothing, when the AppSpec file in the bucket changes between its read and the transaction', async () => {
    await h.ctx.buckets.createBucket('revisions', 0);
    const upload = async (text: string) => {
      const blob = await h.ctx.blobs.put(Readable.from([Buffer.from(text)]));
      return () => h.ctx.buckets.putObject({ bucket: 'revisions', key: 'appspec.yaml', sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, 0);
    };
    await (await upload(APPSPEC))();
    const newer = await upload(APPSPEC.replace('TargetVersion: 2', 'TargetVersion: 3'));
    const transaction = h.ctx.store.transaction;
    vi.spyOn(h.ctx.store, 'transaction').mockImplementationOnce(async (fn) => {
      await newer(); // an upload lands after the file was read, before the transaction begins
      return transaction(fn);
    });
    const revision = { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'appspec.yaml', bundleType: 'YAML' } };
    const refused = await create(revision);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ __type: 'InvalidRevisionException', message: 's3://revisions/appspec.yaml changed while it was being read; try again' });
    expect(h.store.listDeploymentIds({})).toEqual([]);
    expect(h.engine.count('deploymentCreated')).toBe(0);
    // Tried again, it deploys what the bucket holds now.
    const again = await create(revision);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(h.store.getDeployment(again.body.deploymentId)?.lambda?.targetVersion).toBe('3');
  });

  it.each([
    ['an ECS AppSpec', inline(ECS_APPSPEC), {}, 'InvalidRevisionException'],
    ['an AppSpec without an Alias', inline(APPSPEC.replace('        Alias: live\n', '')), {}, 'InvalidRevisionException'],
    ['the same current and target version', inline(APPSPEC.replace('TargetVersion: 2', 'TargetVersion: 1')), {}, 'InvalidRevisionException'],
    ['a bundle for instances', { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'app.zip', bundleType: 'zip' } }, {}, 'InvalidRevisionException'],
    ['a GitHub revision', { revisionType: 'GitHub', gitHubLocation: { repository: 'a/b', commitId: 'abcdef1' } }, {}, 'InvalidRevisionException'],
    ['a Server configuration', inline(APPSPEC), { deploymentConfigName: 'CodeDeployDefault.OneAtATime' }, 'InvalidDeploymentConfigNameException'],
    ['an ECS configuration', inline(APPSPEC), { deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' }, 'InvalidDeploymentConfigNameException'],
  ])('refuses %s with %s and stores nothing', async (_what, revision, over, type) => {
    expect((await h.refused('CreateDeployment', { applicationName: 'fn-app', deploymentGroupName: 'g', revision, ...over })).type).toBe(type);
    expect(h.store.listDeploymentIds({})).toEqual([]);
  });

  it('PutLifecycleEventHookExecutionStatus answers with the execution id, or CodeDeploy\'s exception for what the engine says', async () => {
    const id = (await create(inline(APPSPEC))).body.deploymentId as string;
    const put = () => ({ deploymentId: id, lifecycleEventHookExecutionId: 'exec-1', status: 'Succeeded' });
    expect((await h.refused('PutLifecycleEventHookExecutionStatus', put())).type).toBe('InvalidLifecycleEventHookExecutionIdException');
    h.engine.hookReported = async () => 'recorded';
    expect(await h.ok('PutLifecycleEventHookExecutionStatus', put())).toEqual({ lifecycleEventHookExecutionId: 'exec-1' });
    h.engine.hookReported = async () => 'alreadyReported';
    expect((await h.refused('PutLifecycleEventHookExecutionStatus', put())).type).toBe('LifecycleEventAlreadyCompletedException');
    h.engine.hookReported = async () => 'deploymentCompleted';
    expect((await h.refused('PutLifecycleEventHookExecutionStatus', put())).type).toBe('DeploymentAlreadyCompletedException');
  });

  it('shows the function as the deployment\'s one LambdaTarget, with its hooks, the shift and the weight now', async () => {
    const id = (await create(inline(APPSPEC))).body.deploymentId as string;
    h.store.putDeployment({ ...h.store.getDeployment(id)!, status: 'InProgress', startTime: 1000 });
    const traffic = createTrafficStore(h.store.db);
    traffic.put({
      ...newTrafficState(id, trafficPlan({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } }, 60_000), { BeforeAllowTraffic: 'check-before', AfterAllowTraffic: 'check-after' }),
      checked: true,
      executions: [{ event: 'BeforeAllowTraffic', executionId: 'e1', functionName: 'check-before', startedAt: 1000, endedAt: 2000, deadlineAt: 9999, status: 'Succeeded', invoked: true }],
      step: { index: 0, appliedAt: 3000 },
    });
    expect((await h.ok('ListDeploymentTargets', { deploymentId: id })).targetIds).toEqual(['my-fn:live']);
    const target = (await h.ok('GetDeploymentTarget', { deploymentId: id, targetId: 'my-fn:live' })).deploymentTarget;
    expect(target.deploymentTargetType).toBe('LambdaTarget');
    expect(target.lambdaTarget).toMatchObject({
      targetId: 'my-fn:live',
      targetArn: 'arn:aws:lambda:us-east-1:000000000000:function:my-fn:live',
      status: 'InProgress',
      lambdaFunctionInfo: { functionName: 'my-fn', functionAlias: 'live', currentVersion: '1', targetVersion: '2', targetVersionWeight: 0.1 },
    });
    expect(target.lambdaTarget.lifecycleEvents.map((e: { lifecycleEventName: string; status: string }) => [e.lifecycleEventName, e.status])).toEqual([
      ['BeforeAllowTraffic', 'Succeeded'],
      ['AllowTraffic', 'InProgress'],
      ['AfterAllowTraffic', 'Pending'],
    ]);
    expect((await h.refused('GetDeploymentTarget', { deploymentId: id, targetId: 'h1' })).type).toBe('DeploymentTargetDoesNotExistException');
    expect((await h.ok('BatchGetDeploymentTargets', { deploymentId: id, targetIds: ['my-fn:live'] })).deploymentTargets).toHaveLength(1);
  });

  it('lists every predefined Lambda and ECS configuration with its compute platform and routing', async () => {
    const names = (await h.ok('ListDeploymentConfigs', {})).deploymentConfigsList as string[];
    for (const name of ['LambdaAllAtOnce', 'LambdaCanary10Percent30Minutes', 'LambdaLinear10PercentEvery1Minute', 'LambdaLinear10PercentEvery10Minutes', 'ECSAllAtOnce', 'ECSCanary10Percent15Minutes', 'ECSLinear10PercentEvery3Minutes']) {
      expect(names).toContain(`CodeDeployDefault.${name}`);
    }
    const info = (await h.ok('GetDeploymentConfig', { deploymentConfigName: 'CodeDeployDefault.LambdaLinear10PercentEvery2Minutes' })).deploymentConfigInfo;
    expect(info).toMatchObject({ computePlatform: 'Lambda', trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 2 } } });
  });
});
