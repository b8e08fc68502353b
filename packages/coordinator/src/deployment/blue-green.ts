/**
 * The instances' side of a Server blue/green deployment, pure. The replacement (Green) instances run
 * the in-place install, then the allow-traffic events; the original (Blue) ones run the block-traffic
 * events. The traffic driver runs the deployment and asks the engine to run one phase at a time on
 * the agents: `Install` (ApplicationStop … ValidateService, batched by the configuration's minimum
 * healthy hosts), then BeforeAllowTraffic and AfterAllowTraffic on the green instances, and
 * BeforeBlockTraffic and AfterBlockTraffic on the blue ones. AllowTraffic and BlockTraffic are the
 * coordinator's (HAProxy weights and drain) and are only recorded on the instances.
 *
 *   Green: ApplicationStop … ValidateService ─▶ Ready ─▶ BeforeAllowTraffic ─▶ AllowTraffic ─▶ AfterAllowTraffic ─▶ Succeeded
 *   Blue:                                                         BeforeBlockTraffic ─▶ BlockTraffic ─▶ AfterBlockTraffic ─▶ Succeeded
 */
import type { FleetPlan } from './fleet-plan.js';
import { IN_PLACE_EVENTS } from './instance-lifecycle.js';
import type { ServerBlueGreenSpec, TargetRecord, TargetStatus } from '../store/records.js';
import type { TrafficEnding, TrafficHookEvent } from './traffic/plan.js';

const GREEN_EVENTS = [...IN_PLACE_EVENTS, 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
const BLUE_EVENTS = ['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic'];

/** blueGreenTarget is an instance's record when a blue/green deployment is created. */
export function blueGreenTarget(deploymentId: string, targetId: string, label: 'Blue' | 'Green', now: number): TargetRecord {
  const events = label === 'Green' ? GREEN_EVENTS : BLUE_EVENTS;
  return { deploymentId, targetId, label, status: 'Pending', lastUpdatedAt: now, lifecycleEvents: events.map((name) => ({ lifecycleEventName: name, status: 'Pending' as const })) };
}

/** phaseEndOf is the last event of the phase `event` belongs to: an instance stops there until the next phase is started. */
export function phaseEndOf(event: string): string {
  return (IN_PLACE_EVENTS as readonly string[]).includes(event) ? 'ValidateService' : event;
}

/** phaseInstances are the instances that run `event`: the replacement for install and allow, the original for block. */
export function phaseInstances(spec: ServerBlueGreenSpec, event: TrafficHookEvent): readonly string[] {
  return event === 'BeforeBlockTraffic' || event === 'AfterBlockTraffic' ? spec.blue : spec.green;
}

/** COORDINATOR_EVENT is the coordinator's own event that comes before an agent event, done by the time that one starts. */
const COORDINATOR_EVENT: Partial<Record<TrafficHookEvent, string>> = { AfterAllowTraffic: 'AllowTraffic', AfterBlockTraffic: 'BlockTraffic' };

/** markCoordinatorEvent records the traffic move that precedes `event` (AllowTraffic before AfterAllowTraffic) as done at `now`. */
export function markCoordinatorEvent(target: TargetRecord, event: TrafficHookEvent, now: number): TargetRecord {
  const name = COORDINATOR_EVENT[event];
  if (name === undefined || !target.lifecycleEvents.some((e) => e.lifecycleEventName === name && e.status === 'Pending')) return target;
  return { ...target, lastUpdatedAt: now, lifecycleEvents: target.lifecycleEvents.map((e) => (e.lifecycleEventName === name ? { ...e, status: 'Succeeded' as const, startTime: now, endTime: now } : e)) };
}

/** PhaseStatus is how one phase stands on its instances. */
export type PhaseStatus = { status: 'InProgress' } | { status: 'Succeeded' } | { status: 'Failed'; failure: TrafficEnding };

/**
 * phaseStatus judges a phase from the records: `Install` by the install plan (the fleet planner's
 * minimum healthy hosts), any other event by its instances, where one failure fails the phase. An
 * instance already out (its install failed, so the event is Skipped) does not take part.
 */
export function phaseStatus(event: TrafficHookEvent, plan: FleetPlan | undefined, targets: readonly TargetRecord[], failureMessage: (code: string) => string): PhaseStatus {
  if (event === 'Install') {
    if (plan === undefined || plan.status === 'InProgress') return { status: 'InProgress' };
    if (plan.status === 'Succeeded') return { status: 'Succeeded' };
    const code = plan.errorCode ?? 'HEALTH_CONSTRAINTS';
    return { status: 'Failed', failure: { status: plan.status === 'Stopped' ? 'Stopped' : 'Failed', code, message: failureMessage(code) } };
  }
  const taking = targets.flatMap((t) => {
    const e = t.lifecycleEvents.find((x) => x.lifecycleEventName === event);
    return e === undefined || e.status === 'Skipped' ? [] : [{ name: t.targetId, status: e.status, errorCode: e.diagnostics?.errorCode }];
  });
  if (taking.some((t) => t.status === 'Pending' || t.status === 'InProgress')) return { status: 'InProgress' };
  const failed = taking.filter((t) => t.status === 'Failed');
  if (failed.length === 0) return { status: 'Succeeded' };
  const list = failed.map((f) => `${f.name}${f.errorCode === undefined ? '' : ` (${f.errorCode})`}`).join(', ');
  return { status: 'Failed', failure: { status: 'Failed', code: 'HEALTH_CONSTRAINTS', message: `${event} failed on ${failed.length} of ${taking.length} instance(s): ${list}` } };
}

/**
 * closeTarget ends an instance's record with its deployment: events that never ran are Skipped; the
 * instance failed if an event failed, or if the deployment did not succeed after it had started.
 */
export function closeTarget(target: TargetRecord, deploymentSucceeded: boolean, now: number): TargetRecord {
  const cut = target.lifecycleEvents.some((e) => e.status === 'Pending' || e.status === 'InProgress');
  const events = target.lifecycleEvents.map((e) => (e.status === 'Pending' || e.status === 'InProgress' ? { ...e, status: 'Skipped' as const, ...(e.status === 'InProgress' ? { endTime: now } : {}) } : e));
  const ran = events.some((e) => e.status === 'Succeeded' || e.status === 'Failed');
  const failed = events.some((e) => e.status === 'Failed');
  const status: TargetStatus = failed ? 'Failed' : !ran ? 'Skipped' : cut && !deploymentSucceeded ? 'Failed' : 'Succeeded';
  if (status === target.status && !cut) return target;
  return { ...target, status, lastUpdatedAt: now, lifecycleEvents: events };
}

/** targetStatusAfterPhase is an instance's status when a phase ended well and later events wait: Ready after the install. */
export function targetStatusAfterPhase(phaseEnd: string): TargetStatus {
  return phaseEnd === 'ValidateService' ? 'Ready' : 'InProgress';
}
