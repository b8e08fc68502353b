/**
 * The traffic plan of a Lambda (later ECS, HAProxy) deployment, and the pure decision of what to do
 * next. A traffic deployment goes through these phases, each recorded before it is acted on:
 *
 *   check ──▶ BeforeAllowTraffic hook ──▶ shift 1 … shift n (the last one = 100 %) ──▶ AfterAllowTraffic hook ──▶ Succeeded
 *     │                 │                            │                                      │
 *     └─────────────────┴──── failure, stop, alarm ──┴──────────────────────────────────────┴──▶ rollback ──▶ Failed | Stopped
 *
 * An ECS deployment (state.replacement set) first runs BeforeInstall, install (the replacement task
 * set), AfterInstall, testTraffic (test listener → replacement), AfterAllowTestTraffic; and after
 * AfterAllowTraffic waits terminationWaitTimeInMinutes before cleanup (deleting the original).
 *
 * Step k+1 is due one interval after step k was *applied* (not at a fixed offset from the start),
 * so a coordinator that was down for a while moves on one step from the weight it recorded, then
 * one step per interval: it never catches up by skipping steps, never jumps to 100 % and never goes
 * back. A step recorded as started but not as applied is applied again (routers are idempotent).
 * Pure: time comes in as `now`.
 */
import type { TrafficRoutingConfig } from '@fleetdeploy/shared';
import { trafficSchedule } from '@fleetdeploy/shared';

/** TrafficStep is one shift: `weight` percent to the new version, `waitMs` after the previous step was applied. */
export interface TrafficStep {
  weight: number;
  waitMs: number;
}

/**
 * trafficPlan lays a routing configuration out as steps, with CodeDeploy's minutes as `minuteMs`
 * each (60,000 outside tests). Worked example: LambdaCanary10Percent5Minutes → [10 % now, 100 % 5
 * minutes later]; LambdaLinear10PercentEvery1Minute → 10 % now, then +10 % every minute, 100 % at
 * minute 9; AllAtOnce → [100 % now].
 */
export function trafficPlan(routing: TrafficRoutingConfig, minuteMs: number): TrafficStep[] {
  const schedule = trafficSchedule(routing);
  return schedule.map((s, i) => ({ weight: s.percent, waitMs: i === 0 ? 0 : (s.atMinute - schedule[i - 1]!.atMinute) * minuteMs }));
}

/**
 * TrafficHookEvent is a lifecycle event a traffic deployment runs a validation function for (the
 * first three are ECS's only), or, in a Server blue/green deployment, a lifecycle event its agents run
 * ({@link AGENTS}); there `Install` stands for the whole in-place install of the replacement instances
 * (ApplicationStop … ValidateService).
 */
export type TrafficHookEvent = 'BeforeInstall' | 'AfterInstall' | 'AfterAllowTestTraffic' | 'BeforeAllowTraffic' | 'AfterAllowTraffic' | 'Install' | 'BeforeBlockTraffic' | 'AfterBlockTraffic';

/** AGENTS is the "function" of a Server blue/green event: the deployment's agents run it, not a Lambda function. */
export const AGENTS = 'agents';

/**
 * PrepareStage is a router step taken outside the shift: ECS's `install` creates the replacement task
 * set and `testTraffic` points the test listener at it; a Server blue/green deployment's `block`
 * drains the original servers once all traffic is on the replacement.
 */
export type PrepareStage = 'install' | 'testTraffic' | 'block';

/** HookExecution is one invocation of a validation function (or one run of an event on agents) and what it reported. */
export interface HookExecution {
  event: TrafficHookEvent;
  executionId: string;
  functionName: string;
  startedAt: number;
  deadlineAt: number;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  endedAt?: number;
  /** Set once the router has invoked the function; an execution recorded without it (a crash in between) is invoked again. */
  invoked?: boolean;
  /** How a failed run on agents ends the deployment (its own code and message, e.g. HEALTH_CONSTRAINTS). */
  failure?: TrafficEnding;
}

/** TrafficEnding is how a traffic deployment ends when it does not succeed: CodeDeploy's status and ErrorInformation. */
export interface TrafficEnding {
  status: 'Failed' | 'Stopped';
  code: string;
  message: string;
}

/**
 * TrafficState is everything the driver persists for one deployment (store/traffic-store.ts). It
 * is written before each action, so a restart knows what was under way.
 */
export interface TrafficState {
  deploymentId: string;
  steps: TrafficStep[];
  /** The validation function of each hooked event; an event without one is skipped. */
  hooks: Partial<Record<TrafficHookEvent, string>>;
  /** The router confirmed the original state (alias on CurrentVersion). */
  checked: boolean;
  /** Hook executions in the order they started. */
  executions: HookExecution[];
  /** The last step recorded as started: index, and when it was applied (undefined while it is being applied). */
  step?: { index: number; appliedAt?: number };
  /** Set when the deployment must be rolled back (failure, stop, alarm); the rollback is then due. */
  ending?: TrafficEnding;
  /** Set when the router has put traffic back on the original (rolled back). */
  rolledBack?: boolean;
  /**
   * ECS only (absent for Lambda): the lifecycle runs BeforeInstall, install, AfterInstall, testTraffic,
   * AfterAllowTestTraffic before BeforeAllowTraffic, and after AfterAllowTraffic waits
   * `terminationWaitMs` before the router's cleanup (deleting the original).
   */
  replacement?: {
    terminationWaitMs: number;
    /** The prepare stages the router has completed. */
    prepared: PrepareStage[];
    /** When the original may be cleaned up (recorded once AfterAllowTraffic is done), and whether it was. */
    cleanup?: { dueAt: number; done?: boolean };
  };
  /**
   * Server blue/green only (with `replacement` for the termination wait): the agents install the
   * replacement first; with a ready wait the deployment then waits in Ready for ContinueDeployment;
   * after AfterAllowTraffic the original servers run BeforeBlockTraffic, are drained (`block`) and
   * run AfterBlockTraffic; KEEP_ALIVE leaves them drained, TERMINATE retires them after the wait.
   */
  server?: {
    readyWaitMs?: number;
    ready?: { since: number; continued?: boolean };
    terminate: boolean;
  };
}

/** newTrafficState is the state of a traffic deployment that has not started. */
export function newTrafficState(deploymentId: string, steps: TrafficStep[], hooks: TrafficState['hooks'], terminationWaitMs?: number, server?: TrafficState['server']): TrafficState {
  return { deploymentId, steps, hooks, checked: false, executions: [], ...(terminationWaitMs === undefined ? {} : { replacement: { terminationWaitMs, prepared: [] } }), ...(server === undefined ? {} : { server }) };
}

/** SERVER_HOOKS are the events a Server blue/green deployment's agents run, all of them (an agent with no scripts for one reports at once). */
export const SERVER_HOOKS: TrafficState['hooks'] = { Install: AGENTS, BeforeAllowTraffic: AGENTS, AfterAllowTraffic: AGENTS, BeforeBlockTraffic: AGENTS, AfterBlockTraffic: AGENTS };

/** TrafficAction is what the driver must do next. */
export type TrafficAction =
  | { type: 'check' }
  | { type: 'invokeHook'; event: TrafficHookEvent; functionName: string; executionId?: string }
  | { type: 'waitHook'; until: number }
  | { type: 'shift'; index: number; weight: number }
  | { type: 'wait'; until: number }
  | { type: 'prepare'; stage: PrepareStage }
  | { type: 'ready' }
  | { type: 'scheduleCleanup'; dueAt: number }
  | { type: 'cleanup' }
  | { type: 'rollback'; ending: TrafficEnding }
  | { type: 'finish'; ending?: TrafficEnding };

/** hookTimeoutEnding is the failure of a validation function that never reported. */
function hookTimeoutEnding(e: HookExecution, capSeconds: number): TrafficEnding {
  if (e.functionName === AGENTS) return { status: 'Failed', code: 'TIMEOUT', message: `${e.event} did not end on the deployment's instances within ${Math.round((e.deadlineAt - e.startedAt) / 1000)} s` };
  return { status: 'Failed', code: 'HOOK_EXECUTION_FAILURE', message: `The ${e.event} hook function ${e.functionName} did not report a status with PutLifecycleEventHookExecutionStatus within ${capSeconds} s` };
}

/**
 * nextTrafficAction decides the next action from the recorded state. `hookCapSeconds` only words
 * the timeout message; the deadline itself is in the execution.
 */
export function nextTrafficAction(s: TrafficState, now: number, hookCapSeconds: number): TrafficAction {
  // Nothing is rolled back before the router has confirmed the original state: it may not be ours to change.
  if (s.ending !== undefined) return s.rolledBack === true || !s.checked ? { type: 'finish', ending: s.ending } : { type: 'rollback', ending: s.ending };
  if (!s.checked) return { type: 'check' };
  const hook = (event: TrafficHookEvent): TrafficAction | undefined => {
    const fn = s.hooks[event];
    if (fn === undefined) return undefined;
    const e = s.executions.find((x) => x.event === event);
    if (e === undefined) return { type: 'invokeHook', event, functionName: fn };
    if (e.status === 'Succeeded') return undefined;
    if (e.status === 'Failed') return { type: 'rollback', ending: e.failure ?? { status: 'Failed', code: 'HOOK_EXECUTION_FAILURE', message: `The ${event} hook function ${e.functionName} reported Failed` } };
    if (now >= e.deadlineAt) return { type: 'rollback', ending: hookTimeoutEnding(e, hookCapSeconds) };
    if (e.invoked !== true) return { type: 'invokeHook', event, functionName: e.functionName, executionId: e.executionId };
    return { type: 'waitHook', until: e.deadlineAt };
  };
  const prepared = (stage: PrepareStage): TrafficAction | undefined => (s.replacement === undefined || s.replacement.prepared.includes(stage) ? undefined : { type: 'prepare', stage });
  const first = <T>(steps: ReadonlyArray<() => T | undefined>): T | undefined => {
    for (const step of steps) {
      const action = step();
      if (action !== undefined) return action;
    }
    return undefined;
  };
  const beforeShift = s.server !== undefined
    ? [() => hook('Install'), () => readyAction(s, now), () => hook('BeforeAllowTraffic')]
    : s.replacement !== undefined
      ? [() => hook('BeforeInstall'), () => prepared('install'), () => hook('AfterInstall'), () => prepared('testTraffic'), () => hook('AfterAllowTestTraffic'), () => hook('BeforeAllowTraffic')]
      : [() => hook('BeforeAllowTraffic')];
  const afterShift = s.server !== undefined
    ? [() => hook('AfterAllowTraffic'), () => hook('BeforeBlockTraffic'), () => prepared('block'), () => hook('AfterBlockTraffic'), () => (s.server?.terminate === true ? cleanupAction(s, now) : undefined)]
    : [() => hook('AfterAllowTraffic'), () => cleanupAction(s, now)];
  return first([...beforeShift, () => shiftAction(s, now), ...afterShift]) ?? { type: 'finish' };
}

/** shiftAction is the next weight step, or the wait before it; undefined once the last step is applied. */
function shiftAction(s: TrafficState, now: number): TrafficAction | undefined {
  const last = s.steps.length - 1;
  if (s.step === undefined) return { type: 'shift', index: 0, weight: s.steps[0]!.weight };
  if (s.step.appliedAt === undefined) return { type: 'shift', index: s.step.index, weight: s.steps[s.step.index]!.weight };
  if (s.step.index >= last) return undefined;
  const next = s.step.index + 1;
  const due = s.step.appliedAt + s.steps[next]!.waitMs;
  return now >= due ? { type: 'shift', index: next, weight: s.steps[next]!.weight } : { type: 'wait', until: due };
}

/** cleanupAction is the termination wait and the removal of the original, for deployments that have one. */
function cleanupAction(s: TrafficState, now: number): TrafficAction | undefined {
  const r = s.replacement;
  if (r === undefined || r.cleanup?.done === true) return undefined;
  if (r.cleanup === undefined) return { type: 'scheduleCleanup', dueAt: now + r.terminationWaitMs };
  return now >= r.cleanup.dueAt ? { type: 'cleanup' } : { type: 'wait', until: r.cleanup.dueAt };
}

/**
 * readyAction is a Server blue/green deployment's deploymentReadyOption: with STOP_DEPLOYMENT it
 * waits in Ready for ContinueDeployment and is stopped when the wait runs out; CONTINUE_DEPLOYMENT
 * (no wait recorded) goes straight on.
 */
function readyAction(s: TrafficState, now: number): TrafficAction | undefined {
  const server = s.server;
  if (server?.readyWaitMs === undefined || server.ready?.continued === true) return undefined;
  if (server.ready === undefined) return { type: 'ready' };
  const until = server.ready.since + server.readyWaitMs;
  if (now < until) return { type: 'wait', until };
  return { type: 'rollback', ending: { status: 'Stopped', code: 'TIMEOUT', message: `Traffic was not rerouted: nobody called ContinueDeployment within the ${Math.round(server.readyWaitMs / 60_000)} minute(s) of deploymentReadyOption (STOP_DEPLOYMENT)` } };
}

/**
 * currentWeight is the weight the state says the new version has now: 0 before the first shift or
 * after a rollback; while a step is being applied (recorded, not yet confirmed), the step before it,
 * which the router still had a moment ago (never a false 0 in the middle of a shift).
 */
export function currentWeight(s: TrafficState): number {
  if (s.rolledBack === true || s.step === undefined) return 0;
  if (s.step.appliedAt !== undefined) return s.steps[s.step.index]!.weight;
  return s.step.index === 0 ? 0 : s.steps[s.step.index - 1]!.weight;
}
