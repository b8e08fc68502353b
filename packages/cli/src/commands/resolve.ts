/**
 * `fleetdeploy resolve ID INSTANCE --retry|--skip|--fail`: answers a guided failure (fleetdeploy's
 * FleetDeploy_20261204.ResolveInstanceFailure). A deployment of a group with onInstanceFailure guided
 * waits at a failed instance; `fleetdeploy status ID` names it and the choices.
 *
 * `fleetdeploy group on-failure GROUP guided|fail` sets the group's onInstanceFailure
 * (SetOnInstanceFailure), which the AWS CLI cannot send: it refuses fields CodeDeploy does not have.
 */
import type { AwsContext } from '../aws-context.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { callFleetApi } from '../fleet/fleet-api.js';

/** GuidedAction is an operator's answer to a held failure. */
export type GuidedAction = 'retry' | 'skip' | 'fail';

/** ResolveFlags are the flags of `resolve`: exactly one must be given. */
export interface ResolveFlags {
  retry?: boolean;
  skip?: boolean;
  fail?: boolean;
}

/** resolveAction reads the one action the flags ask for, or throws a USAGE error. */
export function resolveAction(flags: ResolveFlags): GuidedAction {
  const chosen = (['retry', 'skip', 'fail'] as const).filter((a) => flags[a] === true);
  if (chosen.length !== 1) {
    throw new CliError(CliErrorCode.USAGE, chosen.length === 0 ? 'say what to do with the failed instance: --retry, --skip or --fail' : `give one of --retry, --skip and --fail, not ${chosen.map((a) => `--${a}`).join(' and ')}`);
  }
  return chosen[0]!;
}

/**
 * resolvedLine says what happens now; `pending`: the coordinator replica asked does not drive the
 * deployment and recorded the answer for the one that does, which applies it in moments.
 */
export function resolvedLine(deploymentId: string, instanceId: string, action: GuidedAction, pending = false): string {
  const what = action === 'retry'
    ? `${instanceId} runs its lifecycle again from the start (a new attempt; the other instances are left as they are)`
    : action === 'skip'
      ? `${instanceId} is Skipped (still counted as unhealthy) and the deployment goes on`
      : 'the deployment fails (running instances finish; a rollback follows if the group has one for DEPLOYMENT_FAILURE)';
  if (pending) return `Accepted for ${deploymentId}: the replica driving it applies the answer in moments (${what}); fleetdeploy status ${deploymentId} --watch follows it`;
  return `Resolved ${deploymentId}: ${what}; fleetdeploy status ${deploymentId} --watch follows it`;
}

/** runResolve calls ResolveInstanceFailure; the coordinator's refusal (not waiting on that instance) is the error. */
export async function runResolve(aws: AwsContext, deploymentId: string, instanceId: string, flags: ResolveFlags, line: (text: string) => void): Promise<number> {
  const action = resolveAction(flags);
  const answer = await callFleetApi<{ status?: string }>(aws, 'ResolveInstanceFailure', { deploymentId, instanceId, action });
  line(resolvedLine(deploymentId, instanceId, action, answer.status === 'Pending'));
  return 0;
}

/** onFailureMode reads `guided` or `fail`, or throws a USAGE error. */
export function onFailureMode(value: string): 'guided' | 'fail' {
  if (value !== 'guided' && value !== 'fail') throw new CliError(CliErrorCode.USAGE, `the mode is guided or fail, got ${JSON.stringify(value)}`);
  return value;
}

/** describeOnFailure says what a group's onInstanceFailure means. */
export function describeOnFailure(mode: 'guided' | 'fail'): string {
  return mode === 'guided'
    ? 'an in-place deployment that has an instance fail waits for fleetdeploy resolve DEPLOYMENT INSTANCE --retry|--skip|--fail'
    : 'a failed instance counts against the minimum healthy hosts as in CodeDeploy (no pause)';
}

/** runSetOnFailure sets the group's onInstanceFailure. */
export async function runSetOnFailure(aws: AwsContext, application: string, group: string, value: string, line: (text: string) => void): Promise<number> {
  const mode = onFailureMode(value);
  await callFleetApi(aws, 'SetOnInstanceFailure', { applicationName: application, deploymentGroupName: group, onInstanceFailure: mode });
  line(`${application}/${group}: onInstanceFailure ${mode}: ${describeOnFailure(mode)}`);
  return 0;
}
