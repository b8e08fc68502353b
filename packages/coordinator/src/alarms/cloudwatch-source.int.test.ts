/**
 * The CloudWatch alarm source against moto in server mode: real DescribeAlarms requests through
 * @aws-sdk/client-cloudwatch, alarms made with PutMetricAlarm and flipped with SetAlarmState.
 */
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MotoServer } from '../testing/moto-server.js';
import { startMotoServer } from '../testing/moto-server.js';
import { describeWithTools } from '../../../../test/harness/system-tools.js';
import { createCloudWatchSource } from './cloudwatch-source.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const clientFor = (endpoint: string): CloudWatchClient => new CloudWatchClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

describeWithTools(['moto_server'], 'CloudWatch alarm source', () => {
  let moto: MotoServer;
  let cloudwatch: CloudWatchClient;
  beforeAll(async () => {
    moto = await startMotoServer();
    cloudwatch = clientFor(moto.url);
  }, 40_000);
  afterAll(() => moto?.stop());

  // (moto has no PutCompositeAlarm, so composite alarms, which the source asks for too, are not covered here.)
  it('reads alarms by name and leaves out names CloudWatch does not know', async () => {
    for (const name of ['cpu', 'errors']) {
      await cloudwatch.send(new PutMetricAlarmCommand({ AlarmName: name, Namespace: 'fleetdeploy/test', MetricName: name, Statistic: 'Average', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanThreshold' }));
    }
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'cpu', StateValue: 'ALARM', StateReason: 'test' }));
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: 'errors', StateValue: 'OK', StateReason: 'test' }));

    const reading = await createCloudWatchSource({ client: cloudwatch }).states(['cpu', 'errors', 'no-such-alarm']);

    expect(reading).toEqual({ ok: true, states: new Map([['cpu', 'ALARM'], ['errors', 'OK']]) });
  });

  it('answers {ok: false} with the SDK\'s reason when the endpoint refuses connections', async () => {
    const elsewhere = createCloudWatchSource({ client: clientFor('http://127.0.0.1:9') }); // discard port: nothing listens
    const reading = await elsewhere.states(['cpu']);
    expect(reading.ok).toBe(false);
    expect(!reading.ok && reading.error).toMatch(/ECONNREFUSED/);
  });

  it('names AWS_REGION when the coordinator has no region to read alarms in', async () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE };
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    process.env.AWS_CONFIG_FILE = '/nonexistent/fleetdeploy-test-config';
    try {
      const reading = await createCloudWatchSource({ client: new CloudWatchClient({ endpoint: moto.url, credentials, maxAttempts: 1 }) }).states(['cpu']);
      expect(reading).toEqual({ ok: false, error: 'no AWS region is set for the coordinator: set AWS_REGION (or a region in its AWS profile)' });
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });
});
