/**
 * An ECS blue/green deployment with the stock AWS CLI, as AWS's "CodeDeploy for Amazon ECS" tutorial
 * runs it, against a real coordinator whose ECS and ELBv2 endpoints are moto: an ECS application, a
 * group naming the service, its target group pair and listeners, a canary configuration and a
 * termination wait; a deployment of an AppSpec string; `aws deploy wait deployment-successful`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../harness/system-tools.js';
import { awsDeployOk } from '../harness/aws-cli.js';
import type { ApiTarget } from '../harness/aws-cli.js';
import { EcsWorld, ecsAppSpec } from '../ecs/ecs-world.js';

describeWithTools(['aws', 'moto_server'], 'an ECS deployment with the stock AWS CLI', () => {
  const world = new EcsWorld();
  let target: ApiTarget;

  beforeAll(async () => {
    await world.start({ minuteMs: 200, hookTimeoutSeconds: 60 });
    target = { apiUrl: world.coordinator.apiUrl, credentials: world.coordinator.credentials };
  }, 120_000);
  afterAll(async () => {
    await world.stop();
  });

  const cli = (args: string[]) => awsDeployOk(target, args);

  it('create-application --compute-platform ECS, a canary group, create-deployment with an AppSpec string, wait deployment-successful', async () => {
    // given an EXTERNAL-controller service walk whose original task set serves walk-blue
    const svc = await world.service('walk');
    const seen = world.watch(svc);
    // when the tutorial's commands run
    expect((await cli(['create-application', '--application-name', 'walk', '--compute-platform', 'ECS'])).applicationId).toBeDefined();
    await cli([
      'create-deployment-group', '--application-name', 'walk', '--deployment-group-name', 'walk-group',
      '--service-role-arn', 'arn:aws:iam::123456789012:role/ecsCodeDeployRole',
      '--deployment-config-name', 'CodeDeployDefault.ECSCanary10Percent5Minutes',
      '--deployment-style', 'deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL',
      '--ecs-services', 'serviceName=walk,clusterName=walk',
      '--load-balancer-info', JSON.stringify({ targetGroupPairInfoList: [{ targetGroups: [{ name: 'walk-blue' }, { name: 'walk-green' }], prodTrafficRoute: { listenerArns: [svc.prodListenerArn] }, testTrafficRoute: { listenerArns: [svc.testListenerArn] } }] }),
      '--blue-green-deployment-configuration', JSON.stringify({ terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 1 }, deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT', waitTimeInMinutes: 0 } }),
    ]);
    const group = (await cli(['get-deployment-group', '--application-name', 'walk', '--deployment-group-name', 'walk-group'])).deploymentGroupInfo;
    expect(group).toMatchObject({ computePlatform: 'ECS', ecsServices: [{ serviceName: 'walk', clusterName: 'walk' }] });
    const revision = { revisionType: 'AppSpecContent', appSpecContent: { content: ecsAppSpec(svc.taskDefinitions[1], { AfterAllowTestTraffic: 'walk-test' }) } };
    const { deploymentId } = await cli(['create-deployment', '--application-name', 'walk', '--deployment-group-name', 'walk-group', '--revision', JSON.stringify(revision)]);
    // the test-traffic hook validates through the test listener and reports, as the tutorial's function does
    const call = await world.invoked('walk-test', deploymentId as string);
    expect(await world.weights(svc, svc.testListenerArn)).toMatchObject({ green: 100 });
    await cli(['put-lifecycle-event-hook-execution-status', '--deployment-id', deploymentId, '--lifecycle-event-hook-execution-id', call.payload.LifecycleEventHookExecutionId!, '--status', 'Succeeded']);
    await cli(['wait', 'deployment-successful', '--deployment-id', deploymentId]);
    // then the deployment succeeded, traffic moved 10 % and then all of it, and only the replacement task set is left
    const info = (await cli(['get-deployment', '--deployment-id', deploymentId])).deploymentInfo;
    expect(info).toMatchObject({ status: 'Succeeded', computePlatform: 'ECS', deploymentConfigName: 'CodeDeployDefault.ECSCanary10Percent5Minutes', deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } });
    expect(seen.map((w) => [w.blue ?? 0, w.green ?? 0])).toEqual([[100, 0], [90, 10], [0, 100]]);
    expect((await world.taskSets(svc)).map((t) => [t.externalId, t.status, t.taskDefinition])).toEqual([[deploymentId, 'PRIMARY', svc.taskDefinitions[1]]]);
  }, 120_000);
});
