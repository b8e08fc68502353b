/**
 * The traffic driver runs traffic-shifted deployments (Lambda today): the effectful half beside
 * plan.ts. For each deployment it loops: read the recorded {@link TrafficState}, ask the plan for
 * the next action, record the intent, act through the deployment's {@link TrafficRouter}, record
 * the outcome. Waits (the next step, a hook's report) are timers that only re-enter the loop, so a
 * coordinator killed at any point restarts from the record: the step it recorded is applied again
 * (routers are idempotent) and the next one waits its full interval.
 *
 *   API ──create / stop / hook status──▶ driver ──check / shift / invoke / rollback──▶ router ──▶ Lambda
 *                                          ▲ └── timers (clock): next step, hook deadline
 *                                          └──── alarm watch: stop with ALARM_ACTIVE
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../clock.js';
import type { Store } from '../../store/store.js';
import type { TrafficStore } from '../../store/traffic-store.js';
import type { DeploymentRecord } from '../../store/records.js';
import { isFinalStatus } from '../../store/records.js';
import type { AlarmStop, AlarmWatch } from '../../alarms/alarm-watch.js';
import type { DeploymentEvent, DeploymentEventListener } from '../events.js';
import { revisionKey } from '../../api/operations/revision-location.js';
import { newUuid } from '../../ids.js';
import type { HookExecution, TrafficEnding, TrafficHookEvent, TrafficState } from './plan.js';
import { AGENTS, newTrafficState, nextTrafficAction, SERVER_HOOKS, trafficPlan } from './plan.js';
import type { PhaseStatus } from '../blue-green.js';
import type { TrafficRouter } from './router.js';
import { isRouterError } from './router.js';
import type { DiskFullWatch } from '../../store/disk-full.js';

/** HookReport is the outcome of PutLifecycleEventHookExecutionStatus for the driver's deployments. */
export type HookReport = 'recorded' | 'unknownExecution' | 'alreadyReported' | 'deploymentCompleted';

/** AgentPhases runs a Server blue/green deployment's events on its agents (the engine does, blue-green-phases.ts). */
export interface AgentPhases {
  /** startPhase begins `event` on the instances that run it (Install: the whole in-place install of the replacement); idempotent. */
  startPhase(deploymentId: string, event: TrafficHookEvent): void;
  /** phaseStatus is how `event` stands on those instances. */
  phaseStatus(deploymentId: string, event: TrafficHookEvent): PhaseStatus;
  /** endPhases cancels what still runs and closes the instances' records as the deployment ends. */
  endPhases(deploymentId: string, succeeded: boolean): void;
}

/** ContinueResult is the outcome of ContinueDeployment READY_WAIT. */
export type ContinueResult = 'continued' | 'notReady';

/** TrafficDriver is what the API and the composition root call. */
export interface TrafficDriver {
  /** start resumes every active traffic deployment (after a restart). */
  start(): void;
  stop(): void;
  deploymentCreated(deploymentId: string): void;
  stopRequested(deploymentId: string, autoRollbackEnabled: boolean): 'Pending' | 'Succeeded';
  hookReported(deploymentId: string, executionId: string, status: 'Succeeded' | 'Failed'): HookReport;
  /** skipTerminationWait makes a replacement's pending cleanup due now. */
  skipTerminationWait(deploymentId: string): 'skipped' | 'notWaiting';
  /** continueDeployment ends a Server blue/green deployment's wait in Ready: traffic is rerouted now. */
  continueDeployment(deploymentId: string): ContinueResult;
  /** agentsProgressed tells the driver that an instance of one of its blue/green deployments moved on; it acts once the caller's turn is over. */
  agentsProgressed(deploymentId: string): void;
  subscribe(listener: DeploymentEventListener): () => void;
}

/** TrafficDriverDeps are passed in by the composition root. */
export interface TrafficDriverDeps {
  store: Store;
  traffic: TrafficStore;
  clock: Clock;
  /** routerFor builds the router of one deployment (a Lambda alias for a Lambda deployment). */
  routerFor(deployment: DeploymentRecord): TrafficRouter;
  /** A CodeDeploy minute in milliseconds: 60,000, shorter only in tests. */
  minuteMs: number;
  /** How long a hook function has to report (CodeDeploy: one hour). */
  hookTimeoutSeconds: number;
  log: Logger;
  alarms?: AlarmWatch;
  /** The agents of Server blue/green deployments; without it such a deployment fails at its first phase. */
  agents?: AgentPhases;
  /** Where a step that failed for a full disk is reported (one log line per episode). */
  disk?: DiskFullWatch;
  /**
   * recordEvents writes what a deployment status change owes to the outside (trigger notifications)
   * inside the transaction that changes it, as the engine does.
   */
  recordEvents?: (events: readonly DeploymentEvent[]) => void;
}

/**
 * AGENT_PHASE_CAP_MS bounds one phase on the agents (the install of the whole replacement fleet
 * included): CodeDeploy's 48 hours from an EC2 blue/green deployment's start to its reroute. Each
 * event has its own, shorter timeout on every instance.
 */
const AGENT_PHASE_CAP_MS = 48 * 3600 * 1000;

/** RETRY_MS is how soon a rollback that could not reach the router is tried again. */
const RETRY_MS = 5_000;

/** isTrafficDeployment tells the deployments this driver runs. */
export function isTrafficDeployment(d: Pick<DeploymentRecord, 'computePlatform' | 'blueGreen'>): boolean {
  return d.computePlatform === 'Lambda' || d.computePlatform === 'ECS' || d.blueGreen !== undefined;
}

/** requireStep returns a router's optional step, or throws: a plan asked for a step the router does not take. */
function requireStep<T>(step: T | undefined, name: string): T {
  if (step === undefined) throw new Error(`the router has no ${name} step`);
  return step;
}

/** newStateOf is the traffic state a deployment starts with, from its Lambda or ECS spec. */
function newStateOf(d: DeploymentRecord, minuteMs: number): TrafficState | undefined {
  const bg = d.blueGreen;
  if (bg !== undefined) {
    const terminate = bg.terminate.action === 'TERMINATE';
    const server = { terminate, ...(bg.readyWaitMinutes === undefined ? {} : { readyWaitMs: bg.readyWaitMinutes * minuteMs }) };
    return newTrafficState(d.deploymentId, trafficPlan(bg.trafficRoutingConfig, minuteMs), SERVER_HOOKS, terminate ? bg.terminate.waitMinutes * minuteMs : 0, server);
  }
  const spec = d.lambda ?? d.ecs;
  if (spec === undefined) return undefined;
  const wait = d.ecs === undefined ? undefined : d.ecs.terminationWaitMinutes * minuteMs;
  return newTrafficState(d.deploymentId, trafficPlan(spec.trafficRoutingConfig, minuteMs), spec.hooks, wait);
}

/** createTrafficDriver builds the driver; call start() once the API can be served. */
export function createTrafficDriver(deps: TrafficDriverDeps): TrafficDriver {
  const { store, traffic, clock, log, alarms } = deps;
  const timers = new Map<string, Timer>();
  /** Deployments whose loop is running, and whether it must look again when it would stop. */
  const looping = new Map<string, { again: boolean }>();
  const listeners = new Set<DeploymentEventListener>();
  let running = false;

  function emit(event: DeploymentEvent): void {
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        log.error({ err }, 'deployment event listener failed');
      }
    }
  }

  /** update changes a deployment's recorded state in one transaction and returns it. */
  function update(id: string, change: (s: TrafficState) => TrafficState): TrafficState | undefined {
    return store.transaction(() => {
      const current = traffic.get(id);
      if (current === undefined) return undefined;
      const next = change(current);
      traffic.put(next);
      return next;
    });
  }

  /** endWith records why the deployment ends (the first reason wins); the loop then rolls back. */
  function endWith(id: string, ending: TrafficEnding): void {
    update(id, (s) => (s.ending !== undefined ? s : { ...s, ending }));
  }

  function endingOf(err: unknown): TrafficEnding {
    if (isRouterError(err)) return { status: 'Failed', code: err.code, message: err.message };
    log.error({ err }, 'traffic router failed unexpectedly');
    return { status: 'Failed', code: 'INTERNAL_ERROR', message: `Internal error while shifting traffic: ${err instanceof Error ? err.message : String(err)}` };
  }

  /** kick (re)enters a deployment's loop; a loop already running looks once more before it stops. */
  function kick(id: string): void {
    if (!running) return;
    timers.get(id)?.cancel();
    timers.delete(id);
    const active = looping.get(id);
    if (active !== undefined) {
      active.again = true;
      return;
    }
    const entry = { again: false };
    looping.set(id, entry);
    void (async () => {
      try {
        do {
          entry.again = false;
          await advance(id);
        } while (entry.again && running);
      } catch (err) {
        if (deps.disk?.failed(err, 'traffic step') === true) log.debug({ deploymentId: id }, 'traffic step not stored: the disk is full; retrying');
        else log.error({ err, deploymentId: id }, 'traffic step failed; retrying');
        wakeAt(id, clock.now() + RETRY_MS);
      } finally {
        looping.delete(id);
      }
    })();
  }

  function wakeAt(id: string, at: number): void {
    if (!running) return;
    timers.get(id)?.cancel();
    timers.set(id, clock.setTimeout(() => kick(id), at - clock.now()));
  }

  /** advance performs actions until the deployment has to wait or has ended. */
  async function advance(id: string): Promise<void> {
    for (;;) {
      const deployment = store.getDeployment(id);
      const state = traffic.get(id);
      if (deployment === undefined || state === undefined || isFinalStatus(deployment.status) || deployment.status === 'Created') return;
      if (syncAgentPhases(id, state)) continue;
      const router = deps.routerFor(deployment);
      const action = nextTrafficAction(state, clock.now(), deps.hookTimeoutSeconds);
      const dlog = log.child({ deploymentId: id });
      switch (action.type) {
        case 'check':
          try {
            await router.check();
            update(id, (s) => ({ ...s, checked: true }));
          } catch (err) {
            endWith(id, endingOf(err));
          }
          break;
        case 'invokeHook': {
          const now = clock.now();
          let executionId = action.executionId;
          const onAgents = action.functionName === AGENTS;
          if (executionId === undefined) {
            // Recorded before the invocation: a crash in between invokes the same execution again.
            const deadlineAt = now + (onAgents ? AGENT_PHASE_CAP_MS : deps.hookTimeoutSeconds * 1000);
            const execution: HookExecution = { event: action.event, executionId: newUuid(), functionName: action.functionName, startedAt: now, deadlineAt, status: 'InProgress' };
            executionId = execution.executionId;
            update(id, (s) => ({ ...s, executions: [...s.executions, execution] }));
            // The agents' events are reported per instance by the engine.
            if (!onAgents) emit({ type: 'lifecycleEvent', deploymentId: id, instanceName: targetName(deployment), lifecycleEvent: action.event, status: 'InProgress', at: now });
          }
          try {
            if (!onAgents) await router.invokeHook(action.functionName, { DeploymentId: id, LifecycleEventHookExecutionId: executionId });
            else if (deps.agents === undefined) throw new Error('this coordinator runs no agents for blue/green deployments');
            else deps.agents.startPhase(id, action.event);
          } catch (err) {
            endWith(id, endingOf(err));
            break;
          }
          update(id, (s) => ({ ...s, executions: s.executions.map((e) => (e.executionId === executionId ? { ...e, invoked: true } : e)) }));
          dlog.info({ event: action.event, function: action.functionName, executionId }, 'hook function invoked');
          break;
        }
        case 'shift':
          update(id, (s) => ({ ...s, step: { index: action.index } }));
          try {
            await router.shift(action.weight);
          } catch (err) {
            endWith(id, endingOf(err));
            break;
          }
          update(id, (s) => (s.step?.index === action.index ? { ...s, step: { index: action.index, appliedAt: clock.now() } } : s));
          dlog.info({ weight: action.weight, step: action.index }, 'traffic shifted');
          // every step is told, so a watcher sees each one rather than what a poll happens to catch
          emit({ type: 'traffic', deploymentId: id, weight: action.weight, at: clock.now() });
          break;
        case 'prepare':
          try {
            await requireStep(router.prepare, 'prepare').call(router, action.stage);
          } catch (err) {
            endWith(id, endingOf(err));
            break;
          }
          update(id, (s) => (s.replacement === undefined ? s : { ...s, replacement: { ...s.replacement, prepared: [...s.replacement.prepared, action.stage] } }));
          dlog.info({ stage: action.stage }, 'replacement prepared');
          break;
        case 'scheduleCleanup':
          update(id, (s) => (s.replacement === undefined ? s : { ...s, replacement: { ...s.replacement, cleanup: { dueAt: action.dueAt } } }));
          break;
        case 'cleanup':
          try {
            await requireStep(router.cleanup, 'cleanup').call(router);
          } catch (err) {
            // Traffic is all on the replacement already: a failed cleanup fails the deployment but is not rolled back.
            const ending = endingOf(err);
            finish(id, ending);
            return;
          }
          update(id, (s) => (s.replacement?.cleanup === undefined ? s : { ...s, replacement: { ...s.replacement, cleanup: { ...s.replacement.cleanup, done: true } } }));
          dlog.info('original removed after the termination wait');
          break;
        case 'ready': {
          const now = clock.now();
          update(id, (s) => (s.server === undefined || s.server.ready !== undefined ? s : { ...s, server: { ...s.server, ready: { since: now } } }));
          setStatus(id, 'Ready');
          dlog.info('replacement installed; waiting in Ready for ContinueDeployment');
          break;
        }
        case 'wait':
        case 'waitHook':
          wakeAt(id, action.until);
          return;
        case 'rollback':
          endWith(id, action.ending); // a hook's failure or timeout is decided here, not yet recorded
          try {
            await router.rollback();
          } catch (err) {
            dlog.error({ err }, 'could not put traffic back on the original; retrying');
            wakeAt(id, clock.now() + RETRY_MS);
            return;
          }
          update(id, (s) => ({ ...s, rolledBack: true }));
          dlog.info({ code: action.ending.code }, 'traffic rolled back to the original');
          emit({ type: 'traffic', deploymentId: id, weight: 0, at: clock.now() });
          break;
        case 'finish':
          finish(id, action.ending);
          return;
      }
    }
  }

  /**
   * syncAgentPhases records the outcome of a phase its agents have ended (read from the engine's
   * records, so a restart loses nothing); true when it recorded one.
   */
  function syncAgentPhases(id: string, state: TrafficState): boolean {
    const agents = deps.agents;
    const running = state.executions.find((e) => e.functionName === AGENTS && e.status === 'InProgress' && e.invoked === true);
    if (agents === undefined || running === undefined) return false;
    const phase = agents.phaseStatus(id, running.event);
    if (phase.status === 'InProgress') return false;
    const now = clock.now();
    update(id, (s) => ({
      ...s,
      executions: s.executions.map((e) => (e.executionId === running.executionId ? { ...e, status: phase.status, endedAt: now, ...(phase.status === 'Failed' ? { failure: phase.failure } : {}) } : e)),
    }));
    return true;
  }

  /** setStatus moves a running deployment between InProgress and Ready, and says so. */
  function setStatus(id: string, status: 'InProgress' | 'Ready'): void {
    const event: DeploymentEvent = { type: 'deployment', deploymentId: id, status, at: clock.now() };
    const changed = store.transaction(() => {
      const d = store.getDeployment(id);
      if (d === undefined || isFinalStatus(d.status) || d.status === status) return false;
      store.putDeployment({ ...d, status });
      deps.recordEvents?.([event]);
      return true;
    });
    if (changed) emit(event);
  }

  /** finish records the deployment's end, and its group's last deployments, as the in-place engine does. */
  function finish(id: string, ending: TrafficEnding | undefined): void {
    const now = clock.now();
    const status: 'Succeeded' | 'Failed' | 'Stopped' = ending?.status ?? 'Succeeded';
    const event: DeploymentEvent = { type: 'deployment', deploymentId: id, status, ...(ending === undefined ? {} : { errorCode: ending.code }), at: now };
    const done = store.transaction(() => {
      const deployment = store.getDeployment(id);
      if (deployment === undefined || isFinalStatus(deployment.status)) return false;
      store.putDeployment({ ...deployment, status, completeTime: now, ...(ending === undefined ? {} : { errorInformation: { code: ending.code, message: ending.message } }) });
      const group = store.getGroupById(deployment.deploymentGroupId);
      if (group !== undefined) {
        const summary = { deploymentId: id, status, endTime: now, createTime: deployment.createTime };
        store.putGroup({ ...group, lastAttemptedDeployment: summary, ...(status === 'Succeeded' ? { lastSuccessfulDeployment: summary, targetRevision: deployment.revision } : {}) });
      }
      const revision = store.getRevision(deployment.applicationName, revisionKey(deployment.revision));
      if (revision !== undefined) store.putRevision({ ...revision, lastUsedTime: now });
      deps.recordEvents?.([event]);
      return true;
    });
    if (!done) return;
    if (store.getDeployment(id)?.blueGreen !== undefined) deps.agents?.endPhases(id, status === 'Succeeded');
    log.info({ deploymentId: id, status, errorCode: ending?.code }, 'deployment finished');
    emit(event);
  }

  /** begin moves a Created deployment to InProgress once its alarms (if any) have been read. */
  function begin(id: string): void {
    const go = (stop: AlarmStop | undefined): void => {
      const started = store.transaction(() => {
        const d = store.getDeployment(id);
        const fresh = d === undefined ? undefined : newStateOf(d, deps.minuteMs);
        if (d?.status !== 'Created' || fresh === undefined) return false;
        const now = clock.now();
        const state = traffic.get(id) ?? fresh;
        const ending: TrafficEnding | undefined = d.stopRequested !== undefined
          ? { status: 'Stopped', code: 'MANUAL_STOP', message: 'The deployment was stopped with StopDeployment before it started' }
          : stop === undefined ? undefined : { status: 'Stopped', code: stop.code, message: stop.message };
        traffic.put(ending === undefined || state.ending !== undefined ? state : { ...state, ending });
        store.putDeployment({ ...d, status: 'InProgress', startTime: now, ...(stop !== undefined && d.stopRequested === undefined ? { alarmStop: { at: now, message: stop.message } } : {}) });
        deps.recordEvents?.([{ type: 'deployment', deploymentId: id, status: 'InProgress', at: now }]);
        return true;
      });
      if (!started) return;
      emit({ type: 'deployment', deploymentId: id, status: 'InProgress', at: clock.now() });
      watch(id);
      kick(id);
    };
    if (alarms === undefined) go(undefined);
    else alarms.beforeStart(id, go);
  }

  function watch(id: string): void {
    alarms?.watch(id, (stop) => {
      store.transaction(() => {
        const d = store.getDeployment(id);
        if (d !== undefined && !isFinalStatus(d.status) && d.alarmStop === undefined && d.stopRequested === undefined) store.putDeployment({ ...d, alarmStop: { at: clock.now(), message: stop.message } });
      });
      endWith(id, { status: 'Stopped', code: stop.code, message: stop.message });
      kick(id);
    });
  }

  return {
    start() {
      running = true;
      for (const d of store.activeDeployments()) {
        if (!isTrafficDeployment(d) || d.status === 'Queued') continue; // the window gate starts a queued one
        if (d.status === 'Created') begin(d.deploymentId);
        else {
          watch(d.deploymentId);
          kick(d.deploymentId);
        }
      }
    },

    stop() {
      running = false;
      for (const t of timers.values()) t.cancel();
      timers.clear();
    },

    deploymentCreated(id) {
      begin(id);
    },

    stopRequested(id, autoRollbackEnabled) {
      store.transaction(() => {
        const d = store.getDeployment(id);
        if (d !== undefined && d.stopRequested === undefined) store.putDeployment({ ...d, stopRequested: { at: clock.now(), autoRollbackEnabled } });
      });
      endWith(id, { status: 'Stopped', code: 'MANUAL_STOP', message: 'The deployment was stopped with StopDeployment; traffic is back on the original version' });
      kick(id);
      return 'Pending';
    },

    hookReported(id, executionId, status) {
      const report = store.transaction((): HookReport => {
        const d = store.getDeployment(id);
        const state = traffic.get(id);
        const e = state?.executions.find((x) => x.executionId === executionId);
        // A blue/green event on agents is reported by the agents, never through the API.
        if (d === undefined || state === undefined || e === undefined || e.functionName === AGENTS) return 'unknownExecution';
        if (e.status !== 'InProgress') return 'alreadyReported';
        if (isFinalStatus(d.status)) return 'deploymentCompleted';
        traffic.put({ ...state, executions: state.executions.map((x) => (x === e ? { ...x, status, endedAt: clock.now() } : x)) });
        return 'recorded';
      });
      if (report === 'recorded') {
        const d = store.getDeployment(id);
        const e = traffic.get(id)?.executions.find((x) => x.executionId === executionId);
        if (d !== undefined && e !== undefined) emit({ type: 'lifecycleEvent', deploymentId: id, instanceName: targetName(d), lifecycleEvent: e.event, status, at: clock.now() });
        kick(id);
      }
      return report;
    },

    skipTerminationWait(id) {
      const skipped = store.transaction(() => {
        const d = store.getDeployment(id);
        const s = traffic.get(id);
        const cleanup = s?.replacement?.cleanup;
        if (d === undefined || isFinalStatus(d.status) || s === undefined || s.ending !== undefined || cleanup === undefined || cleanup.done === true) return false;
        traffic.put({ ...s, replacement: { ...s.replacement!, cleanup: { dueAt: Math.min(cleanup.dueAt, clock.now()) } } });
        return true;
      });
      if (!skipped) return 'notWaiting';
      kick(id);
      return 'skipped';
    },

    continueDeployment(id) {
      const continued = store.transaction(() => {
        const d = store.getDeployment(id);
        const s = traffic.get(id);
        if (d === undefined || isFinalStatus(d.status) || s?.server?.ready === undefined || s.server.ready.continued === true || s.ending !== undefined) return false;
        traffic.put({ ...s, server: { ...s.server, ready: { ...s.server.ready, continued: true } } });
        return true;
      });
      if (!continued) return 'notReady';
      setStatus(id, 'InProgress');
      kick(id);
      return 'continued';
    },

    agentsProgressed(id) {
      // Told while the engine is still publishing the step's events: moving on at once would publish the
      // deployment's end before the instance events that led to it, and a watcher's stream closes at the end.
      // Only a deployment this driver runs has a timer or a loop; an in-place deployment's instance
      // events (the engine's hot path) cost no store read here.
      if ((timers.has(id) || looping.has(id)) && traffic.get(id)?.server !== undefined) queueMicrotask(() => kick(id));
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

/** targetName is how a traffic deployment's one target is named: `function:alias` (Lambda), `cluster:service` (ECS, as CodeDeploy). */
export function targetName(d: DeploymentRecord): string {
  if (d.ecs !== undefined) return `${d.ecs.clusterName}:${d.ecs.serviceName}`;
  return d.lambda === undefined ? d.deploymentId : `${d.lambda.functionName}:${d.lambda.alias}`;
}
