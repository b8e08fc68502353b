/**
 * The batch planner of an in-place Server deployment: which instances get the revision when, so that
 * the number of healthy instances never drops below the configuration's minimum. Pure: a plan and an
 * event in, a new plan and the effects to perform out; the driver persists the plan and performs the
 * effects. Time never enters (timeouts arrive as failed results).
 *
 *                 budget = total − minimum healthy (instances allowed to be unavailable at once)
 *
 *   startFleet ──no targets──────────────▶ Failed (NO_INSTANCES)
 *        │ ─────budget ≤ 0────────────────▶ Failed (HEALTH_CONSTRAINTS_INVALID), nothing touched
 *        ▼
 *   InProgress ── start targets while inProgress + failed + 1 ≤ budget
 *        │ ──every target final──────────▶ Succeeded if succeeded ≥ minimum and ≥ 1, else Failed (HEALTH_CONSTRAINTS)
 *        │ ──failed ≥ budget, work left──▶ failing: pending → Skipped, in-flight finish ──▶ Failed (HEALTH_CONSTRAINTS)
 *        │ ──stop───────────────────────▶ stopping: pending → Skipped, in-flight cancelled ──▶ Stopped (MANUAL_STOP)
 *        │ ──alarm──────────────────────▶ the same, ending Stopped (ALARM_ACTIVE)
 *
 *        │ ──window closes (pauseFleet)───▶ paused: in-flight finish, nothing starts ──resumeFleet──▶ InProgress
 *
 *        │ ──failure, guided (onTargetResult hold)──▶ held: nothing starts, nothing ends, in-flight finish
 *        │      ──resolveHeld retry──▶ the instance runs again (still in flight, the budget unchanged)
 *        │      ──resolveHeld skip───▶ the instance is Skipped but stays unavailable (waived) for the budget
 *        │      ──resolveHeld fail───▶ failing (HEALTH_CONSTRAINTS, failedBy operator)
 *
 *   stopUnstarted (an alarm already firing at the start) ──▶ every target Skipped ──▶ Stopped (ALARM_ACTIVE)
 *
 * This is the reference model of codedeploy-semantics.md §8.3; it reproduces every documented
 * example, including OneAtATime's exception for the last instance (minimum = total − 1, so only the
 * final instance may fail).
 */

/** TargetStatus is CodeDeploy's status of one instance in a deployment. */
export type TargetStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped';

/** FleetStatus is the deployment's status as far as the planner decides it. */
export type FleetStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Stopped';

/** FleetErrorCode is CodeDeploy's ErrorInformation.code for how a deployment ended badly. */
export type FleetErrorCode = 'NO_INSTANCES' | 'HEALTH_CONSTRAINTS' | 'HEALTH_CONSTRAINTS_INVALID' | StopCode;

/** StopCode is why a deployment was stopped: a StopDeployment request, or alarm monitoring. */
export type StopCode = 'MANUAL_STOP' | 'ALARM_ACTIVE';

/** TargetPlan is one instance's place in the plan. */
export interface TargetPlan {
  readonly id: string;
  readonly status: TargetStatus;
}

/** FleetPlan is the planner's whole, serializable state. Targets are in scheduling order. */
export interface FleetPlan {
  readonly status: FleetStatus;
  readonly minimumHealthy: number;
  readonly targets: readonly TargetPlan[];
  /** Set once no instance may start any more, while in-flight ones finish. */
  readonly ending?: 'failing' | 'stopping';
  readonly errorCode?: FleetErrorCode;
  /** Set while the group's deployment window is closed: no instance starts, in-flight ones finish. */
  readonly paused?: boolean;
  /**
   * Guided failure: instances that failed (status Failed) and wait for an operator's retry, skip or
   * fail. While any waits, no instance starts and the deployment does not end.
   */
  readonly held?: readonly string[];
  /** Instances an operator skipped after they failed: Skipped, yet still unavailable for the minimum healthy budget. */
  readonly waived?: readonly string[];
  /** Set when an operator chose to fail the deployment (guided failure). */
  readonly failedBy?: 'operator';
}

/** FleetEffect is something the driver must do after persisting the new plan. */
export type FleetEffect =
  | { type: 'startTarget'; id: string }
  | { type: 'cancelTarget'; id: string }
  | { type: 'skipTarget'; id: string }
  /** Guided retry: the failed instance runs its lifecycle again from the start, as a new attempt. */
  | { type: 'restartTarget'; id: string }
  /** Guided skip: the failed instance is marked Skipped. */
  | { type: 'waiveTarget'; id: string }
  | { type: 'finish'; status: Exclude<FleetStatus, 'InProgress'>; errorCode?: FleetErrorCode };

/** FleetStep is a planner decision: the next plan and what to do about it. */
export interface FleetStep {
  plan: FleetPlan;
  effects: FleetEffect[];
}

/** FleetCounts tallies targets by status, as CodeDeploy's deploymentOverview does. */
export type FleetCounts = Record<TargetStatus, number>;

/** countTargets tallies a plan's targets by status. */
export function countTargets(plan: Pick<FleetPlan, 'targets'>): FleetCounts {
  const counts: FleetCounts = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0 };
  for (const t of plan.targets) counts[t.status]++;
  return counts;
}

/**
 * startFleet begins a deployment to `targetIds` (already in scheduling order, see orderTargets)
 * with at least `minimumHealthy` instances to stay healthy.
 */
export function startFleet(targetIds: readonly string[], minimumHealthy: number): FleetStep {
  const targets = targetIds.map((id) => ({ id, status: 'Pending' as const }));
  if (targets.length === 0) return finish({ status: 'InProgress', minimumHealthy, targets }, 'Failed', 'NO_INSTANCES', []);
  if (targets.length - minimumHealthy <= 0) {
    const skipped = targets.map((t) => ({ ...t, status: 'Skipped' as const }));
    return finish({ status: 'InProgress', minimumHealthy, targets: skipped }, 'Failed', 'HEALTH_CONSTRAINTS_INVALID', targets.map((t) => ({ type: 'skipTarget', id: t.id })));
  }
  return advance({ status: 'InProgress', minimumHealthy, targets }, []);
}

/**
 * onTargetResult records that an instance finished (its last lifecycle event reported, or it timed
 * out). A result for an instance that is not in flight is ignored, so redelivery is harmless.
 */
export function onTargetResult(plan: FleetPlan, id: string, outcome: 'Succeeded' | 'Failed', opts: { hold?: boolean } = {}): FleetStep {
  if (plan.status !== 'InProgress') return { plan, effects: [] };
  const index = plan.targets.findIndex((t) => t.id === id);
  if (index < 0 || plan.targets[index]!.status !== 'InProgress') return { plan, effects: [] };
  const targets = plan.targets.slice();
  targets[index] = { id, status: outcome };
  // Guided failure holds a failure for an operator, unless the deployment is already winding down.
  const hold = outcome === 'Failed' && opts.hold === true && plan.ending === undefined;
  return advance({ ...plan, targets, ...(hold ? { held: [...(plan.held ?? []), id] } : {}) }, []);
}

/** GuidedAction is an operator's answer to a held failure. */
export type GuidedAction = 'retry' | 'skip' | 'fail';

/**
 * resolveHeld applies an operator's decision about a held failed instance: retry runs it again (it
 * stays in flight, so the budget is as it was while it ran), skip marks it Skipped but keeps it
 * unavailable for the budget (it failed part-way), fail ends the deployment as failing (in-flight
 * instances finish, pending ones are skipped). Undefined when `id` is not held.
 */
export function resolveHeld(plan: FleetPlan, id: string, action: GuidedAction): FleetStep | undefined {
  if (plan.status !== 'InProgress' || !(plan.held ?? []).includes(id)) return undefined;
  const { held: _held, ...rest } = plan;
  const stillHeld = (plan.held ?? []).filter((h) => h !== id);
  const base: FleetPlan = stillHeld.length > 0 ? { ...rest, held: stillHeld } : rest;
  const targets = plan.targets.slice();
  const index = targets.findIndex((t) => t.id === id);
  switch (action) {
    case 'retry':
      targets[index] = { id, status: 'InProgress' };
      return advance({ ...base, targets }, [{ type: 'restartTarget', id }]);
    case 'skip':
      targets[index] = { id, status: 'Skipped' };
      return advance({ ...base, targets, waived: [...(plan.waived ?? []), id] }, [{ type: 'waiveTarget', id }]);
    case 'fail':
      // Every other held failure stays Failed: the deployment fails as a whole.
      return advance({ ...rest, ending: 'failing', errorCode: 'HEALTH_CONSTRAINTS', failedBy: 'operator' }, []);
  }
}

/**
 * onStop handles StopDeployment (or an alarm, with code ALARM_ACTIVE): nothing new starts, pending
 * instances are skipped, in-flight ones are cancelled, and the deployment is Stopped with `code`
 * once they have all reported. The first stop wins; a second one changes nothing.
 */
export function onStop(plan: FleetPlan, code: StopCode = 'MANUAL_STOP'): FleetStep {
  if (plan.status !== 'InProgress' || plan.ending === 'stopping') return { plan, effects: [] };
  const effects: FleetEffect[] = plan.targets.filter((t) => t.status === 'InProgress').map((t) => ({ type: 'cancelTarget', id: t.id }));
  const { held: _held, ...rest } = plan; // held failures stay Failed: nobody will decide about them now
  return advance({ ...rest, ending: 'stopping', errorCode: code }, effects);
}

/**
 * stopUnstarted is a deployment stopped before any instance started (an alarm that already fires
 * when it begins): every target is Skipped and it ends Stopped with `code`, whatever the fleet.
 */
export function stopUnstarted(targetIds: readonly string[], minimumHealthy: number, code: StopCode): FleetStep {
  const targets = targetIds.map((id) => ({ id, status: 'Pending' as const }));
  return advance({ status: 'InProgress', minimumHealthy, targets, ending: 'stopping', errorCode: code }, []);
}

/**
 * pauseFleet keeps new instances from starting (the group's deployment window closed) while those in
 * flight finish; the deployment stays InProgress until resumeFleet, a stop, or a failure ends it.
 */
export function pauseFleet(plan: FleetPlan): FleetStep {
  if (plan.status !== 'InProgress' || plan.paused === true) return { plan, effects: [] };
  return { plan: { ...plan, paused: true }, effects: [] };
}

/** resumeFleet lets a paused deployment start instances again, as many as its budget allows. */
export function resumeFleet(plan: FleetPlan): FleetStep {
  if (plan.status !== 'InProgress' || plan.paused !== true) return { plan, effects: [] };
  const { paused: _paused, ...rest } = plan;
  return advance(rest, []);
}

/** advance starts what the budget allows, or winds the deployment down, and finishes it when all is final. */
function advance(plan: FleetPlan, effects: FleetEffect[]): FleetStep {
  const budget = plan.targets.length - plan.minimumHealthy;
  const counts = countTargets(plan);
  // Instances skipped after they failed are not healthy either.
  const unavailable = counts.Failed + (plan.waived?.length ?? 0);
  const held = (plan.held?.length ?? 0) > 0;
  let next = plan;
  if (held) return { plan: next, effects }; // waiting for an operator: nothing starts, nothing ends
  if (next.ending === undefined && counts.Pending > 0 && unavailable >= budget) {
    next = { ...next, ending: 'failing', errorCode: 'HEALTH_CONSTRAINTS' }; // the minimum can no longer be kept
  }
  if (next.ending !== undefined && counts.Pending > 0) {
    effects.push(...next.targets.filter((t) => t.status === 'Pending').map((t) => ({ type: 'skipTarget' as const, id: t.id })));
    next = { ...next, targets: next.targets.map((t) => (t.status === 'Pending' ? { id: t.id, status: 'Skipped' as const } : t)) };
  }
  if (next.ending === undefined && next.paused !== true) {
    let inFlight = counts.InProgress;
    const targets = next.targets.slice();
    for (let i = 0; i < targets.length && inFlight + unavailable + 1 <= budget; i++) {
      if (targets[i]!.status !== 'Pending') continue;
      targets[i] = { id: targets[i]!.id, status: 'InProgress' };
      effects.push({ type: 'startTarget', id: targets[i]!.id });
      inFlight++;
    }
    next = { ...next, targets };
  }
  const final = countTargets(next);
  if (final.InProgress > 0 || final.Pending > 0) return { plan: next, effects };
  if (next.ending === 'stopping') return finish(next, 'Stopped', next.errorCode === 'ALARM_ACTIVE' ? 'ALARM_ACTIVE' : 'MANUAL_STOP', effects);
  const healthy = final.Succeeded >= next.minimumHealthy && final.Succeeded >= 1;
  return healthy && next.ending === undefined ? finish(next, 'Succeeded', undefined, effects) : finish(next, 'Failed', 'HEALTH_CONSTRAINTS', effects);
}

function finish(plan: FleetPlan, status: Exclude<FleetStatus, 'InProgress'>, errorCode: FleetErrorCode | undefined, effects: FleetEffect[]): FleetStep {
  const { ending, errorCode: previousCode, paused, ...rest } = plan; // a finished plan carries only its final code
  const done: FleetPlan = errorCode === undefined ? { ...rest, status } : { ...rest, status, errorCode };
  return { plan: done, effects: [...effects, errorCode === undefined ? { type: 'finish', status } : { type: 'finish', status, errorCode }] };
}

/** InstanceHealth is what CodeDeploy knows of an instance before a deployment starts. */
export interface InstanceHealth {
  id: string;
  health: 'Healthy' | 'Unhealthy';
  revision: 'Current' | 'Old' | 'Unknown';
}

/**
 * orderTargets puts instances in CodeDeploy's scheduling order: unhealthy first, then those with no
 * known revision, then old revisions, then current ones; ties keep their given order.
 */
export function orderTargets(instances: readonly InstanceHealth[]): string[] {
  const rank = (i: InstanceHealth): number => (i.health === 'Unhealthy' ? 0 : i.revision === 'Unknown' ? 1 : i.revision === 'Old' ? 2 : 3);
  return instances
    .map((i, position) => ({ i, position }))
    .sort((a, b) => rank(a.i) - rank(b.i) || a.position - b.position)
    .map(({ i }) => i.id);
}
