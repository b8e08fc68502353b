/**
 * `fleetdeploy group windows set|show|clear`: a deployment group's deployment windows, a fleetdeploy
 * extension that the AWS CLI cannot send (it validates CodeDeploy's fields), through the coordinator's
 * FleetDeploy_20261204.Put/Get/DeleteDeploymentWindows.
 *
 *   fleetdeploy group windows set web -a shop --window '0 22 * * 1-5; 120; Europe/Paris' --outside-window refuse
 */
import type { AwsContext } from '../aws-context.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { callFleetApi } from '../fleet/fleet-api.js';

/** WindowSpec is one window as the coordinator takes it. */
export interface WindowSpec {
  cron: string;
  durationMinutes: number;
  timeZone?: string;
}

/** WindowPolicySpec is the group's deploymentWindows field. */
export interface WindowPolicySpec {
  windows: WindowSpec[];
  outsideWindow?: string;
  windowClose?: string;
}

/** RawWindowsSetOptions are the option values commander collects for `group windows set`. */
export interface RawWindowsSetOptions {
  application: string;
  window?: string[];
  outsideWindow?: string;
  windowClose?: string;
}

const WINDOW_USAGE = "--window takes 'CRON; MINUTES[; TIME_ZONE]', e.g. '0 22 * * 1-5; 120; Europe/Paris'";

/** parseWindowFlag reads one --window value, or throws a USAGE error that shows the form. */
export function parseWindowFlag(value: string): WindowSpec {
  const parts = value.split(';').map((p) => p.trim());
  if (parts.length < 2 || parts.length > 3 || parts[0] === '') throw new CliError(CliErrorCode.USAGE, `${WINDOW_USAGE}; got ${JSON.stringify(value)}`);
  const minutes = Number(parts[1]);
  if (parts[1] === '' || !Number.isFinite(minutes) || minutes <= 0) throw new CliError(CliErrorCode.USAGE, `--window ${JSON.stringify(value)}: the duration must be a number of minutes above 0, got ${JSON.stringify(parts[1])} (${WINDOW_USAGE})`);
  return { cron: parts[0]!, durationMinutes: minutes, ...(parts[2] === undefined || parts[2] === '' ? {} : { timeZone: parts[2] }) };
}

/** windowsPolicy turns the flags into a deploymentWindows value; the coordinator checks cron, zone and modes. */
export function windowsPolicy(opts: RawWindowsSetOptions): WindowPolicySpec {
  const windows = (opts.window ?? []).map(parseWindowFlag);
  if (windows.length === 0) throw new CliError(CliErrorCode.USAGE, `give at least one --window (${WINDOW_USAGE}); fleetdeploy group windows clear removes them`);
  return { windows, ...(opts.outsideWindow === undefined ? {} : { outsideWindow: opts.outsideWindow }), ...(opts.windowClose === undefined ? {} : { windowClose: opts.windowClose }) };
}

/** describePolicy is the policy in lines, for set and show. */
export function describePolicy(policy: WindowPolicySpec): string[] {
  return [
    ...policy.windows.map((w) => `  window: ${w.cron}  for ${w.durationMinutes} min  (${w.timeZone ?? 'UTC'})`),
    `  outside a window: ${policy.outsideWindow === 'refuse' ? 'refuse new deployments' : 'queue new deployments until one opens'}`,
    `  when a window closes: ${policy.windowClose === 'continue' ? 'running deployments go on' : 'running instances finish, no new one starts until the next window'}`,
  ];
}

export async function runWindowsSet(aws: AwsContext, group: string, opts: RawWindowsSetOptions, line: (text: string) => void): Promise<number> {
  const policy = windowsPolicy(opts);
  const out = await callFleetApi<{ deploymentWindows: WindowPolicySpec }>(aws, 'PutDeploymentWindows', { applicationName: opts.application, deploymentGroupName: group, deploymentWindows: policy });
  line(`Deployment windows of ${opts.application}/${group}:`);
  describePolicy(out.deploymentWindows).forEach(line);
  return 0;
}

export async function runWindowsClear(aws: AwsContext, group: string, application: string, line: (text: string) => void): Promise<number> {
  await callFleetApi(aws, 'DeleteDeploymentWindows', { applicationName: application, deploymentGroupName: group });
  line(`Removed the deployment windows of ${application}/${group}: its deployments start at once.`);
  return 0;
}

export async function runWindowsShow(aws: AwsContext, group: string, application: string, line: (text: string) => void): Promise<number> {
  // Not GetDeploymentGroup: the SDK drops the fields CodeDeploy does not define.
  const policy = (await callFleetApi<{ deploymentWindows?: WindowPolicySpec }>(aws, 'GetDeploymentWindows', { applicationName: application, deploymentGroupName: group })).deploymentWindows;
  if (policy === undefined) {
    line(`${application}/${group} has no deployment windows: its deployments start at once.`);
    return 0;
  }
  line(`Deployment windows of ${application}/${group}:`);
  describePolicy(policy).forEach(line);
  return 0;
}
