/**
 * Alarm states from Amazon CloudWatch (or anything that speaks its API) through DescribeAlarms by
 * name. The client is configured as every AWS SDK client is, from the coordinator's environment and
 * shared files: AWS_REGION, AWS_ACCESS_KEY_ID / AWS_PROFILE..., AWS_ENDPOINT_URL_CLOUDWATCH or
 * AWS_ENDPOINT_URL for another endpoint, AWS_MAX_ATTEMPTS for retries. Nothing here names an endpoint.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AlarmReading, AlarmSource, AlarmState } from './alarm-source.js';
import { describeAwsError } from '../aws-error.js';

/** CloudWatchSourceOptions let a test hand in a client; by default one is made from the environment on first use. */
export interface CloudWatchSourceOptions {
  client?: CloudWatchClient;
}

/**
 * A poll must end well before the next one is due, even against an endpoint that accepts
 * connections and never answers; the SDK's own default waits forever.
 */
const CONNECTION_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;

const STATES: readonly string[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] satisfies AlarmState[];

/** createCloudWatchSource returns an {@link AlarmSource} backed by CloudWatch's DescribeAlarms. */
export function createCloudWatchSource(options: CloudWatchSourceOptions = {}): AlarmSource {
  // Made lazily: a coordinator whose groups name no alarms never resolves AWS credentials or a region.
  let client = options.client;
  const cloudwatch = (): CloudWatchClient =>
    (client ??= new CloudWatchClient({ requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS } }));

  return {
    name: 'CloudWatch',
    async states(names): Promise<AlarmReading> {
      const states = new Map<string, AlarmState>();
      try {
        let nextToken: string | undefined;
        do {
          // Metric and composite alarms alike; a name CloudWatch does not know is left out of the answer.
          const page = await cloudwatch().send(new DescribeAlarmsCommand({ AlarmNames: [...names], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: nextToken }));
          for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
            if (alarm.AlarmName === undefined) continue;
            const state = alarm.StateValue ?? 'INSUFFICIENT_DATA';
            states.set(alarm.AlarmName, (STATES.includes(state) ? state : 'INSUFFICIENT_DATA') as AlarmState);
          }
          nextToken = page.NextToken;
        } while (nextToken !== undefined && nextToken !== '');
      } catch (err) {
        return { ok: false, error: describeAwsError(err) };
      }
      return { ok: true, states };
    },
  };
}
