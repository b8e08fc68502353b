/**
 * Lambda deployments end to end: a real coordinator shifting a real alias in moto_server through
 * @aws-sdk/client-lambda, with a recording proxy that plays the hook functions' invocations. One
 * CodeDeploy minute lasts 400 ms here (test_only_minute_ms), and a hook function has 6 s to report.
 */
import { CreateDeploymentConfigCommand, GetDeploymentTargetCommand, StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { UpdateAliasCommand } from '@aws-sdk/client-lambda';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';
import { LambdaWorld, lambdaAppSpec } from './lambda-world.js';

const MINUTE_MS = 400;
const ORIGINAL = { version: '1', weights: {} };

describeWithTools(['moto_server'], 'Lambda deployments against moto (alias weights, hooks, stop, restart)', () => {
  const world = new LambdaWorld();

  beforeAll(async () => {
    await world.start({ minuteMs: MINUTE_MS, hookTimeoutSeconds: 6 });
  }, 120_000);
  afterAll(async () => {
    await world.stop();
  });

  /** gaps are the times between consecutive alias updates, in CodeDeploy minutes. */
  const gaps = (updates: Array<{ at: number }>): number[] => updates.slice(1).map((u, i) => (u.at - updates[i]!.at) / MINUTE_MS);

  it('AllAtOnce with both hooks: BeforeAllowTraffic, then the alias moves to TargetVersion, then AfterAllowTraffic; Succeeded', async () => {
    // given function aao with alias live on version 1, in a group deploying with LambdaAllAtOnce
    await world.fn('aao');
    await world.app('aao', 'CodeDeployDefault.LambdaAllAtOnce');
    // when a deployment to version 2 runs and both hook functions report Succeeded
    const id = await world.deploy('aao', lambdaAppSpec('aao', { before: 'aao-pre', after: 'aao-post' }));
    const pre = await world.invoked('aao-pre', id);
    expect(world.updates('aao')).toEqual([]); // nothing moves before BeforeAllowTraffic reports
    await world.hook('aao-pre', id, 'Succeeded');
    const post = await world.hook('aao-post', id, 'Succeeded');
    const d = await world.finished(id);
    // then the deployment succeeded with all traffic on version 2, and the hooks were invoked as CodeDeploy invokes them
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    expect(d.computePlatform).toBe('Lambda');
    expect(d.deploymentStyle).toEqual({ deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' });
    expect(await world.alias('aao')).toEqual({ version: '2', weights: {} });
    expect(world.updates('aao').map((u) => [u.version, u.weights])).toEqual([['2', {}]]);
    for (const call of [pre, post]) {
      expect(call.invocationType).toBe('Event');
      expect(Object.keys(call.payload).sort()).toEqual(['DeploymentId', 'LifecycleEventHookExecutionId']);
    }
    expect(post.at).toBeGreaterThanOrEqual(world.updates('aao')[0]!.at);
    const target = (await world.codedeploy.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: 'aao:live' }))).deploymentTarget?.lambdaTarget;
    expect(target?.status).toBe('Succeeded');
    expect(target?.lambdaFunctionInfo).toMatchObject({ functionName: 'aao', functionAlias: 'live', currentVersion: '1', targetVersion: '2', targetVersionWeight: 1 });
    expect(target?.lifecycleEvents?.map((e) => `${e.lifecycleEventName}:${e.status}`)).toEqual(['BeforeAllowTraffic:Succeeded', 'AllowTraffic:Succeeded', 'AfterAllowTraffic:Succeeded']);
  }, 60_000);

  it('LambdaCanary10Percent5Minutes: 10 % on the target, then 5 minutes later all of it', async () => {
    await world.fn('canary');
    await world.app('canary', 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
    const id = await world.deploy('canary', lambdaAppSpec('canary'));
    const d = await world.finished(id);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    const updates = world.updates('canary');
    expect(updates.map((u) => [u.version, u.weights])).toEqual([['1', { 2: 0.1 }], ['2', {}]]);
    const [gap] = gaps(updates);
    expect(gap).toBeGreaterThanOrEqual(5);
    expect(gap).toBeLessThan(5 + 4_000 / MINUTE_MS); // generous: the suite may run on two busy cores
  }, 60_000);

  it('LambdaLinear10PercentEvery1Minute: 10 %, 20 % … 90 % a minute apart, then all of it', async () => {
    await world.fn('linear');
    await world.app('linear', 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
    const id = await world.deploy('linear', lambdaAppSpec('linear'));
    const d = await world.finished(id);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    const updates = world.updates('linear');
    expect(updates.map((u) => [u.version, u.weights])).toEqual([
      ...[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((w) => ['1', { 2: w }]),
      ['2', {}],
    ]);
    for (const gap of gaps(updates)) {
      expect(gap).toBeGreaterThanOrEqual(1);
      expect(gap).toBeLessThan(1 + 3_000 / MINUTE_MS);
    }
  }, 60_000);

  it('a BeforeAllowTraffic hook that reports Failed fails the deployment with HOOK_EXECUTION_FAILURE before any traffic moves', async () => {
    await world.fn('prefail');
    await world.app('prefail', 'CodeDeployDefault.LambdaCanary10Percent5Minutes');
    const id = await world.deploy('prefail', lambdaAppSpec('prefail', { before: 'prefail-pre' }));
    await world.hook('prefail-pre', id, 'Failed');
    const d = await world.finished(id);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(await world.alias('prefail')).toEqual(ORIGINAL);
    expect(world.updates('prefail').map((u) => [u.version, u.weights])).toEqual([['1', {}]]); // only the rollback's
  }, 60_000);

  it('an AfterAllowTraffic hook that reports Failed fails the deployment and puts the alias back on CurrentVersion', async () => {
    await world.fn('postfail');
    await world.app('postfail', 'CodeDeployDefault.LambdaAllAtOnce');
    const id = await world.deploy('postfail', lambdaAppSpec('postfail', { after: 'postfail-post' }));
    await world.invoked('postfail-post', id);
    expect(await world.alias('postfail')).toEqual({ version: '2', weights: {} });
    await world.hook('postfail-post', id, 'Failed');
    const d = await world.finished(id);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(await world.alias('postfail')).toEqual(ORIGINAL);
  }, 60_000);

  it('a hook function that never reports fails the deployment when the hook timeout passes, traffic back on CurrentVersion', async () => {
    await world.fn('silent');
    await world.app('silent', 'CodeDeployDefault.LambdaAllAtOnce');
    const id = await world.deploy('silent', lambdaAppSpec('silent', { after: 'silent-post' }));
    const call = await world.invoked('silent-post', id);
    const d = await world.finished(id, 30_000);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('HOOK_EXECUTION_FAILURE');
    expect(d.errorInformation?.message).toContain('did not report');
    expect(Date.now() - call.at).toBeGreaterThanOrEqual(5_000);
    expect(await world.alias('silent')).toEqual(ORIGINAL);
  }, 60_000);

  it('StopDeployment in the middle of a linear shift ends Stopped with MANUAL_STOP and the alias back on CurrentVersion', async () => {
    await world.fn('stopme');
    await world.codedeploy.send(new CreateDeploymentConfigCommand({ deploymentConfigName: 'Linear10Every10', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 10 } } }));
    await world.app('stopme', 'Linear10Every10');
    const id = await world.deploy('stopme', lambdaAppSpec('stopme'));
    await eventually(() => expect(world.updates('stopme').length).toBeGreaterThanOrEqual(2), 20_000);
    expect((await world.alias('stopme')).weights).toEqual({ 2: 0.2 });
    const stop = await world.codedeploy.send(new StopDeploymentCommand({ deploymentId: id }));
    expect(stop).toMatchObject({ status: 'Pending', statusMessage: 'Stopping: the alias is being put back on its original version' });
    const d = await world.finished(id);
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation?.code).toBe('MANUAL_STOP');
    expect(await world.alias('stopme')).toEqual(ORIGINAL);
  }, 60_000);

  it('an alias that does not point at CurrentVersion fails the deployment with INVALID_LAMBDA_CONFIGURATION and is left alone', async () => {
    await world.fn('moved');
    await world.lambda.send(new UpdateAliasCommand({ FunctionName: 'moved', Name: 'live', FunctionVersion: '2' }));
    await world.app('moved', 'CodeDeployDefault.LambdaAllAtOnce');
    const id = await world.deploy('moved', lambdaAppSpec('moved'));
    const d = await world.finished(id);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('INVALID_LAMBDA_CONFIGURATION');
    expect(d.errorInformation?.message).toContain('points to version 2');
    expect(world.updates('moved')).toEqual([]);
  }, 60_000);

  it('a function or alias Lambda does not know fails the deployment with INVALID_LAMBDA_FUNCTION', async () => {
    await world.app('ghost', 'CodeDeployDefault.LambdaAllAtOnce');
    const id = await world.deploy('ghost', lambdaAppSpec('ghost-fn'));
    const d = await world.finished(id);
    expect(d.status).toBe('Failed');
    expect(d.errorInformation?.code).toBe('INVALID_LAMBDA_FUNCTION');
    expect(world.updates('ghost-fn')).toEqual([]);
  }, 60_000);

  it('an alarm in ALARM mid-shift stops the deployment with ALARM_ACTIVE and the alias back on CurrentVersion', async () => {
    const cloudwatch = new CloudWatchClient({ endpoint: world.moto.url, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 });
    await cloudwatch.send(new PutMetricAlarmCommand({ AlarmName: 'fn-errors', Namespace: 'fleetdeploy/test', MetricName: 'errors', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'fn-errors', StateValue: 'OK', StateReason: 'test' }));
    await world.fn('alarmed');
    await world.app('alarmed', 'Linear10Every10', { alarmConfiguration: { enabled: true, alarms: [{ name: 'fn-errors' }] } });
    const id = await world.deploy('alarmed', lambdaAppSpec('alarmed'));
    await eventually(() => expect(world.updates('alarmed').length).toBeGreaterThanOrEqual(1), 20_000);
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'fn-errors', StateValue: 'ALARM', StateReason: 'test' }));
    const d = await world.finished(id);
    expect(d.status).toBe('Stopped');
    expect(d.errorInformation?.code).toBe('ALARM_ACTIVE');
    expect(await world.alias('alarmed')).toEqual(ORIGINAL);
  }, 60_000);

  it('a coordinator SIGKILLed in the middle of a linear shift resumes from the recorded step: weights never go back or skip', async () => {
    await world.fn('killed');
    await world.app('killed', 'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes');
    const id = await world.deploy('killed', lambdaAppSpec('killed'));
    await eventually(() => expect(world.updates('killed').length).toBeGreaterThanOrEqual(3), 30_000);
    await world.restartAfterKill();
    const d = await world.finished(id, 60_000);
    expect(d.status, JSON.stringify(d.errorInformation)).toBe('Succeeded');
    const weights = world.updates('killed').map((u) => (u.version === '2' ? 1 : (u.weights['2'] ?? 0)));
    // the recorded step may be applied again after the restart; otherwise each step is the next one
    for (let i = 1; i < weights.length; i++) {
      const step = Math.round((weights[i]! - weights[i - 1]!) * 10);
      expect(step === 0 || step === 1, `weights ${weights.join(', ')}`).toBe(true);
    }
    expect(weights[weights.length - 1]).toBe(1);
    expect(new Set(weights).size).toBe(10);
    expect(await world.alias('killed')).toEqual({ version: '2', weights: {} });
  }, 120_000);

  it('a trigger on a Lambda deployment group is told of its start and success (the traffic driver\'s events)', async () => {
    const bodies: Record<string, unknown>[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        bodies.push(JSON.parse(body) as Record<string, unknown>);
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    await world.fn('notified');
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
    await world.app('notified', 'CodeDeployDefault.LambdaAllAtOnce', { triggerConfigurations: [{ triggerName: 'hook', triggerTargetArn: url, triggerEvents: ['DeploymentStart', 'DeploymentSuccess'] }] });
    const id = await world.deploy('notified', lambdaAppSpec('notified'));
    expect((await world.finished(id)).status).toBe('Succeeded');
    await eventually(() => {
      if (bodies.length < 2) throw new Error(`${bodies.length} of 2 notifications`);
    }, 15_000, 50);
    expect(bodies.map((b) => [b.deploymentId, b.applicationName, b.status, b.eventTriggerName]).sort()).toEqual([[id, 'notified', 'CREATED', 'hook'], [id, 'notified', 'SUCCEEDED', 'hook']]);
    receiver.closeAllConnections();
    receiver.close();
  }, 60_000);
});
