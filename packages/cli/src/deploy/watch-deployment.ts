/**
 * Following a deployment through the CodeDeploy API, as `aws deploy get-deployment` and
 * `batch-get-deployment-targets` would show it: polls the deployment and its targets and reports
 * each change (the deployment's status, an instance's status, one lifecycle event's status) once,
 * in the order seen; events still Pending are not reported until they start. Works without a terminal: every change is one line.
 */
import { BatchGetDeploymentTargetsCommand, GetDeploymentCommand, ListDeploymentTargetsCommand } from '@aws-sdk/client-codedeploy';
import type { CodeDeployClient, DeploymentInfo, InstanceTarget } from '@aws-sdk/client-codedeploy';
import { now, sleep } from '../clock.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { apiFailure } from '../simulate/register.js';

/** FINAL_DEPLOYMENT_STATUSES are the statuses a deployment does not leave. */
export const FINAL_DEPLOYMENT_STATUSES: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

/** ProgressChange is one thing that changed since the previous poll. */
export type ProgressChange =
  | { readonly kind: 'deployment'; readonly status: string; readonly info: DeploymentInfo }
  | { readonly kind: 'instance'; readonly instance: string; readonly status: string }
  | { readonly kind: 'event'; readonly instance: string; readonly event: string; readonly status: string; readonly message?: string; readonly logTail?: string };

/** WatchOptions tune the polling. */
export interface WatchOptions {
  onChange(change: ProgressChange): void;
  /** Time between polls (default 250 ms). */
  intervalMs?: number;
  /** Give up (TIMED_OUT) after this long without a final status (default 120 s). */
  timeoutMs?: number;
}

/**
 * watchDeployment resolves with the deployment's info once its status is final, reporting every
 * change on the way (the final status last).
 */
export async function watchDeployment(codedeploy: CodeDeployClient, deploymentId: string, opts: WatchOptions): Promise<DeploymentInfo> {
  const seen = new Map<string, string>();
  const deadline = now() + (opts.timeoutMs ?? 120_000);
  const report = (key: string, status: string, change: ProgressChange): void => {
    if (seen.get(key) === status) return;
    seen.set(key, status);
    opts.onChange(change);
  };
  for (;;) {
    const info = await get(codedeploy, deploymentId);
    for (const target of await targets(codedeploy, deploymentId)) {
      const instance = target.targetId ?? '?';
      for (const e of target.lifecycleEvents ?? []) {
        const status = e.status ?? 'Unknown';
        const event = e.lifecycleEventName ?? '?';
        if (status === 'Pending' && !seen.has(`${instance}/${event}`)) continue; // not started: nothing to say yet
        report(`${instance}/${event}`, status, {
          kind: 'event',
          instance,
          event,
          status,
          ...(e.diagnostics?.message ? { message: e.diagnostics.message } : {}),
          ...(e.diagnostics?.logTail ? { logTail: e.diagnostics.logTail } : {}),
        });
      }
      report(instance, target.status ?? 'Unknown', { kind: 'instance', instance, status: target.status ?? 'Unknown' });
    }
    const status = info.status ?? 'Unknown';
    report('deployment', status, { kind: 'deployment', status, info });
    if (FINAL_DEPLOYMENT_STATUSES.includes(status)) return info;
    if (now() > deadline) throw new CliError(CliErrorCode.TIMED_OUT, `deployment ${deploymentId} is still ${status} after ${Math.round((opts.timeoutMs ?? 120_000) / 1000)} s`);
    await sleep(opts.intervalMs ?? 250);
  }
}

async function get(codedeploy: CodeDeployClient, deploymentId: string): Promise<DeploymentInfo> {
  try {
    const out = await codedeploy.send(new GetDeploymentCommand({ deploymentId }));
    if (out.deploymentInfo === undefined) throw new CliError(CliErrorCode.API_FAILED, `GetDeployment ${deploymentId} returned no deploymentInfo`);
    return out.deploymentInfo;
  } catch (err) {
    throw err instanceof CliError ? err : apiFailure(`GetDeployment ${deploymentId}`, err);
  }
}

/** targets lists every instance target of the deployment, 25 per BatchGetDeploymentTargets call. */
async function targets(codedeploy: CodeDeployClient, deploymentId: string): Promise<InstanceTarget[]> {
  try {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await codedeploy.send(new ListDeploymentTargetsCommand({ deploymentId, ...(nextToken ? { nextToken } : {}) }));
      ids.push(...(page.targetIds ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const out: InstanceTarget[] = [];
    for (let i = 0; i < ids.length; i += 25) {
      const batch = await codedeploy.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids.slice(i, i + 25) }));
      for (const t of batch.deploymentTargets ?? []) if (t.instanceTarget) out.push(t.instanceTarget);
    }
    return out.sort((a, b) => (a.targetId ?? '').localeCompare(b.targetId ?? '', 'en', { numeric: true }));
  } catch (err) {
    throw apiFailure(`deployment targets of ${deploymentId}`, err);
  }
}

/**
 * describeChange is a change as one line, e.g. `sim-2  BeforeInstall  Succeeded` or
 * `deployment d-ABC123  Succeeded (3 succeeded, 0 failed)`.
 */
export function describeChange(deploymentId: string, change: ProgressChange): string {
  switch (change.kind) {
    case 'deployment': {
      const o = change.info.deploymentOverview;
      const counts = o ? ` (${o.Succeeded ?? 0} succeeded, ${o.Failed ?? 0} failed, ${(o.InProgress ?? 0) + (o.Pending ?? 0)} to go)` : '';
      const why = change.info.errorInformation?.message ? `: ${change.info.errorInformation.message}` : '';
      return `deployment ${deploymentId}  ${change.status}${counts}${why}`;
    }
    case 'instance':
      return `${change.instance.padEnd(8)} instance          ${change.status}`;
    case 'event': {
      const why = change.message && change.status === 'Failed' ? `: ${change.message}` : '';
      return `${change.instance.padEnd(8)} ${change.event.padEnd(17)} ${change.status}${why}`;
    }
    default:
      return assertNever(change);
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected change ${JSON.stringify(x)}`);
}
