/**
 * The one target of a Lambda deployment, in CodeDeploy's LambdaTarget shape: the function's alias,
 * its lifecycle events (BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic) and the target version's
 * weight now, read from the traffic driver's journal. Pure.
 */
import type { DeploymentRecord, LifecycleEventStatus } from '../../store/records.js';
import type { TrafficHookEvent, TrafficState } from '../../deployment/traffic/plan.js';
import { currentWeight } from '../../deployment/traffic/plan.js';
import { targetName } from '../../deployment/traffic/driver.js';
import { isFinalStatus } from '../../store/records.js';
import { epochSeconds } from '../input.js';

/** lambdaTargetId is the target id of a Lambda deployment: `function:alias`. */
export const lambdaTargetId = targetName;

/** lambdaTarget is CodeDeploy's LambdaTarget of a Lambda deployment. `arnPrefix` is the CodeDeploy ARN prefix (region and account). */
export function lambdaTarget(d: DeploymentRecord, state: TrafficState | undefined, arnPrefix: string) {
  const fn = d.lambda!;
  const ended = isFinalStatus(d.status);
  const failed = d.status === 'Failed' || d.status === 'Stopped';
  const hookEvent = (event: TrafficHookEvent, reached: boolean) => {
    const e = state?.executions.find((x) => x.event === event);
    if (e !== undefined) {
      const status: LifecycleEventStatus = e.status === 'InProgress' ? (ended ? 'Failed' : 'InProgress') : e.status;
      return { lifecycleEventName: event, status, startTime: epochSeconds(e.startedAt), endTime: epochSeconds(e.endedAt) };
    }
    const status: LifecycleEventStatus = reached && state?.hooks[event] === undefined ? 'Succeeded' : ended ? 'Skipped' : 'Pending';
    return { lifecycleEventName: event, status };
  };
  const last = (state?.steps.length ?? 1) - 1;
  const shifted = state?.step?.appliedAt !== undefined && state.step.index === last;
  const beforeDone = state !== undefined && state.checked && (state.hooks.BeforeAllowTraffic === undefined || state.executions.some((x) => x.event === 'BeforeAllowTraffic' && x.status === 'Succeeded'));
  const allowStatus: LifecycleEventStatus = shifted ? 'Succeeded' : state?.step !== undefined ? (ended ? 'Failed' : 'InProgress') : ended ? 'Skipped' : 'Pending';
  const status = d.status === 'Created' || d.status === 'Queued' ? 'Pending' : failed ? 'Failed' : d.status === 'Succeeded' ? 'Succeeded' : 'InProgress';
  return {
    deploymentId: d.deploymentId,
    targetId: lambdaTargetId(d),
    targetArn: `${arnPrefix.replace(':codedeploy:', ':lambda:')}:function:${fn.functionName}:${fn.alias}`,
    status,
    lastUpdatedAt: epochSeconds(d.completeTime ?? d.startTime ?? d.createTime),
    lifecycleEvents: [hookEvent('BeforeAllowTraffic', beforeDone), { lifecycleEventName: 'AllowTraffic', status: allowStatus }, hookEvent('AfterAllowTraffic', shifted)],
    lambdaFunctionInfo: {
      functionName: fn.functionName,
      functionAlias: fn.alias,
      currentVersion: fn.currentVersion,
      targetVersion: fn.targetVersion,
      targetVersionWeight: state === undefined ? 0 : currentWeight(state) / 100,
    },
  };
}
