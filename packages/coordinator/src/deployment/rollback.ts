/**
 * Whether a finished deployment is rolled back: CodeDeploy's automatic rollbacks (the deployment's
 * autoRollbackConfiguration, else its group's) and StopDeployment's autoRollbackEnabled. A rollback is
 * a new deployment of the group's last successful revision. Pure.
 */
import type { DeploymentGroupRecord, DeploymentRecord } from '../store/records.js';

/** AutoRollbackConfiguration is CodeDeploy's shape. */
export interface AutoRollbackConfiguration {
  enabled?: boolean;
  events?: string[];
}

/** RollbackDecision says whether to roll back, or why not (for rollbackInfo.rollbackMessage). */
export type RollbackDecision = { rollback: true } | { rollback: false; message?: string };

/**
 * decideRollback applies the rules to a deployment that just ended with `status`. Worked example: a
 * group with {enabled: true, events: [DEPLOYMENT_FAILURE]} whose deployment Failed rolls back when the
 * group has a last successful revision; with none, it says so and does nothing. A deployment that
 * alarm monitoring stopped rolls back on DEPLOYMENT_STOP_ON_ALARM only (not on STOP_ON_REQUEST).
 */
export function decideRollback(deployment: DeploymentRecord, group: DeploymentGroupRecord | undefined, status: 'Succeeded' | 'Failed' | 'Stopped'): RollbackDecision {
  if (status === 'Succeeded' || deployment.creator === 'codeDeployRollback') return { rollback: false };
  const config = (deployment.autoRollbackConfiguration ?? group?.extra.autoRollbackConfiguration) as AutoRollbackConfiguration | undefined;
  const events = config?.enabled === true ? (config.events ?? []) : [];
  const wanted = status === 'Failed'
    ? events.includes('DEPLOYMENT_FAILURE')
    : deployment.alarmStop !== undefined
      ? events.includes('DEPLOYMENT_STOP_ON_ALARM')
      : deployment.stopRequested?.autoRollbackEnabled === true || events.includes('DEPLOYMENT_STOP_ON_REQUEST');
  if (!wanted) return { rollback: false };
  if (group?.lastSuccessfulDeployment === undefined || group.targetRevision === undefined) {
    return { rollback: false, message: 'Automatic rollback was asked for, but the deployment group has no earlier successful revision to return to' };
  }
  return { rollback: true };
}
