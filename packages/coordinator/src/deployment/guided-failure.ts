/**
 * Guided failure (a fleetdeploy extension, after Octopus): a Server group with
 * `onInstanceFailure: "guided"` holds an in-place deployment at an instance's failure until an
 * operator answers ResolveInstanceFailure with retry, skip or fail (fleet-plan.ts holds the plan).
 * This module reads the group's setting and words what operators see.
 */
import type { DeploymentRecord, GuidedAnswer, TargetRecord } from '../store/records.js';
import type { GuidedAction } from './fleet-plan.js';
import type { FleetOutcome } from './outcome-messages.js';

/** OnInstanceFailure is a group's `onInstanceFailure`: fail (CodeDeploy's behaviour, the default) or guided. */
export type OnInstanceFailure = 'fail' | 'guided';
export const ON_INSTANCE_FAILURE_VALUES: readonly OnInstanceFailure[] = ['fail', 'guided'];

/** GUIDED_ACTIONS are the choices an operator is offered, in the order they are shown. */
export const GUIDED_ACTIONS: readonly GuidedAction[] = ['retry', 'skip', 'fail'];

/** GUIDED_MESSAGE_PREFIX starts the status message of each held instance. */
export const GUIDED_MESSAGE_PREFIX = 'guided failure:';

/** guidedFailureOf reads a group's stored setting (its `extra.onInstanceFailure`); absent means fail. */
export function guidedFailureOf(extra: Record<string, unknown> | undefined): OnInstanceFailure {
  return extra?.onInstanceFailure === 'guided' ? 'guided' : 'fail';
}

/** HeldInstance is one failed instance a deployment waits on, as GetDeployment shows it. */
export interface HeldInstance {
  instanceId: string;
  lifecycleEvent?: string;
  errorCode?: string;
  message?: string;
  attempt: number;
}

/** heldInstances lists the instances a deployment waits on, with the failure each had. */
export function heldInstances(deployment: DeploymentRecord, targets: readonly TargetRecord[]): HeldInstance[] {
  return (deployment.plan?.held ?? []).map((id) => {
    const target = targets.find((t) => t.targetId === id);
    const failed = target === undefined ? undefined : [...target.lifecycleEvents].reverse().find((e) => e.status === 'Failed' && e.lifecycleEventName !== 'OnFailure');
    return {
      instanceId: id,
      attempt: target?.attempt ?? 1,
      ...(failed === undefined ? {} : { lifecycleEvent: failed.lifecycleEventName }),
      ...(failed?.diagnostics === undefined ? {} : { errorCode: failed.diagnostics.errorCode, message: failed.diagnostics.message }),
    };
  });
}

/**
 * guidedStatusMessages are the deployment's status messages for its held instances, e.g.
 * `guided failure: web-01 failed in ApplicationStart (ScriptFailed); waiting for an operator: fleetdeploy resolve d-ABC web-01 --retry|--skip|--fail`.
 */
export function guidedStatusMessages(deployment: DeploymentRecord, targets: readonly TargetRecord[]): string[] {
  return heldInstances(deployment, targets).map((h) => {
    const where = h.lifecycleEvent === undefined ? 'failed' : `failed in ${h.lifecycleEvent}${h.errorCode === undefined ? '' : ` (${h.errorCode})`}`;
    const attempt = h.attempt > 1 ? ` on attempt ${h.attempt}` : '';
    return `${GUIDED_MESSAGE_PREFIX} ${h.instanceId} ${where}${attempt}; waiting for an operator: fleetdeploy resolve ${deployment.deploymentId} ${h.instanceId} --${GUIDED_ACTIONS.join('|--')}`;
  });
}

/** guidedFailureMessage is ErrorInformation.message of a deployment an operator chose to fail. */
export function guidedFailureMessage(outcome: FleetOutcome): string {
  const failed = outcome.failed.map((f) => `${f.name}${f.event === undefined ? '' : ` failed in ${f.event}`}${f.errorCode === undefined ? '' : ` (${f.errorCode})`}`);
  return `An operator chose to fail the deployment (guided failure) after ${failed.join(', ') || 'an instance failed'}`;
}

/**
 * withAnswer records an operator's answer on the deployment for the replica that drives it: an
 * answer for an instance replaces one not applied yet (the operator changed their mind), so each
 * held instance has at most one.
 */
export function withAnswer(deployment: DeploymentRecord, answer: GuidedAnswer): DeploymentRecord {
  return withAnswers(deployment, [...(deployment.guidedAnswers ?? []).filter((a) => a.instanceId !== answer.instanceId), answer]);
}

/** withAnswers is the deployment with exactly these recorded answers (the field dropped when none). */
export function withAnswers(deployment: DeploymentRecord, answers: readonly GuidedAnswer[]): DeploymentRecord {
  const { guidedAnswers: _recorded, ...rest } = deployment;
  return answers.length === 0 ? rest : { ...rest, guidedAnswers: [...answers] };
}

/** withoutAnswerFor drops the recorded answer for one instance (an answer applied directly supersedes it). */
export function withoutAnswerFor(deployment: DeploymentRecord, instanceId: string): DeploymentRecord {
  if (deployment.guidedAnswers === undefined) return deployment;
  return withAnswers(deployment, deployment.guidedAnswers.filter((a) => a.instanceId !== instanceId));
}
