/**
 * `fleetdeploy stop`: StopDeployment, optionally rolling back to the last good revision, then (unless
 * --no-wait) wait until the deployment has actually stopped and say how it ended.
 */
import { GetDeploymentCommand, StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { now, sleep } from '../clock.js';

/** StopOptions are the flags of `stop`. */
export interface StopOptions {
  readonly rollback: boolean;
  /** False with --no-wait: print that the stop was asked for and return. */
  readonly wait: boolean;
  /** How long to wait for the running lifecycle events to be cancelled (default {@link STOP_WAIT_MS}). */
  readonly waitMs?: number;
}

/** STOP_WAIT_MS bounds the wait: agents cancel a running hook at once, so a minute is ample. */
export const STOP_WAIT_MS = 60_000;
const POLL_MS = 250;
const FINAL: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

/** runStop asks the coordinator to stop a deployment, waits for it to stop and prints how it ended; resolves with the exit code. */
export async function runStop(aws: AwsContext, deploymentId: string, opts: StopOptions, line: (text: string) => void, signal?: AbortSignal): Promise<number> {
  const asked = await callApi(`StopDeployment ${deploymentId}`, aws.endpoint, () => aws.codedeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: opts.rollback })));
  if (!opts.wait && asked.status !== 'Succeeded') {
    line(`Asked ${deploymentId} to stop: no new lifecycle events start and the running ones are being cancelled.`);
    line(`fleetdeploy status ${deploymentId} --watch follows it until it has stopped${opts.rollback ? ' and names the rollback deployment' : ''}.`);
    return 0;
  }
  const started = now();
  const deadline = started + (opts.waitMs ?? STOP_WAIT_MS);
  for (;;) {
    const info = (await callApi(`GetDeployment ${deploymentId}`, aws.endpoint, () => aws.codedeploy.send(new GetDeploymentCommand({ deploymentId })))).deploymentInfo ?? {};
    if (FINAL.includes(info.status ?? '')) {
      stoppedLines(deploymentId, info, opts.rollback).forEach(line);
      return 0;
    }
    if (signal?.aborted) throw new CliError(CliErrorCode.TIMED_OUT, `stopped waiting; ${deploymentId} is still ${info.status ?? 'stopping'}: fleetdeploy status ${deploymentId} --watch follows it`);
    if (now() >= deadline) {
      throw new CliError(CliErrorCode.TIMED_OUT, `${deploymentId} is still ${info.status ?? 'stopping'} ${Math.round((now() - started) / 1000)} s after the stop: its running lifecycle events have not ended yet; fleetdeploy status ${deploymentId} --watch follows it`);
    }
    await sleep(POLL_MS, signal);
  }
}

/**
 * stoppedLines says how a stopped deployment ended, e.g.
 * `Deployment d-ABCDEFGH1 Stopped (MANUAL_STOP): 1 succeeded, 1 failed, 1 skipped`, then its rollback.
 * A deployment that ended on its own before the stop took hold says so.
 */
export function stoppedLines(deploymentId: string, info: DeploymentInfo, rollbackAsked: boolean): string[] {
  const o = info.deploymentOverview ?? {};
  const code = info.errorInformation?.code ? ` (${info.errorInformation.code})` : '';
  const lines = [`Deployment ${deploymentId} ${info.status}${code}: ${o.Succeeded ?? 0} succeeded, ${o.Failed ?? 0} failed, ${o.Skipped ?? 0} skipped`];
  if (info.status !== 'Stopped') lines.push(`It ended ${info.status} before the stop took hold.`);
  const rollback = info.rollbackInfo?.rollbackDeploymentId;
  if (rollback !== undefined) lines.push(`Rolling back as ${rollback} (the last successful revision): fleetdeploy status ${rollback} --watch follows it`);
  else if (rollbackAsked) lines.push(`No rollback: ${info.rollbackInfo?.rollbackMessage ?? 'the group has no successful deployment to go back to'}`);
  return lines;
}
