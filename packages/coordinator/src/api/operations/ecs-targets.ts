/**
 * The one target of an ECS deployment, in CodeDeploy's ECSTarget shape: the service
 * (`cluster:service`), its eight lifecycle events in CodeDeploy's order and the replacement's weight,
 * read from the traffic driver's journal. Pure.
 *
 * Each event is Succeeded once the journal shows it done; the first one not done is InProgress while
 * the deployment runs (Failed once it has ended that way); the later ones are Pending, or Skipped
 * once it has ended.
 */
import type { DeploymentRecord, LifecycleEventStatus } from '../../store/records.js';
import type { PrepareStage, TrafficHookEvent, TrafficState } from '../../deployment/traffic/plan.js';
import { currentWeight } from '../../deployment/traffic/plan.js';
import { targetName } from '../../deployment/traffic/driver.js';
import { isFinalStatus } from '../../store/records.js';
import { epochSeconds } from '../input.js';

type Phase = { event: string; hook: TrafficHookEvent } | { event: string; stage: PrepareStage } | { event: 'AllowTraffic' };

const PHASES: Phase[] = [
  { event: 'BeforeInstall', hook: 'BeforeInstall' },
  { event: 'Install', stage: 'install' },
  { event: 'AfterInstall', hook: 'AfterInstall' },
  { event: 'AllowTestTraffic', stage: 'testTraffic' },
  { event: 'AfterAllowTestTraffic', hook: 'AfterAllowTestTraffic' },
  { event: 'BeforeAllowTraffic', hook: 'BeforeAllowTraffic' },
  { event: 'AllowTraffic' },
  { event: 'AfterAllowTraffic', hook: 'AfterAllowTraffic' },
];

/** ecsTarget is CodeDeploy's ECSTarget of an ECS deployment. `arnPrefix` is the CodeDeploy ARN prefix (region and account). */
export function ecsTarget(d: DeploymentRecord, state: TrafficState | undefined, arnPrefix: string) {
  const svc = d.ecs!;
  const ended = isFinalStatus(d.status);
  const lastStep = (state?.steps.length ?? 1) - 1;
  let reached = true; // every phase before the one being looked at is done
  const done = (p: Phase): boolean => {
    if (state === undefined || !state.checked) return false;
    if ('hook' in p) {
      const e = state.executions.find((x) => x.event === p.hook);
      return e === undefined ? state.hooks[p.hook] === undefined && reached : e.status === 'Succeeded';
    }
    if ('stage' in p) return state.replacement?.prepared.includes(p.stage) === true;
    return state.step?.appliedAt !== undefined && state.step.index === lastStep && state.rolledBack !== true;
  };
  const lifecycleEvents = PHASES.map((p) => {
    const execution = 'hook' in p ? state?.executions.find((x) => x.event === p.hook) : undefined;
    const times = execution === undefined ? {} : { startTime: epochSeconds(execution.startedAt), endTime: epochSeconds(execution.endedAt) };
    let status: LifecycleEventStatus;
    if (done(p)) status = 'Succeeded';
    else if (reached && d.status !== 'Created') status = ended ? (d.status === 'Succeeded' ? 'Succeeded' : 'Failed') : 'InProgress';
    else status = ended ? 'Skipped' : 'Pending';
    reached = reached && status === 'Succeeded';
    return { lifecycleEventName: p.event, status, ...times };
  });
  const green = state === undefined ? 0 : currentWeight(state);
  const failed = d.status === 'Failed' || d.status === 'Stopped';
  const status = d.status === 'Created' || d.status === 'Queued' ? 'Pending' : failed ? 'Failed' : d.status === 'Succeeded' ? 'Succeeded' : 'InProgress';
  return {
    deploymentId: d.deploymentId,
    targetId: targetName(d),
    targetArn: `${arnPrefix.replace(':codedeploy:', ':ecs:')}:service/${svc.clusterName}/${svc.serviceName}`,
    status,
    lastUpdatedAt: epochSeconds(d.completeTime ?? d.startTime ?? d.createTime),
    lifecycleEvents,
    // Only what the journal knows: each task set's share of production traffic.
    taskSetsInfo: [
      { taskSetLabel: 'Blue', trafficWeight: 100 - green },
      { taskSetLabel: 'Green', trafficWeight: green },
    ],
  };
}
