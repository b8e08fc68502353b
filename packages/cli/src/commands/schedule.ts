/**
 * `fleetdeploy schedule|schedules|unschedule`: a deployment created by the coordinator at a cron time
 * (fleetdeploy's FleetDeploy_20261204.Create/List/DeleteDeploymentSchedule). The coordinator keeps
 * the schedule, so nothing has to stay running here, and a restart of the coordinator keeps it.
 *
 *   fleetdeploy schedule -a shop -g web --cron '0 22 * * 1-5' --time-zone Europe/Paris --s3-location s3://revisions/shop/v2.zip
 */
import type { AwsContext } from '../aws-context.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { callFleetApi } from '../fleet/fleet-api.js';
import { parseBundleType, parseS3Location } from '../bundle/s3-location.js';
import type { OutputFormat } from '../output/format.js';
import { isoTime, jsonDocument } from '../output/format.js';
import { formatTable } from '../output/table.js';

/** RawScheduleOptions are the option strings commander collects for `schedule`. */
export interface RawScheduleOptions {
  application: string;
  group: string;
  cron: string;
  timeZone?: string;
  s3Location: string;
  bundleType?: string;
  config?: string;
  description?: string;
  fileExistsBehavior?: string;
  ignoreApplicationStopFailures?: boolean;
}

/** ScheduleInfo is one schedule as ListDeploymentSchedules answers (times in epoch seconds). */
export interface ScheduleInfo {
  scheduleId: string;
  applicationName: string;
  deploymentGroupName: string;
  cron: string;
  timeZone?: string;
  runTime: number;
  status: string;
  deploymentId?: string;
  error?: { type: string; message: string };
}

const FILE_EXISTS: readonly string[] = ['DISALLOW', 'OVERWRITE', 'RETAIN'];

/** scheduleRequest turns the flags into a CreateDeploymentSchedule request, or throws a USAGE error naming the flag. */
export function scheduleRequest(opts: RawScheduleOptions): Record<string, unknown> {
  const fileExists = opts.fileExistsBehavior?.toUpperCase();
  if (fileExists !== undefined && !FILE_EXISTS.includes(fileExists)) throw new CliError(CliErrorCode.USAGE, '--file-exists-behavior must be DISALLOW, OVERWRITE or RETAIN');
  const location = parseS3Location(opts.s3Location, opts.bundleType === undefined ? undefined : parseBundleType(opts.bundleType), 'zip');
  return {
    applicationName: opts.application,
    deploymentGroupName: opts.group,
    cron: opts.cron,
    ...(opts.timeZone === undefined ? {} : { timeZone: opts.timeZone }),
    deployment: {
      revision: { revisionType: 'S3', s3Location: { bucket: location.bucket, key: location.key, bundleType: location.bundleType, ...(location.eTag === undefined ? {} : { eTag: location.eTag }) } },
      ...(opts.config === undefined ? {} : { deploymentConfigName: opts.config }),
      ...(opts.description === undefined ? {} : { description: opts.description }),
      ...(fileExists === undefined ? {} : { fileExistsBehavior: fileExists }),
      ...(opts.ignoreApplicationStopFailures ? { ignoreApplicationStopFailures: true } : {}),
    },
  };
}

export async function runSchedule(aws: AwsContext, opts: RawScheduleOptions, line: (text: string) => void): Promise<number> {
  const request = scheduleRequest(opts);
  const out = await callFleetApi<{ scheduleId: string; runTime: number }>(aws, 'CreateDeploymentSchedule', request);
  line(`Scheduled ${out.scheduleId}: a deployment of ${opts.s3Location} to ${opts.application}/${opts.group} at ${isoTime(new Date(out.runTime * 1000))}`);
  line('The coordinator creates it then (a coordinator down at that time creates it when it starts). See it with: fleetdeploy schedules');
  return 0;
}

export async function runSchedules(aws: AwsContext, output: OutputFormat, line: (text: string) => void): Promise<number> {
  const { schedules } = await callFleetApi<{ schedules: ScheduleInfo[] }>(aws, 'ListDeploymentSchedules', {});
  if (output === 'json') {
    line(jsonDocument({ schedules: schedules.map((s) => ({ ...s, runTime: isoTime(new Date(s.runTime * 1000)) })) }));
    return 0;
  }
  if (schedules.length === 0) {
    line('No deployment schedules: fleetdeploy schedule -a APP -g GROUP --cron EXPR --s3-location s3://BUCKET/KEY');
    return 0;
  }
  formatTable(['SCHEDULE', 'GROUP', 'CRON', 'RUNS AT', 'STATUS', 'DEPLOYMENT / ERROR'], schedules.map((s) => [
    s.scheduleId,
    `${s.applicationName}/${s.deploymentGroupName}`,
    `${s.cron} (${s.timeZone ?? 'UTC'})`,
    isoTime(new Date(s.runTime * 1000)),
    s.status,
    s.deploymentId ?? (s.error === undefined ? '-' : `${s.error.type}: ${s.error.message}`),
  ])).forEach(line);
  return 0;
}

export async function runUnschedule(aws: AwsContext, scheduleId: string, line: (text: string) => void): Promise<number> {
  await callFleetApi(aws, 'DeleteDeploymentSchedule', { scheduleId });
  line(`Deleted schedule ${scheduleId}.`);
  return 0;
}
