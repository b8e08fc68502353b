/**
 * One instance's way through an in-place deployment: its lifecycle events in CodeDeploy's order,
 * one at a time, each ending Succeeded or Failed. Pure; the engine persists the record and sends
 * the commands.
 *
 * An event waits Pending until the agent acknowledges its command (the agent may be offline), and is
 * timed from then: InProgress and its startTime mean "the agent started it".
 *
 *   Pending ──start──▶ InProgress ──event ok, more left──▶ next event (queued Pending, started on ack)
 *                          │ ──last event ok──────────────▶ Succeeded
 *                          │ ──event failed───────────────▶ Failed (later events Skipped)
 *                          │     (ApplicationStop / Before- and AfterBlockTraffic with
 *                          │      ignoreApplicationStopFailures: recorded Failed, carry on)
 *                          └ ──deployment stopping─────────▶ Failed after the running event
 */
import { ON_FAILURE_EVENT, StopEvents } from '@fleetdeploy/shared';
import type { LifecycleEventRecord, TargetRecord } from '../store/records.js';

/** IN_PLACE_EVENTS are the lifecycle events of an in-place deployment without a load balancer. */
export const IN_PLACE_EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'] as const;

/** EventOutcome is how an agent reported one event. */
export interface EventOutcome {
  status: 'Succeeded' | 'Failed';
  diagnostics: NonNullable<LifecycleEventRecord['diagnostics']>;
}

/** newTarget is an instance's record when a deployment resolves it as a target. */
export function newTarget(deploymentId: string, targetId: string, now: number): TargetRecord {
  return {
    deploymentId,
    targetId,
    status: 'Pending',
    lastUpdatedAt: now,
    lifecycleEvents: IN_PLACE_EVENTS.map((name) => ({ lifecycleEventName: name, status: 'Pending' as const })),
  };
}

/** currentEvent is the event an instance is running (or about to run), if any. */
export function currentEvent(target: TargetRecord): string | undefined {
  return target.lifecycleEvents.find((e) => e.status === 'InProgress' || e.status === 'Pending')?.lifecycleEventName;
}

/**
 * queueNextEvent picks the first pending event for a command and marks the instance InProgress; the
 * event itself stays Pending until {@link eventStarted}. Undefined when no event is left.
 */
export function queueNextEvent(target: TargetRecord, now: number): { target: TargetRecord; event: string } | undefined {
  const next = target.lifecycleEvents.find((e) => e.status === 'Pending');
  if (next === undefined) return undefined;
  return { target: { ...target, status: 'InProgress', lastUpdatedAt: now }, event: next.lifecycleEventName };
}

/** eventStarted marks a queued event InProgress from `now`, when the agent acknowledges its command; anything else is unchanged. */
export function eventStarted(target: TargetRecord, event: string, now: number): TargetRecord {
  const index = target.lifecycleEvents.findIndex((e) => e.lifecycleEventName === event);
  if (index < 0 || target.lifecycleEvents[index]!.status !== 'Pending' || target.status !== 'InProgress') return target;
  const events = target.lifecycleEvents.slice();
  events[index] = { ...events[index]!, status: 'InProgress', startTime: now };
  return { ...target, lastUpdatedAt: now, lifecycleEvents: events };
}

/**
 * finishEvent records an event's outcome. It returns the instance's final status when the instance
 * is done: after its last event, after a failure that is not ignored, or when `stopping` (nothing
 * further may start). Otherwise the instance goes on with its next event. The event may still be
 * Pending (a result without an acknowledgement, or a pick-up timeout): it then has no startTime.
 */
export function finishEvent(
  target: TargetRecord,
  event: string,
  outcome: EventOutcome,
  opts: { ignoreApplicationStopFailures: boolean; stopping: boolean; now: number; phaseEnd?: string },
): { target: TargetRecord; final?: 'Succeeded' | 'Failed' } {
  const index = target.lifecycleEvents.findIndex((e) => e.lifecycleEventName === event);
  // Only the instance's current event (the first not ended) can end: anything else is a redelivery.
  const currentIndex = target.lifecycleEvents.findIndex((e) => e.status === 'InProgress' || e.status === 'Pending');
  if (index < 0 || index !== currentIndex || target.status !== 'InProgress') return { target };
  let events = target.lifecycleEvents.slice();
  events[index] = { ...events[index]!, status: outcome.status, endTime: opts.now, diagnostics: outcome.diagnostics };
  const ignored = outcome.status === 'Failed' && opts.ignoreApplicationStopFailures && (StopEvents as readonly string[]).includes(event);
  const failed = outcome.status === 'Failed' && !ignored;
  // A blue/green phase (blue-green.ts) ends at `phaseEnd`; the events after it wait for the next phase.
  const end = opts.phaseEnd === undefined ? events.length - 1 : events.findIndex((e) => e.lifecycleEventName === opts.phaseEnd);
  const remaining = events.some((e, i) => e.status === 'Pending' && i <= end);
  const later = events.some((e, i) => e.status === 'Pending' && i > end);
  let final: 'Succeeded' | 'Failed' | undefined;
  if (failed || (opts.stopping && remaining)) final = 'Failed';
  else if (!remaining) final = 'Succeeded';
  if (final === 'Failed' || (final === 'Succeeded' && !later)) events = events.map((e) => (e.status === 'Pending' ? { ...e, status: 'Skipped' as const } : e));
  // Between phases an instance is Ready once installed (CodeDeploy's blue/green status), else still InProgress.
  const between = final === 'Succeeded' && later ? (opts.phaseEnd === 'ValidateService' ? 'Ready' : 'InProgress') : undefined;
  return { target: { ...target, status: between ?? final ?? 'InProgress', lastUpdatedAt: opts.now, lifecycleEvents: events }, ...(final ? { final } : {}) };
}

/** skipTarget marks an instance the deployment never started. */
export function skipTarget(target: TargetRecord, now: number): TargetRecord {
  return { ...target, status: 'Skipped', lastUpdatedAt: now, lifecycleEvents: target.lifecycleEvents.map((e) => (e.status === 'Pending' ? { ...e, status: 'Skipped' as const } : e)) };
}

/**
 * retryTarget starts a new attempt of a failed instance (guided failure's retry): every event
 * Pending again, the failed attempt's events kept in previousAttempts.
 */
export function retryTarget(target: TargetRecord, now: number): TargetRecord {
  const fresh = newTarget(target.deploymentId, target.targetId, now);
  return { ...target, status: 'Pending', lastUpdatedAt: now, lifecycleEvents: fresh.lifecycleEvents, attempt: (target.attempt ?? 1) + 1, previousAttempts: [...(target.previousAttempts ?? []), target.lifecycleEvents] };
}

/** waiveTarget marks a failed instance Skipped (guided failure's skip); its failed events stay as they were. */
export function waiveTarget(target: TargetRecord, now: number): TargetRecord {
  return { ...target, status: 'Skipped', lastUpdatedAt: now };
}

/** wasWaived tells an instance that was skipped after it failed. */
export function wasWaived(target: TargetRecord): boolean {
  return target.status === 'Skipped' && target.lifecycleEvents.some((e) => e.status === 'Failed');
}

/** HookReport is how the agent's OnFailure hook ended, after an event failed (times on the agent's clock). */
export interface HookReport {
  status: 'Succeeded' | 'Failed';
  diagnostics: EventOutcome['diagnostics'];
  startedAt: number;
  endedAt: number;
}

/**
 * recordOnFailure adds the OnFailure hook's report as one more lifecycle event after the instance's
 * own: it never changes the instance's status or the failure that ended it.
 */
export function recordOnFailure(target: TargetRecord, report: HookReport): TargetRecord {
  const event: LifecycleEventRecord = { lifecycleEventName: ON_FAILURE_EVENT, status: report.status, startTime: report.startedAt, endTime: report.endedAt, diagnostics: report.diagnostics };
  return { ...target, lifecycleEvents: [...target.lifecycleEvents.filter((e) => e.lifecycleEventName !== ON_FAILURE_EVENT), event] };
}
