/**
 * ECS deployments end to end: a real coordinator replacing the task set of an EXTERNAL-controller
 * ECS service in moto_server and shifting its production listener's forward weights between the
 * blue and green target groups (@aws-sdk/client-ecs, @aws-sdk/client-elastic-load-balancing-v2).
 * Hook functions are played through the recording Lambda proxy. One CodeDeploy minute lasts 300 ms
 * here (test_only_minute_ms).
 */
import { ContinueDeploymentCommand, CreateApplicationCommand, CreateDeploymentGroupCommand, GetDeploymentTargetCommand, ListDeploymentTargetsCommand, StopDeploymentCommand, UpdateDeploymentGroupCommand } from '@aws-sdk/client-codedeploy';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateServiceCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';
import { lambdaAppSpec } from '../lambda/lambda-world.js';
import type { Service, Weights } from './ecs-world.js';
import { EcsWorld, ecsAppSpec } from './ecs-world.js';

const MINUTE_MS = 300;
const HOOKS = ['BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AfterAllowTraffic'];

describeWithTools(['moto_server'], 'ECS deployments against moto (task sets, listener weights, hooks, stop)', () => {
  const world = new EcsWorld();

  beforeAll(async () => {
    await world.start({ minuteMs: MINUTE_MS, hookTimeoutSeconds: 20 });
  }, 120_000);
  afterAll(async () => {
    await world.stop();
  });

  const pairs = (seen: Weights[]) => seen.map((w) => [w.blue ?? 0, w.green ?? 0]);
  const gaps = (seen: Weights[]) => seen.slice(2).map((w, i) => (w.at - seen[i + 1]!.at) / MINUTE_MS);

  /** expectOriginal checks that all traffic is back on blue, the original task set is primary and the replacement is gone. */
  async function expectOriginal(svc: Service): Promise<void> {
    expect(await world.weights(svc, svc.prodListenerArn)).toMatchObject({ blue: 100 });
    expect((await world.weights(svc, svc.prodListenerArn)).green ?? 0).toBe(0);
    expect((await world.weights(svc, svc.testListenerArn)).green ?? 0).toBe(0);
    const sets = await world.taskSets(svc);
    expect(sets.map((t) => [t.externalId, t.status])).toEqual([['original', 'PRIMARY']]);
  }

  it('ECSAllAtOnce with every hook: task set, test listener, hooks in order, then all traffic on green; the original goes after the termination wait', async () => {
    // given service aao behind blue, in a group with a one-minute termination wait
    const svc = await world.service('aao');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSAllAtOnce', 1);
    const seen = world.watch(svc);
    // when task definition 2 is deployed and every hook reports Succeeded
    const hooks = Object.fromEntries(HOOKS.map((e) => [e, `aao-${e}`]));
    const id = await world.deploy('aao', ecsAppSpec(svc.taskDefinitions[1], hooks));
    const order: string[] = [];
    for (const event of HOOKS) {
      const call = await world.invoked(`aao-${event}`, id);
      order.push(event);
      if (event === 'BeforeInstall') expect((await world.taskSets(svc)).length).toBe(1); // nothing replaced yet
      if (event === 'AfterAllowTestTraffic') {
        // the replacement exists, serves green, and only the test listener reaches it
        const ours = (await world.taskSets(svc)).find((t) => t.externalId === id);
        expect(ours).toMatchObject({ status: 'ACTIVE', taskDefinition: svc.taskDefinitions[1], launchType: 'FARGATE', platformVersion: '1.4.0', scale: { unit: 'PERCENT', value: 100 } });
        expect(ours?.networkConfiguration?.awsvpcConfiguration).toMatchObject({ subnets: ['subnet-1234abcd'], securityGroups: ['sg-1234abcd'], assignPublicIp: 'DISABLED' });
        expect(ours?.loadBalancers?.[0]).toMatchObject({ targetGroupArn: svc.greenArn, containerName: 'web', containerPort: 80 });
        expect(await world.weights(svc, svc.testListenerArn)).toMatchObject({ green: 100 });
        expect(await world.weights(svc, svc.prodListenerArn)).toMatchObject({ blue: 100 });
      }
      await world.hook(`aao-${event}`, id, 'Succeeded');
      expect(call.payload.DeploymentId).toBe(id);
    }
    expect(order).toEqual(HOOKS);
    // the original stays for the termination wait, then is deleted
    await eventually(async () => expect((await world.taskSets(svc)).find((t) => t.externalId === id)?.status).toBe('PRIMARY'), 10_000, 25);
    expect((await world.taskSets(svc)).map((t) => t.externalId).sort()).toEqual([id, 'original'].sort());
    const d = await world.finished(id);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    expect(d.computePlatform).toBe('ECS');
    expect(d.deploymentStyle).toEqual({ deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' });
    expect((await world.taskSets(svc)).map((t) => [t.externalId, t.status])).toEqual([[id, 'PRIMARY']]);
    expect(pairs(seen)).toEqual([[100, 0], [0, 100]]);
    // the deployment's one target is the service, with CodeDeploy's eight ECS lifecycle events
    expect((await world.codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId: id }))).targetIds).toEqual(['aao:aao']);
    const target = (await world.codedeploy.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: 'aao:aao' }))).deploymentTarget;
    expect(target?.deploymentTargetType).toBe('ECSTarget');
    expect(target?.ecsTarget?.status).toBe('Succeeded');
    expect(target?.ecsTarget?.targetArn).toMatch(/^arn:aws:ecs:.*:service\/aao\/aao$/);
    expect(target?.ecsTarget?.lifecycleEvents?.map((e) => `${e.lifecycleEventName}:${e.status}`)).toEqual(
      ['BeforeInstall', 'Install', 'AfterInstall', 'AllowTestTraffic', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'].map((e) => `${e}:Succeeded`),
    );
    expect(target?.ecsTarget?.taskSetsInfo?.map((t) => [t.taskSetLabel, t.trafficWeight])).toEqual([['Blue', 0], ['Green', 100]]);
  }, 60_000);

  it('ContinueDeployment TERMINATION_WAIT ends the termination wait at once; before the wait it is refused', async () => {
    // given a group that keeps the original for 1,000 minutes (300 s here)
    const svc = await world.service('skipwait');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSAllAtOnce', 1000);
    const id = await world.deploy('skipwait', ecsAppSpec(svc.taskDefinitions[1], { BeforeAllowTraffic: 'skipwait-check' }));
    await world.invoked('skipwait-check', id);
    const skip = () => world.codedeploy.send(new ContinueDeploymentCommand({ deploymentId: id, deploymentWaitType: 'TERMINATION_WAIT' }));
    await expect(skip()).rejects.toThrow(expect.objectContaining({ name: 'DeploymentIsNotInReadyStateException' }));
    await world.hook('skipwait-check', id, 'Succeeded');
    await eventually(async () => expect((await world.taskSets(svc)).find((t) => t.externalId === id)?.status).toBe('PRIMARY'), 10_000, 25);
    // when the wait is skipped, the original goes now and the deployment succeeds
    await eventually(() => skip(), 5_000, 25);
    const d = await world.finished(id, 10_000);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    expect((await world.taskSets(svc)).map((t) => t.externalId)).toEqual([id]);
    await expect(skip()).rejects.toThrow(expect.objectContaining({ name: 'DeploymentAlreadyCompletedException' }));
  }, 60_000);

  it('ECSCanary10Percent5Minutes: 10 % on green, then 5 minutes later all of it', async () => {
    const svc = await world.service('canary');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSCanary10Percent5Minutes');
    const seen = world.watch(svc);
    const id = await world.deploy('canary', ecsAppSpec(svc.taskDefinitions[1]));
    const d = await world.finished(id);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    // The deployment may end before the watcher's next poll of the listener (moto is slow under load).
    await eventually(() => expect(pairs(seen).at(-1)).toEqual([0, 100]));
    expect(pairs(seen)).toEqual([[100, 0], [90, 10], [0, 100]]);
    const [gap] = gaps(seen);
    expect(gap).toBeGreaterThanOrEqual(5 - 50 / MINUTE_MS); // the watcher polls every 20 ms
    expect(gap).toBeLessThan(5 + 4_000 / MINUTE_MS);
    expect((await world.taskSets(svc)).map((t) => t.externalId)).toEqual([id]);
  }, 60_000);

  it('ECSLinear10PercentEvery1Minutes: 10 %, 20 % … 90 % a minute apart, then all of it', async () => {
    const svc = await world.service('linear');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes');
    const seen = world.watch(svc);
    const id = await world.deploy('linear', ecsAppSpec(svc.taskDefinitions[1]));
    const d = await world.finished(id);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    // The deployment may end before the watcher's next poll of the listener (moto is slow under load).
    await eventually(() => expect(pairs(seen).at(-1)).toEqual([0, 100]));
    expect(pairs(seen)).toEqual([[100, 0], ...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((g) => [100 - g, g]), [0, 100]]);
    for (const gap of gaps(seen)) {
      expect(gap).toBeGreaterThanOrEqual(1 - 50 / MINUTE_MS);
      expect(gap).toBeLessThan(1 + 3_000 / MINUTE_MS);
    }
  }, 60_000);

  it('a BeforeAllowTraffic hook reporting Failed: Failed with HOOK_EXECUTION_FAILURE, 100 % blue, the replacement deleted', async () => {
    const svc = await world.service('hookfail');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSAllAtOnce');
    const seen = world.watch(svc);
    const id = await world.deploy('hookfail', ecsAppSpec(svc.taskDefinitions[1], { BeforeAllowTraffic: 'hookfail-check' }));
    await world.invoked('hookfail-check', id);
    expect((await world.taskSets(svc)).some((t) => t.externalId === id)).toBe(true);
    await world.hook('hookfail-check', id, 'Failed');
    const d = await world.finished(id);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    await expectOriginal(svc);
    expect(pairs(seen).every(([, green]) => green === 0)).toBe(true);
    const target = (await world.codedeploy.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: 'hookfail:hookfail' }))).deploymentTarget?.ecsTarget;
    expect(target?.status).toBe('Failed');
    expect(target?.lifecycleEvents?.map((e) => `${e.lifecycleEventName}:${e.status}`)).toEqual([
      'BeforeInstall:Succeeded', 'Install:Succeeded', 'AfterInstall:Succeeded', 'AllowTestTraffic:Succeeded', 'AfterAllowTestTraffic:Succeeded',
      'BeforeAllowTraffic:Failed', 'AllowTraffic:Skipped', 'AfterAllowTraffic:Skipped',
    ]);
  }, 60_000);

  it('StopDeployment in the middle of a linear shift: Stopped with MANUAL_STOP, 100 % blue, the replacement deleted', async () => {
    const svc = await world.service('stop');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes');
    const seen = world.watch(svc);
    const id = await world.deploy('stop', ecsAppSpec(svc.taskDefinitions[1]));
    await eventually(() => expect(seen.at(-1)?.green).toBe(20), 20_000, 25);
    const out = await world.codedeploy.send(new StopDeploymentCommand({ deploymentId: id }));
    expect(out.status).toBe('Pending');
    const d = await world.finished(id);
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation?.code).toBe('MANUAL_STOP');
    await expectOriginal(svc);
    await eventually(() => expect(seen.at(-1)).toMatchObject({ blue: 100 }), 5_000, 25);
    expect(pairs(seen)).toEqual([[100, 0], [90, 10], [80, 20], [100, 0]]);
  }, 60_000);

  it('an alarm in ALARM mid-shift: Stopped with ALARM_ACTIVE, 100 % blue, the replacement deleted', async () => {
    const cloudwatch = new CloudWatchClient({ endpoint: world.moto.url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 });
    await cloudwatch.send(new PutMetricAlarmCommand({ AlarmName: 'ecs-5xx', Namespace: 'fleetdeploy/test', MetricName: '5xx', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'ecs-5xx', StateValue: 'OK', StateReason: 'test' }));
    const svc = await world.service('alarmed');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSCanary10Percent15Minutes', 0, { alarmConfiguration: { enabled: true, alarms: [{ name: 'ecs-5xx' }] } });
    const seen = world.watch(svc);
    const id = await world.deploy('alarmed', ecsAppSpec(svc.taskDefinitions[1]));
    await eventually(() => expect(seen.at(-1)?.green).toBe(10), 20_000, 25);
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'ecs-5xx', StateValue: 'ALARM', StateReason: 'test' }));
    const d = await world.finished(id);
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation?.code).toBe('ALARM_ACTIVE');
    await expectOriginal(svc);
  }, 60_000);

  it('a service that does not exist, or is not on the EXTERNAL deployment controller: Failed with INVALID_ECS_SERVICE, nothing created', async () => {
    const svc = await world.service('notexternal');
    await world.ecs.send(new CreateServiceCommand({ cluster: 'notexternal', serviceName: 'rolling', desiredCount: 1, launchType: 'FARGATE' }));
    await world.ecsApp(svc, 'CodeDeployDefault.ECSAllAtOnce', 0, { ecsServices: [{ serviceName: 'missing', clusterName: 'notexternal' }] });
    for (const [service, words] of [['missing', 'does not exist'], ['rolling', 'needs EXTERNAL']]) {
      await world.codedeploy.send(new UpdateDeploymentGroupCommand({ applicationName: 'notexternal', currentDeploymentGroupName: 'notexternal-group', ecsServices: [{ serviceName: service, clusterName: 'notexternal' }] }));
      const id = await world.deploy('notexternal', ecsAppSpec(svc.taskDefinitions[1]));
      const d = await world.finished(id);
      expect(d.status).toBe('Failed');
      expect(d.errorInformation?.code).toBe('INVALID_ECS_SERVICE');
      expect(d.errorInformation?.message).toContain(words);
    }
    expect((await world.taskSets(svc)).map((t) => t.externalId)).toEqual(['original']);
  }, 60_000);

  it("an original task set serving neither of the group's target groups: Failed with ELASTIC_LOAD_BALANCING_INVALID, nothing created", async () => {
    const svc = await world.service('tgs');
    const other = await world.service('tgs-other');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSAllAtOnce', 0, {
      loadBalancerInfo: { targetGroupPairInfoList: [{ targetGroups: [{ name: 'tgs-other-blue' }, { name: 'tgs-other-green' }], prodTrafficRoute: { listenerArns: [other.prodListenerArn] } }] },
    });
    const id = await world.deploy('tgs', ecsAppSpec(svc.taskDefinitions[1]));
    const d = await world.finished(id);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('ELASTIC_LOAD_BALANCING_INVALID');
    expect(d.errorInformation?.message).toContain('neither of the group');
    expect((await world.taskSets(svc)).map((t) => t.externalId)).toEqual(['original']);
  }, 60_000);

  it("bad input gets CodeDeploy's exceptions", async () => {
    const svc = await world.service('bad');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSAllAtOnce');
    const refused = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p;
      } catch (err) {
        return `${(err as Error).name}: ${(err as Error).message}`;
      }
      throw new Error('the request was accepted');
    };
    // a Lambda AppSpec for an ECS application, and an ECS AppSpec for a Lambda one
    expect(await refused(world.deploy('bad', lambdaAppSpec('fn')))).toMatch(/^InvalidRevisionException: .*ECS/);
    await world.codedeploy.send(new CreateApplicationCommand({ applicationName: 'bad-lambda', computePlatform: 'Lambda' }));
    await world.codedeploy.send(new CreateDeploymentGroupCommand({ applicationName: 'bad-lambda', deploymentGroupName: 'bad-lambda-group', serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy' }));
    expect(await refused(world.deploy('bad-lambda', ecsAppSpec(svc.taskDefinitions[1])))).toMatch(/^InvalidRevisionException: .*Lambda/);
    // ECS groups: the service, the target group pair, the termination wait
    const group = (name: string, extra: Record<string, unknown>) =>
      world.codedeploy.send(new CreateDeploymentGroupCommand({ applicationName: 'bad', deploymentGroupName: name, serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy', ...extra }));
    const pair = { targetGroups: [{ name: 'bad-blue' }, { name: 'bad-green' }], prodTrafficRoute: { listenerArns: [svc.prodListenerArn] } };
    expect(await refused(group('g1', { loadBalancerInfo: { targetGroupPairInfoList: [pair] } }))).toMatch(/^InvalidECSServiceException: ecsServices/);
    const ecsServices = [{ serviceName: 'bad', clusterName: 'bad' }];
    expect(await refused(group('g2', { ecsServices, loadBalancerInfo: { targetGroupPairInfoList: [{ ...pair, targetGroups: [{ name: 'bad-blue' }] }] } }))).toMatch(/^InvalidTargetGroupPairException: .*exactly two/);
    expect(await refused(group('g3', { ecsServices, loadBalancerInfo: { targetGroupPairInfoList: [{ targetGroups: pair.targetGroups }] } }))).toMatch(/^InvalidTargetGroupPairException: .*prodTrafficRoute/);
    expect(
      await refused(group('g4', { ecsServices, loadBalancerInfo: { targetGroupPairInfoList: [pair] }, blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 3000 } } })),
    ).toMatch(/^InvalidBlueGreenDeploymentConfigurationException: .*terminationWaitTimeInMinutes/);
    expect(await refused(group('g5', { ecsServices, loadBalancerInfo: { targetGroupPairInfoList: [pair] }, deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' }))).toMatch(/^InvalidDeploymentConfigNameException/);
  }, 60_000);

  it('a coordinator SIGKILLed in the middle of a linear shift resumes from the recorded step: the weights never go back or skip', async () => {
    const svc = await world.service('killed');
    await world.ecsApp(svc, 'CodeDeployDefault.ECSLinear10PercentEvery3Minutes');
    const seen = world.watch(svc);
    const id = await world.deploy('killed', ecsAppSpec(svc.taskDefinitions[1]));
    await eventually(() => expect(seen.at(-1)?.green).toBe(30), 30_000, 25);
    await world.restartAfterKill();
    const d = await world.finished(id, 60_000);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    // each change the watcher saw is the next step: never back, never skipped, one replacement task set
    expect(pairs(seen)).toEqual([[100, 0], ...[10, 20, 30, 40, 50, 60, 70, 80, 90].map((g) => [100 - g, g]), [0, 100]]);
    expect((await world.taskSets(svc)).map((t) => [t.externalId, t.status])).toEqual([[id, 'PRIMARY']]);
  }, 120_000);
});
