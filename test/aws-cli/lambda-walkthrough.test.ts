/**
 * AWS's "CodeDeploy for Lambda" walkthrough with the stock AWS CLI, against a real coordinator
 * whose Lambda endpoint is moto (behind the recording proxy that plays the hook functions): a
 * Lambda application, a group with a canary configuration, alarms and automatic rollback, a
 * deployment of an AppSpec string, `aws deploy wait deployment-successful`, `get-deployment`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../harness/system-tools.js';
import { awsDeployOk } from '../harness/aws-cli.js';
import type { ApiTarget } from '../harness/aws-cli.js';
import { LambdaWorld, lambdaAppSpec } from '../lambda/lambda-world.js';

describeWithTools(['aws', 'moto_server'], 'the Lambda walkthrough with the stock AWS CLI', () => {
  const world = new LambdaWorld();
  let target: ApiTarget;

  beforeAll(async () => {
    await world.start({ minuteMs: 200, hookTimeoutSeconds: 60 });
    target = { apiUrl: world.coordinator.apiUrl, credentials: world.coordinator.credentials };
  }, 120_000);
  afterAll(async () => {
    await world.stop();
  });

  const cli = (args: string[]) => awsDeployOk(target, args);

  it('create-application --compute-platform Lambda, a canary group, create-deployment with an AppSpec string, wait deployment-successful', async () => {
    // given function walk with versions 1 and 2 and alias live on version 1
    await world.fn('walk');
    expect((await cli(['get-deployment-config', '--deployment-config-name', 'CodeDeployDefault.LambdaCanary10Percent5Minutes'])).deploymentConfigInfo).toMatchObject({
      computePlatform: 'Lambda',
      trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } },
    });
    // when the walkthrough's commands run
    expect((await cli(['create-application', '--application-name', 'walk', '--compute-platform', 'Lambda'])).applicationId).toBeDefined();
    await cli([
      'create-deployment-group', '--application-name', 'walk', '--deployment-group-name', 'walk-group',
      '--service-role-arn', 'arn:aws:iam::123456789012:role/CodeDeployServiceRole',
      '--deployment-config-name', 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      '--alarm-configuration', JSON.stringify({ enabled: true, alarms: [{ name: 'walk-errors' }], ignorePollAlarmFailure: true }),
      '--auto-rollback-configuration', 'enabled=true,events=DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_ALARM',
    ]);
    const revision = { revisionType: 'AppSpecContent', appSpecContent: { content: lambdaAppSpec('walk', { before: 'walk-pre', after: 'walk-post' }) } };
    const { deploymentId } = await cli(['create-deployment', '--application-name', 'walk', '--deployment-group-name', 'walk-group', '--revision', JSON.stringify(revision)]);
    // the hook functions report as the walkthrough's functions do, through the CodeDeploy API
    for (const fn of ['walk-pre', 'walk-post']) {
      const call = await world.invoked(fn, deploymentId as string);
      await cli(['put-lifecycle-event-hook-execution-status', '--deployment-id', deploymentId, '--lifecycle-event-hook-execution-id', call.payload.LifecycleEventHookExecutionId!, '--status', 'Succeeded']);
    }
    await cli(['wait', 'deployment-successful', '--deployment-id', deploymentId]);
    // then the deployment succeeded, traffic moved 10 % and then all of it, and the alias is on version 2
    const info = (await cli(['get-deployment', '--deployment-id', deploymentId])).deploymentInfo;
    expect(info).toMatchObject({ status: 'Succeeded', computePlatform: 'Lambda', deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' });
    expect(world.updates('walk').map((u) => [u.version, u.weights])).toEqual([['1', { 2: 0.1 }], ['2', {}]]);
    expect(await world.alias('walk')).toEqual({ version: '2', weights: {} });
  }, 120_000);
});
