/**
 * The one rule for how far an instance has got through its lifecycle events, shared by `status` and
 * `--watch` so that both draw the same bar: a step counts when the instance got through it (it
 * Succeeded, or Failed in a stop event that ignoreApplicationStopFailures lets the instance pass).
 * A Failed or Skipped step is not progress: an instance that failed in ValidateService is at 6/7, a
 * skipped instance at 0/7. The steps are the instance's own events, so a blue/green replacement counts
 * ten (7/10 while it waits in Ready) and an original three (BeforeBlockTraffic … AfterBlockTraffic). Pure.
 */
import { StopEvents } from '@fleetdeploy/shared';

/** StepInput is one lifecycle event as either view knows it. */
export interface StepInput {
  readonly name: string;
  readonly status: string;
  /** When it started (epoch ms), for the running event's elapsed time. */
  readonly startedAt?: number;
}

/** InstanceSteps is where an instance stands. */
export interface InstanceSteps {
  /** The steps it got through (the bar's value). */
  readonly done: number;
  /** Its lifecycle events (the bar's length). */
  readonly total: number;
  /** The event running now. */
  readonly running?: StepInput;
  /** The event the instance failed in (an ignored stop-event failure is not one). */
  readonly failed?: string;
  /** A stop event that failed and was ignored. */
  readonly ignoredFailure?: string;
  /** The event to name: the running one, else the failed one, else the last it got through. */
  readonly current?: string;
}

/** isIgnoredFailure: a Failed stop event (ApplicationStop, BeforeBlockTraffic, AfterBlockTraffic) the deployment carries on past. */
function isIgnoredFailure(e: StepInput, ignoresStopFailures: boolean): boolean {
  return e.status === 'Failed' && ignoresStopFailures && (StopEvents as readonly string[]).includes(e.name);
}

/** countSteps applies the rule to an instance's events, in lifecycle order. */
export function countSteps(events: readonly StepInput[], ignoresStopFailures: boolean): InstanceSteps {
  let done = 0;
  let running: StepInput | undefined;
  let failed: string | undefined;
  let ignoredFailure: string | undefined;
  let last: string | undefined;
  for (const e of events) {
    if (isIgnoredFailure(e, ignoresStopFailures)) {
      ignoredFailure ??= e.name;
      done++;
      last = e.name;
    } else if (e.status === 'Succeeded') {
      done++;
      last = e.name;
    } else if (e.status === 'Failed') failed ??= e.name;
    else if (e.status === 'InProgress') running ??= e;
  }
  const current = running?.name ?? failed ?? last;
  return {
    done,
    total: events.length,
    ...(running === undefined ? {} : { running }),
    ...(failed === undefined ? {} : { failed }),
    ...(ignoredFailure === undefined ? {} : { ignoredFailure }),
    ...(current === undefined ? {} : { current }),
  };
}

/** formatElapsed is a duration for people: `0.4 s`, `12.3 s`, `2 min 05 s`. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
}
