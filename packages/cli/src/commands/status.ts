/**
 * `fleetdeploy status`: one deployment (status, overview, one line per instance), or the latest
 * deployments of an application or one of its groups.
 */
import { BatchGetDeploymentsCommand, GetDeploymentCommand, ListDeploymentGroupsCommand, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import type { DeploymentInfo, DeploymentTarget, InstanceTarget, RevisionLocation } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { now } from '../clock.js';
import type { Paint } from '../output/colour.js';
import { paintFor, PLAIN } from '../output/colour.js';
import type { OutputFormat } from '../output/format.js';
import { countSteps, formatElapsed } from '../progress/lifecycle-steps.js';
import { jsonDocument } from '../output/format.js';
import { requireApplication, requireGroup } from '../names/require-names.js';
import type { WatchOutput } from '../watch/watch-stream.js';
import { watchStream } from '../watch/watch-stream.js';
import { statusMessageLines } from './status-messages.js';
import { instanceTargets, listDeploymentTargets, trafficTargets } from '../targets/list-targets.js';
import type { TrafficTarget } from '../progress/traffic-target.js';
import { describeTrafficTarget } from '../progress/traffic-target.js';
import { groupByLabel, waitLines } from '../progress/blue-green-view.js';

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
    const all = await listDeploymentTargets(aws, deploymentId);
    const targets = instanceTargets(all);
    const traffic = trafficTargets(all);
    if (json) line(jsonDocument(jsonView(info.deploymentInfo, all, targets)));
    else [...describeDeployment(info.deploymentInfo ?? {}, targets, { now: now(), paint: paintFor(out.tty ?? {}) }, traffic), ...statusMessageLines(info.deploymentInfo ?? {})].forEach(line);
    return 0;
  }
  if (opts.application === undefined) throw new CliError(CliErrorCode.USAGE, 'give a deployment id, or --application NAME [--group NAME] for its latest deployments');
  const limit = opts.limit === undefined ? 10 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError(CliErrorCode.USAGE, '--limit must be a whole number from 1 to 100');
  await requireApplication(aws, opts.application);
  if (opts.group !== undefined) await requireGroup(aws, opts.application, opts.group);
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

/** jsonView is `status ID --output json`: the deployment and its targets in the API's shapes (lambdaTargets, ecsTargets or instances). */
function jsonView(deployment: DeploymentInfo | undefined, all: readonly DeploymentTarget[], instances: readonly InstanceTarget[]): Record<string, unknown> {
  const lambda = all.flatMap((t) => (t.lambdaTarget === undefined ? [] : [t.lambdaTarget]));
  const ecs = all.flatMap((t) => (t.ecsTarget === undefined ? [] : [t.ecsTarget]));
  if (lambda.length > 0) return { deployment, lambdaTargets: lambda };
  if (ecs.length > 0) return { deployment, ecsTargets: ecs };
  return { deployment, instances };
}

/** deploymentLine is one deployment in a list: id, status, group, counts, when. */
function deploymentLine(d: DeploymentInfo): string {
  const o = d.deploymentOverview;
  const counts = o ? `${o.Succeeded ?? 0} succeeded, ${o.Failed ?? 0} failed, ${o.Skipped ?? 0} skipped` : '';
  return `${d.deploymentId ?? '?'}  ${(d.status ?? '?').padEnd(10)} ${(d.deploymentGroupName ?? '').padEnd(16)} ${counts}  ${d.createTime?.toISOString() ?? ''}`;
}

/** StatusView is what `status` draws with: the time (for a running event's elapsed time) and colour. */
export interface StatusView {
  readonly now: number;
  readonly paint: Paint;
}

/** LOG_TAIL_LINES is how much of a failed event's log `status` shows. */
const LOG_TAIL_LINES = 5;

/**
 * describeDeployment is the `status ID` output: a header (revision, creator, description, times,
 * overview, error), then one line per instance counted as `--watch` counts it, with the failed event's
 * diagnostics and the last lines of its log.
 */
export function describeDeployment(d: DeploymentInfo, targets: readonly InstanceTarget[], view: StatusView = { now: now(), paint: PLAIN }, traffic: readonly TrafficTarget[] = []): string[] {
  const lines = [`Deployment ${d.deploymentId} ${d.status === 'Failed' || d.status === 'Stopped' ? view.paint.red(d.status) : d.status} (${d.applicationName}/${d.deploymentGroupName}, ${d.deploymentConfigName})`];
  const revision = describeRevision(d.revision);
  if (revision !== undefined) lines.push(`  revision: ${revision}`);
  const created = d.createTime?.toISOString();
  const took = d.createTime && d.completeTime ? ` in ${formatElapsed(d.completeTime.getTime() - d.createTime.getTime())}` : '';
  lines.push(`  created ${created ?? '?'}${d.creator ? ` by ${d.creator}` : ''}${d.completeTime ? `, ended ${d.completeTime.toISOString()}${took}` : ''}`);
  if (d.description) lines.push(`  description: ${d.description}`);
  const o = d.deploymentOverview ?? {};
  // a Lambda or ECS deployment has no instances: its target is the function's alias or the service
  if (traffic.length === 0) lines.push(`  instances: ${o.Succeeded ?? 0} succeeded, ${o.Failed ?? 0} failed, ${o.Skipped ?? 0} skipped, ${o.InProgress ?? 0} in progress, ${o.Pending ?? 0} pending${(o.Ready ?? 0) > 0 ? `, ${o.Ready} ready` : ''}`);
  if (d.errorInformation?.code) lines.push(view.paint.red(`  error: ${d.errorInformation.code}: ${d.errorInformation.message ?? ''}`));
  if (d.rollbackInfo?.rollbackDeploymentId) lines.push(`  rolled back by ${d.rollbackInfo.rollbackDeploymentId}${d.rollbackInfo.rollbackMessage ? `: ${d.rollbackInfo.rollbackMessage}` : ''}`);
  if (d.rollbackInfo?.rollbackTriggeringDeploymentId) lines.push(`  rolls back ${d.rollbackInfo.rollbackTriggeringDeploymentId}`);
  lines.push(...waitLines(d));
  for (const t of traffic) lines.push(...describeTrafficTarget(t, view.now));
  const width = Math.max(8, ...targets.map((t) => (t.targetId ?? '').length));
  const ignores = d.ignoreApplicationStopFailures === true;
  // a blue/green deployment's instances under their side: the replacement (green), then the original (blue)
  const groups = groupByLabel(targets, (t) => t.instanceLabel);
  if (groups === undefined) for (const t of targets) lines.push(...describeInstance(t, ignores, width, view));
  else {
    for (const g of groups) {
      lines.push(`  ${g.heading}:`);
      for (const t of g.members) lines.push(...describeInstance(t, ignores, width, view, '    '));
    }
  }
  return lines;
}

/**
 * describeInstance is one instance: `  sim-2    Failed     6/7 ValidateService: ScriptFailed hooks/v.sh: exit 3`
 * and the last lines of the failed event's log, or `  sim-1    InProgress 2/7 BeforeInstall (running 3.2 s)`.
 */
function describeInstance(t: InstanceTarget, ignoresStopFailures: boolean, width: number, view: StatusView, indent = '  '): string[] {
  const events = t.lifecycleEvents ?? [];
  const steps = countSteps(
    events.map((e) => ({ name: e.lifecycleEventName ?? '?', status: e.status ?? '?', ...(e.startTime === undefined ? {} : { startedAt: e.startTime.getTime() }) })),
    ignoresStopFailures,
  );
  // a failed event that decides the line: the one the instance failed in, else an ignored stop failure on a finished instance
  const shown = steps.failed ?? (steps.running === undefined ? steps.ignoredFailure : undefined);
  const failure = shown === undefined ? undefined : events.find((e) => e.lifecycleEventName === shown);
  const ignored = shown !== undefined && shown === steps.ignoredFailure ? ' (ignored)' : '';
  const diagnostics = failure?.diagnostics;
  let detail = steps.current ?? '';
  if (diagnostics !== undefined) detail = `${shown}${ignored}: ${diagnostics.errorCode ?? ''} ${diagnostics.scriptName ?? ''}: ${(diagnostics.message ?? '').split('\n')[0]}`.replace(/\s+:/g, ':');
  else if (steps.running?.startedAt !== undefined) detail = `${steps.running.name} (running ${formatElapsed(view.now - steps.running.startedAt)})`;
  else if (t.status === 'Ready') detail = `${detail}; installed, waits for traffic`;
  const failed = t.status === 'Failed' || steps.failed !== undefined;
  const status = (t.status ?? '?').padEnd(10);
  const line = `${indent}${(t.targetId ?? '?').padEnd(width)} ${failed ? view.paint.red(status) : status} ${steps.done}/${steps.total} ${detail}`.trimEnd();
  if (steps.failed === undefined) return [line];
  const tail = (diagnostics?.logTail ?? '').trimEnd().split('\n').filter((l) => l.trim() !== '').slice(-LOG_TAIL_LINES);
  return [line, ...tail.map((l) => `${indent}${''.padEnd(width)}   | ${l}`)];
}

/** describeRevision is where a deployment's revision is: `s3://revisions/shop/v1.zip (zip, eTag abc)`, a GitHub commit, or its type. */
function describeRevision(r: RevisionLocation | undefined): string | undefined {
  if (r === undefined) return undefined;
  const s3 = r.s3Location;
  if (s3 !== undefined) {
    const details = [s3.bundleType, s3.eTag ? `eTag ${s3.eTag}` : undefined, s3.version ? `version ${s3.version}` : undefined].filter((x) => x !== undefined);
    return `s3://${s3.bucket}/${s3.key}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
  }
  if (r.gitHubLocation !== undefined) return `GitHub ${r.gitHubLocation.repository}@${r.gitHubLocation.commitId}`;
  return r.revisionType;
}
