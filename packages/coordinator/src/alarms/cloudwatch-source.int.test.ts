/**
 * The CloudWatch alarm source against moto in server mode: real DescribeAlarms requests through
 * @aws-sdk/client-cloudwatch, alarms made with PutMetricAlarm and flipped with SetAlarmState.
 */
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MotoServer } from '../testing/moto-server.js';
import { MOTO_MISSING, MOTO_SERVER, startMotoServer } from '../testing/moto-server.js';
import { createCloudWatchSource } from './cloudwatch-source.js';

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
const clientFor = (endpoint: string): CloudWatchClient => new CloudWatchClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });

describe.skipIf(MOTO_SERVER === undefined)(`CloudWatch alarm source${MOTO_SERVER === undefined ? ` (skipped: ${MOTO_MISSING})` : ''}`, () => {
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
});
