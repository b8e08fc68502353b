/**
 * `fleetdeploy status`: one deployment (status, overview, one line per instance), or the latest
 * deployments of an application or one of its groups.
 */
import {
  BatchGetDeploymentTargetsCommand,
  BatchGetDeploymentsCommand,
  GetDeploymentCommand,
  ListDeploymentGroupsCommand,
  ListDeploymentTargetsCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import type { DeploymentInfo, InstanceTarget } from '@aws-sdk/client-codedeploy';
import { StopEvents } from '@fleetdeploy/shared';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import type { OutputFormat } from '../output/format.js';
import { jsonDocument } from '../output/format.js';
import type { WatchOutput } from '../watch/watch-stream.js';
import { watchStream } from '../watch/watch-stream.js';
import { statusMessageLines } from './status-messages.js';

/** RawStatusOptions are the option strings commander collects. */
export interface RawStatusOptions {
  application?: string;
  group?: string;
  limit?: string;
  watch?: boolean;
  output?: OutputFormat;
}

/**
 * runStatus prints what was asked for; resolves with the exit code (0: the question was answered).
 * With --watch it follows the deployment like `deploy --watch` and exits as it does.
 */
export async function runStatus(aws: AwsContext, deploymentId: string | undefined, opts: RawStatusOptions, out: WatchOutput, signal?: AbortSignal): Promise<number> {
  const line = out.write;
  const json = opts.output === 'json';
  if (opts.watch) {
    if (deploymentId === undefined) throw new CliError(CliErrorCode.USAGE, '--watch follows one deployment: give its id');
    if (json) throw new CliError(CliErrorCode.USAGE, '--output json shows a deployment once and --watch follows it as text: give one of them');
    // a late watcher: the stream's snapshot says where things stand, then it follows to the end
    const result = await watchStream(aws, deploymentId, out, signal);
    if (!result.finished) return 130;
    return result.status === 'Succeeded' ? 0 : 1;
  }
  if (deploymentId !== undefined) {
    const info = await callApi(`GetDeployment ${deploymentId}`, aws.endpoint, () => aws.codedeploy.send(new GetDeploymentCommand({ deploymentId })));
    const targets = await listTargets(aws, deploymentId);
    if (json) line(jsonDocument({ deployment: info.deploymentInfo, instances: targets }));
    else [...describeDeployment(info.deploymentInfo ?? {}, targets), ...statusMessageLines(info.deploymentInfo ?? {})].forEach(line);
    return 0;
  }
  if (opts.application === undefined) throw new CliError(CliErrorCode.USAGE, 'give a deployment id, or --application NAME [--group NAME] for its latest deployments');
  const limit = opts.limit === undefined ? 10 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError(CliErrorCode.USAGE, '--limit must be a whole number from 1 to 100');
  const groups =
    opts.group !== undefined
      ? [opts.group]
      : ((await callApi('ListDeploymentGroups', aws.endpoint, () => aws.codedeploy.send(new ListDeploymentGroupsCommand({ applicationName: opts.application })))).deploymentGroups ?? []);
  const ids: string[] = [];
  for (const g of groups) {
    const page = await callApi('ListDeployments', aws.endpoint, () => aws.codedeploy.send(new ListDeploymentsCommand({ applicationName: opts.application, deploymentGroupName: g })));
    ids.push(...(page.deployments ?? []).slice(0, limit));
  }
  const infos: DeploymentInfo[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const batch = await callApi('BatchGetDeployments', aws.endpoint, () => aws.codedeploy.send(new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(i, i + 25) })));
    infos.push(...(batch.deploymentsInfo ?? []));
  }
  infos.sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0));
  if (json) {
    line(jsonDocument({ deployments: infos.slice(0, limit) }));
    return 0;
  }
  const where = opts.group === undefined ? opts.application : `${opts.application}/${opts.group}`;
  if (infos.length === 0) {
    line(`No deployments of ${where} yet`);
    return 0;
  }
  line(`Latest deployments of ${where}:`);
  for (const d of infos.slice(0, limit)) line(`  ${deploymentLine(d)}`);
  return 0;
}

/** deploymentLine is one deployment in a list: id, status, group, counts, when. */
function deploymentLine(d: DeploymentInfo): string {
  const o = d.deploymentOverview;
  const counts = o ? `${o.Succeeded ?? 0} succeeded, ${o.Failed ?? 0} failed, ${o.Skipped ?? 0} skipped` : '';
  return `${d.deploymentId ?? '?'}  ${(d.status ?? '?').padEnd(10)} ${(d.deploymentGroupName ?? '').padEnd(16)} ${counts}  ${d.createTime?.toISOString() ?? ''}`;
}

/** describeDeployment is the `status ID` output: a header, times, overview, one line per instance. */
export function describeDeployment(d: DeploymentInfo, targets: readonly InstanceTarget[]): string[] {
  const lines = [`Deployment ${d.deploymentId} ${d.status} (${d.applicationName}/${d.deploymentGroupName}, ${d.deploymentConfigName})`];
  const created = d.createTime?.toISOString();
  const took = d.createTime && d.completeTime ? ` in ${((d.completeTime.getTime() - d.createTime.getTime()) / 1000).toFixed(1)} s` : '';
  lines.push(`  created ${created ?? '?'}${d.completeTime ? `, ended ${d.completeTime.toISOString()}${took}` : ''}`);
  const o = d.deploymentOverview ?? {};
  lines.push(`  instances: ${o.Succeeded ?? 0} succeeded, ${o.Failed ?? 0} failed, ${o.Skipped ?? 0} skipped, ${o.InProgress ?? 0} in progress, ${o.Pending ?? 0} pending`);
  if (d.errorInformation?.code) lines.push(`  error: ${d.errorInformation.code}: ${d.errorInformation.message ?? ''}`);
  if (d.rollbackInfo?.rollbackDeploymentId) lines.push(`  rolled back by ${d.rollbackInfo.rollbackDeploymentId}${d.rollbackInfo.rollbackMessage ? `: ${d.rollbackInfo.rollbackMessage}` : ''}`);
  if (d.rollbackInfo?.rollbackTriggeringDeploymentId) lines.push(`  rolls back ${d.rollbackInfo.rollbackTriggeringDeploymentId}`);
  const width = Math.max(8, ...targets.map((t) => (t.targetId ?? '').length));
  for (const t of targets) {
    const events = t.lifecycleEvents ?? [];
    const done = events.filter((e) => e.status === 'Succeeded' || e.status === 'Failed' || e.status === 'Skipped').length;
    const running = events.find((e) => e.status === 'InProgress');
    const firstFailed = events.find((e) => e.status === 'Failed');
    // With ignoreApplicationStopFailures a failed stop event stays Failed, as the agent reported it, and the instance goes on.
    const ignored = firstFailed !== undefined && d.ignoreApplicationStopFailures === true && (StopEvents as readonly string[]).includes(firstFailed.lifecycleEventName ?? '') ? ' (ignored)' : '';
    const failed = ignored && running ? undefined : firstFailed;
    const at = failed ?? running;
    const detail = failed?.diagnostics
      ? `${failed.lifecycleEventName}${ignored}: ${failed.diagnostics.errorCode ?? ''} ${failed.diagnostics.scriptName ?? ''}: ${(failed.diagnostics.message ?? '').split('\n')[0]}`.replace(/\s+:/g, ':')
      : (at?.lifecycleEventName ?? '');
    lines.push(`  ${(t.targetId ?? '?').padEnd(width)} ${(t.status ?? '?').padEnd(10)} ${done}/${events.length} ${detail}`.trimEnd());
  }
  return lines;
}

/** listTargets reads every instance target of a deployment, 25 per BatchGetDeploymentTargets call, by name. */
async function listTargets(aws: AwsContext, deploymentId: string): Promise<InstanceTarget[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callApi('ListDeploymentTargets', aws.endpoint, () => aws.codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId, ...(nextToken ? { nextToken } : {}) })));
    ids.push(...(page.targetIds ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const out: InstanceTarget[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const batch = await callApi('BatchGetDeploymentTargets', aws.endpoint, () => aws.codedeploy.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids.slice(i, i + 25) })));
    for (const t of batch.deploymentTargets ?? []) if (t.instanceTarget) out.push(t.instanceTarget);
  }
  return out.sort((a, b) => (a.targetId ?? '').localeCompare(b.targetId ?? '', 'en', { numeric: true }));
}
