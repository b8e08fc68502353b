/**
 * One instance's way through an in-place deployment: its lifecycle events in CodeDeploy's order,
 * one at a time, each ending Succeeded or Failed. Pure; the engine persists the record and sends
 * the commands.
 *
 *   Pending ──start──▶ InProgress ──event ok, more left──▶ next event
 *                          │ ──last event ok──────────────▶ Succeeded
 *                          │ ──event failed───────────────▶ Failed (later events Skipped)
 *                          │     (ApplicationStop / Before- and AfterBlockTraffic with
 *                          │      ignoreApplicationStopFailures: recorded Failed, carry on)
 *                          └ ──deployment stopping─────────▶ Failed after the running event
 */
import { StopEvents } from '@fleetdeploy/shared';
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

/** startNextEvent marks the first pending event InProgress; undefined when none is left. */
export function startNextEvent(target: TargetRecord, now: number): { target: TargetRecord; event: string } | undefined {
  const index = target.lifecycleEvents.findIndex((e) => e.status === 'Pending');
  if (index < 0) return undefined;
  const events = target.lifecycleEvents.slice();
  events[index] = { ...events[index]!, status: 'InProgress', startTime: now };
  return { target: { ...target, status: 'InProgress', lastUpdatedAt: now, lifecycleEvents: events }, event: events[index]!.lifecycleEventName };
}

/**
 * finishEvent records an event's outcome. It returns the instance's final status when the instance
 * is done: after its last event, after a failure that is not ignored, or when `stopping` (nothing
 * further may start). Otherwise the instance goes on with its next event.
 */
export function finishEvent(
  target: TargetRecord,
  event: string,
  outcome: EventOutcome,
  opts: { ignoreApplicationStopFailures: boolean; stopping: boolean; now: number },
): { target: TargetRecord; final?: 'Succeeded' | 'Failed' } {
  const index = target.lifecycleEvents.findIndex((e) => e.lifecycleEventName === event);
  if (index < 0 || target.lifecycleEvents[index]!.status !== 'InProgress') return { target };
  let events = target.lifecycleEvents.slice();
  events[index] = { ...events[index]!, status: outcome.status, endTime: opts.now, diagnostics: outcome.diagnostics };
  const ignored = outcome.status === 'Failed' && opts.ignoreApplicationStopFailures && (StopEvents as readonly string[]).includes(event);
  const failed = outcome.status === 'Failed' && !ignored;
  const remaining = events.some((e) => e.status === 'Pending');
  let final: 'Succeeded' | 'Failed' | undefined;
  if (failed || (opts.stopping && remaining)) final = 'Failed';
  else if (!remaining) final = 'Succeeded';
  if (final !== undefined) events = events.map((e) => (e.status === 'Pending' ? { ...e, status: 'Skipped' as const } : e));
  return { target: { ...target, status: final ?? 'InProgress', lastUpdatedAt: opts.now, lifecycleEvents: events }, ...(final ? { final } : {}) };
}

/** skipTarget marks an instance the deployment never started. */
export function skipTarget(target: TargetRecord, now: number): TargetRecord {
  return { ...target, status: 'Skipped', lastUpdatedAt: now, lifecycleEvents: target.lifecycleEvents.map((e) => (e.status === 'Pending' ? { ...e, status: 'Skipped' as const } : e)) };
}
