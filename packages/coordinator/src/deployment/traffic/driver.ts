/**
 * The traffic driver runs traffic-shifted deployments (Lambda today): the effectful half beside
 * plan.ts. For each deployment it loops: read the recorded {@link TrafficState}, ask the plan for
 * the next action, record the intent, act through the deployment's {@link TrafficRouter}, record
 * the outcome. Waits (the next step, a hook's report) are timers that only re-enter the loop, so a
 * coordinator killed at any point restarts from the record: the step it recorded is applied again
 * (routers are idempotent) and the next one waits its full interval.
 *
 * The driver reads and writes through the {@link AsyncStore}. Each step decides and records its intent
 * in one transaction, acts outside any transaction, then records the outcome in another, so the order
 * above holds: what a step will do is stored before it is done. A transaction's body makes only `tx`
 * calls (recordEvents' among them), never a router's, the engine's or a timer's.
 *
 *   API ──create / stop / hook status──▶ driver ──check / shift / invoke / rollback──▶ router ──▶ Lambda
 *                                          ▲ └── timers (clock): next step, hook deadline
 *                                          └──── alarm watch: stop with ALARM_ACTIVE
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../../clock.js';
import type { AsyncStore } from '../../store/async-store.js';
import type { TrafficJournal } from '../../store/traffic-store.js';
import { ownTurn } from '../../store/own-turn.js';
import type { DeploymentRecord } from '../../store/records.js';
import { isFinalStatus } from '../../store/records.js';
import type { AlarmStop, AlarmWatch } from '../../alarms/alarm-watch.js';
import type { DeploymentEvent, DeploymentEventListener } from '../events.js';
import { revisionKey } from '../../api/operations/revision-location.js';
import { newUuid } from '../../ids.js';
import type { HookExecution, TrafficAction, TrafficEnding, TrafficHookEvent, TrafficState } from './plan.js';
import { AGENTS, newTrafficState, nextTrafficAction, SERVER_HOOKS, trafficPlan } from './plan.js';
import type { PhaseStatus } from '../blue-green.js';
import type { TrafficRouter } from './router.js';
import { isRouterError } from './router.js';
import type { DiskFullWatch } from '../../store/disk-full.js';
import type { DeploymentOwnership } from '../ownership.js';

/** HookReport is the outcome of PutLifecycleEventHookExecutionStatus for the driver's deployments. */
export type HookReport = 'recorded' | 'unknownExecution' | 'alreadyReported' | 'deploymentCompleted';

/** AgentPhases runs a Server blue/green deployment's events on its agents (the engine does, blue-green-phases.ts). */
export interface AgentPhases {
  /** startPhase begins `event` on the instances that run it (Install: the whole in-place install of the replacement); idempotent. */
  startPhase(deploymentId: string, event: TrafficHookEvent): Promise<void>;
  /** phaseStatus is how `event` stands on those instances. */
  phaseStatus(deploymentId: string, event: TrafficHookEvent): Promise<PhaseStatus>;
  /** endPhases cancels what still runs and closes the instances' records as the deployment ends. */
  endPhases(deploymentId: string, succeeded: boolean): Promise<void>;
}

/** ContinueResult is the outcome of ContinueDeployment READY_WAIT. */
export type ContinueResult = 'continued' | 'notReady';

/** TrafficDriver is what the API and the composition root call; it reads and writes through the AsyncStore only. */
export interface TrafficDriver {
  /** start resumes every active traffic deployment (after a restart); it resolves once they are read. */
  start(): Promise<void>;
  stop(): void;
  deploymentCreated(deploymentId: string): void;
  stopRequested(deploymentId: string, autoRollbackEnabled: boolean): Promise<'Pending' | 'Succeeded'>;
  hookReported(deploymentId: string, executionId: string, status: 'Succeeded' | 'Failed'): Promise<HookReport>;
  /** skipTerminationWait makes a replacement's pending cleanup due now. */
  skipTerminationWait(deploymentId: string): Promise<'skipped' | 'notWaiting'>;
  /** continueDeployment ends a Server blue/green deployment's wait in Ready: traffic is rerouted now. */
  continueDeployment(deploymentId: string): Promise<ContinueResult>;
  /**
   * recordedElsewhere tells the driver, with replicas, that other replicas' APIs recorded something in
   * these deployments' journals (a hook's report, a stop): those it drives look again now.
   */
  recordedElsewhere(deploymentIds: readonly string[]): void;
  /** agentsProgressed tells the driver that an instance of one of its blue/green deployments moved on; it acts once the caller's turn is over. */
  agentsProgressed(deploymentId: string): void;
  subscribe(listener: DeploymentEventListener): () => void;
}

/** TrafficDriverDeps are passed in by the composition root. */
export interface TrafficDriverDeps {
  /** The coordinator's one AsyncStore: every read and write of the driver. */
  asyncStore: AsyncStore;
  /** The traffic journal through {@link asyncStore} or one of its transactions' handles. */
  journal: TrafficJournal;
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
   * inside the transaction that changes it (through its `tx`), as the engine does.
   */
  recordEvents?: (tx: AsyncStore, events: readonly DeploymentEvent[]) => Promise<unknown>;
  /**
   * ownership, for several replicas on one database (ownership.ts): the driver drives only the
   * deployments whose lease `deployment:<id>` this replica holds (the engine claims them all),
   * resumes one it acquires from its journal as after a restart, and checks the lease in each
   * transaction that records a step and before each router call. Without it, it drives them all.
   */
  ownership?: DeploymentOwnership;
  /**
   * With ownership: the longest the owner waits before it reads a deployment's journal again, so
   * that what another replica's API recorded (a hook's report, a stop) is acted on even if its
   * wake-up (recordedElsewhere) was missed (2 s if not given).
   */
  ownedPollMs?: number;
}

/**
 * LeaseLostError stops a traffic step of a deployment this replica no longer holds the lease of:
 * its transaction is rolled back, or its router call not made; the new owner carries on.
 */
export class LeaseLostError extends Error {
  constructor(readonly deploymentId: string) {
    super(`deployment ${deploymentId} is no longer driven by this replica (its lease was lost or taken over); its traffic is left to the new owner`);
    this.name = 'LeaseLostError';
  }
}

/**
 * AGENT_PHASE_CAP_MS bounds one phase on the agents (the install of the whole replacement fleet
 * included): CodeDeploy's 48 hours from an EC2 blue/green deployment's start to its reroute. Each
 * event has its own, shorter timeout on every instance.
 */
const AGENT_PHASE_CAP_MS = 48 * 3600 * 1000;

/** RETRY_MS is how soon a rollback that could not reach the router is tried again. */
const RETRY_MS = 5_000;

/** ROUTER_ACTIONS are the actions that call the deployment's router (or its agents). */
const ROUTER_ACTIONS: ReadonlySet<TrafficAction['type']> = new Set(['check', 'invokeHook', 'shift', 'prepare', 'cleanup', 'rollback']);

/** OWNED_POLL_MS: with replicas, how long at most an owner waits before it reads its deployment's journal again. */
const OWNED_POLL_MS = 2_000;

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

/** Decided is what a step's decision found: nothing to do, a question for the agents, or an action whose intent is recorded. */
type Decided =
  | { kind: 'idle' }
  | { kind: 'askAgents'; executionId: string; event: TrafficHookEvent }
  | { kind: 'act'; deployment: DeploymentRecord; action: TrafficAction; executionId?: string; freshExecution?: boolean; statusEvent?: DeploymentEvent; finished?: Finished };

/** AgentNews is what the agents said of the phase they run, for the next decision to record. */
interface AgentNews {
  executionId: string;
  phase: PhaseStatus;
}

/** Finished is a deployment's end as recorded: what is told, and whether the agents have phases to end. */
interface Finished {
  event: DeploymentEvent & { type: 'deployment' };
  blueGreen: boolean;
  ending: TrafficEnding | undefined;
}

/** runningAgentPhase is the phase the agents run for the deployment, if one was started and has not ended. */
function runningAgentPhase(state: TrafficState): HookExecution | undefined {
  return state.executions.find((e) => e.functionName === AGENTS && e.status === 'InProgress' && e.invoked === true);
}

/** movedTo is a running deployment moved between InProgress and Ready, or undefined when it does not move. */
function movedTo(d: DeploymentRecord | undefined, status: 'InProgress' | 'Ready'): DeploymentRecord | undefined {
  return d === undefined || isFinalStatus(d.status) || d.status === status ? undefined : { ...d, status };
}

/** createTrafficDriver builds the driver; call start() once the API can be served. */
export function createTrafficDriver(deps: TrafficDriverDeps): TrafficDriver {
  const { asyncStore, journal, clock, log, alarms } = deps;
  const own = deps.ownership;
  const ownedPollMs = deps.ownedPollMs ?? OWNED_POLL_MS;
  /** drives tells whether this replica drives the deployment now: always, for a coordinator alone. */
  const drives = (id: string): boolean => own === undefined || own.owns(id);
  const timers = new Map<string, Timer>();
  /** Timers that try a start or an alarm stop again, apart from the loop's (which a kick cancels). */
  const retries = new Map<string, Timer>();
  /**
   * Deployments whose loop is running, and whether it must look again when it would stop. One loop
   * per deployment: this map is what keeps two steps of one deployment from interleaving now that a
   * step spans turns (kick only ever starts a loop when none runs).
   */
  const looping = new Map<string, { again: boolean }>();
  /** The Server blue/green deployments the driver has seen running: the only ones the engine's news moves on. */
  const onAgents = new Set<string>();
  const listeners = new Set<DeploymentEventListener>();
  let running = false;

  /**
   * transact runs one transaction. The routers and this driver's answers to the API still call the
   * synchronous store on the same SQLite connection; none of their calls can land inside it, because
   * the AsyncStore begins each transaction on a turn of its own, whose body makes only tx calls
   * (store/async-store.ts). The engine's transactions go through the same asyncStore.
   */
  const transact = <T>(body: (tx: AsyncStore) => Promise<T>): Promise<T> => asyncStore.transaction(body);

  /**
   * fenced runs a transaction that records a step of deployment `id`: with replicas, only while this
   * replica's tenure of its lease is current, checked through `tx` (which on PostgreSQL also keeps
   * the lease from being taken over until `tx` ends), so a replica that lost it records nothing more.
   */
  const fenced = <T>(id: string, body: (tx: AsyncStore) => Promise<T>): Promise<T> =>
    own === undefined
      ? transact(body)
      : transact(async (tx) => {
        if (!(await own.holdsIn(tx, id))) throw new LeaseLostError(id);
        return body(tx);
      });

  /**
   * mayAct is checked before each router call: with replicas, the lease is still trusted here and the
   * database still names this tenure, so a replica that lost it does not move traffic the new owner drives.
   */
  /**
   * toOwner wakes the owner, when `tx` commits, if another replica drives the deployment: what the
   * API recorded through `tx` in its journal is for that replica to act on.
   */
  async function toOwner(tx: AsyncStore, id: string): Promise<void> {
    if (own !== undefined && !own.owns(id)) await own.reportsStored?.(tx, [id]);
  }

  async function mayAct(id: string): Promise<void> {
    if (own === undefined) return;
    if (!own.owns(id) || !(await transact((tx) => own.holdsIn(tx, id)))) throw new LeaseLostError(id);
  }

  function emit(event: DeploymentEvent): void {
    for (const l of listeners) {
      try {
        l(event);
      } catch (err) {
        log.error({ err }, 'deployment event listener failed');
      }
    }
  }

  /** changeIn changes a deployment's recorded state through `tx` and returns it. */
  async function changeIn(tx: AsyncStore, id: string, change: (s: TrafficState) => TrafficState): Promise<TrafficState | undefined> {
    const j = journal(tx);
    const current = await j.get(id);
    if (current === undefined) return undefined;
    const next = change(current);
    await j.put(next);
    return next;
  }

  /** update changes a deployment's recorded state in one (fenced) transaction and returns it. */
  function update(id: string, change: (s: TrafficState) => TrafficState): Promise<TrafficState | undefined> {
    return fenced(id, (tx) => changeIn(tx, id, change));
  }

  /** withEnding is the state with `ending` recorded, unless an ending was already (the first reason wins). */
  const withEnding = (ending: TrafficEnding) => (s: TrafficState): TrafficState => (s.ending !== undefined ? s : { ...s, ending });

  /** endWith records why the deployment ends; the loop then rolls back. */
  async function endWith(id: string, ending: TrafficEnding): Promise<void> {
    await update(id, withEnding(ending));
  }

  function endingOf(err: unknown): TrafficEnding {
    if (isRouterError(err)) return { status: 'Failed', code: err.code, message: err.message };
    log.error({ err }, 'traffic router failed unexpectedly');
    return { status: 'Failed', code: 'INTERNAL_ERROR', message: `Internal error while shifting traffic: ${err instanceof Error ? err.message : String(err)}` };
  }

  /** kick (re)enters a deployment's loop; a loop already running looks once more before it stops. */
  function kick(id: string): void {
    if (!running) return;
    // With replicas, another replica drives it: what was just recorded here is read by its owner.
    if (!drives(id)) return;
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
        if (err instanceof LeaseLostError) {
          log.warn({ deploymentId: id }, 'traffic step dropped: the deployment\'s lease is lost; its new owner drives it');
          return;
        }
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
    // With replicas, a hook's report or a stop may be recorded by another replica's API: looked for now and then.
    const wait = at - clock.now();
    timers.set(id, clock.setTimeout(() => kick(id), own === undefined ? wait : Math.min(wait, ownedPollMs)));
  }

  /** retryLater runs `again` after RETRY_MS; one retry per `key`. */
  function retryLater(key: string, again: () => void): void {
    if (!running) return;
    retries.get(key)?.cancel();
    retries.set(
      key,
      clock.setTimeout(() => {
        retries.delete(key);
        again();
      }, RETRY_MS),
    );
  }

  /**
   * decide reads the deployment and its state, decides the next action and records its intent, all
   * in the one transaction `tx`: nothing recorded between the reading and the intent (a stop, a
   * hook's report) can be overlooked by it, as when the step was one synchronous run.
   */
  async function decide(tx: AsyncStore, id: string, news: AgentNews | undefined): Promise<Decided> {
    const deployment = await tx.getDeployment(id);
    const j = journal(tx);
    let state = await j.get(id);
    if (deployment === undefined || state === undefined || isFinalStatus(deployment.status) || deployment.status === 'Created') return { kind: 'idle' };
    if (deployment.blueGreen !== undefined) onAgents.add(id);
    const phase = deps.agents === undefined ? undefined : runningAgentPhase(state);
    if (phase !== undefined) {
      // The agents' records are the engine's, read outside the transaction; their news is recorded here.
      if (news?.executionId !== phase.executionId) return { kind: 'askAgents', executionId: phase.executionId, event: phase.event };
      if (news.phase.status !== 'InProgress') {
        const ended = news.phase;
        const now = clock.now();
        state = { ...state, executions: state.executions.map((e) => (e.executionId === phase.executionId ? { ...e, status: ended.status, endedAt: now, ...(ended.status === 'Failed' ? { failure: ended.failure } : {}) } : e)) };
        await j.put(state);
      }
    }
    const now = clock.now();
    const action = nextTrafficAction(state, now, deps.hookTimeoutSeconds);
    switch (action.type) {
      case 'invokeHook': {
        if (action.executionId !== undefined) return { kind: 'act', deployment, action, executionId: action.executionId };
        // Recorded before the invocation: a crash in between invokes the same execution again.
        const deadlineAt = now + (action.functionName === AGENTS ? AGENT_PHASE_CAP_MS : deps.hookTimeoutSeconds * 1000);
        const execution: HookExecution = { event: action.event, executionId: newUuid(), functionName: action.functionName, startedAt: now, deadlineAt, status: 'InProgress' };
        await j.put({ ...state, executions: [...state.executions, execution] });
        return { kind: 'act', deployment, action, executionId: execution.executionId, freshExecution: true };
      }
      case 'shift':
        // Recorded before the shift: a crash in between applies this step again, not the next one.
        await j.put({ ...state, step: { index: action.index } });
        break;
      case 'scheduleCleanup':
        if (state.replacement !== undefined) await j.put({ ...state, replacement: { ...state.replacement, cleanup: { dueAt: action.dueAt } } });
        break;
      case 'ready': {
        // The wait and the status move together: a ContinueDeployment between them would be overwritten by Ready.
        if (state.server !== undefined && state.server.ready === undefined) await j.put({ ...state, server: { ...state.server, ready: { since: now } } });
        const moved = movedTo(deployment, 'Ready');
        if (moved === undefined) break;
        const statusEvent: DeploymentEvent = { type: 'deployment', deploymentId: id, status: 'Ready', at: now };
        await tx.putDeployment(moved);
        await deps.recordEvents?.(tx, [statusEvent]);
        return { kind: 'act', deployment, action, statusEvent };
      }
      case 'rollback':
        // A hook's failure or timeout is decided here, and recorded before traffic moves back.
        await j.put(withEnding(action.ending)(state));
        break;
      case 'finish': {
        const finished = await finishIn(tx, deployment, action.ending);
        return finished === undefined ? { kind: 'idle' } : { kind: 'act', deployment, action, finished };
      }
      default:
        break;
    }
    return { kind: 'act', deployment, action };
  }

  /** advance performs actions until the deployment has to wait or has ended. */
  async function advance(id: string): Promise<void> {
    let news: AgentNews | undefined;
    for (;;) {
      const decided = await fenced(id, (tx) => decide(tx, id, news));
      news = undefined;
      if (decided.kind === 'idle') {
        onAgents.delete(id);
        return;
      }
      if (decided.kind === 'askAgents') {
        const agents = deps.agents!;
        news = { executionId: decided.executionId, phase: await agents.phaseStatus(id, decided.event) };
        continue;
      }
      const { deployment, action } = decided;
      const router = deps.routerFor(deployment);
      const dlog = log.child({ deploymentId: id });
      // With replicas, no router call is made once the lease is lost (checked outside the calls' catches:
      // a lost lease is no router failure to record). A 'ready' or 'finish' calls no router.
      if (ROUTER_ACTIONS.has(action.type)) await mayAct(id);
      // Each router call starts at a turn of its own, too: a router may read the synchronous store (the server router does).
      switch (action.type) {
        case 'check':
          try {
            await ownTurn(() => router.check());
            await update(id, (s) => ({ ...s, checked: true }));
          } catch (err) {
            await endWith(id, endingOf(err));
          }
          break;
        case 'invokeHook': {
          const executionId = decided.executionId!;
          const onAgentsNow = action.functionName === AGENTS;
          // The agents' events are reported per instance by the engine.
          if (decided.freshExecution === true && !onAgentsNow) emit({ type: 'lifecycleEvent', deploymentId: id, instanceName: targetName(deployment), lifecycleEvent: action.event, status: 'InProgress', at: clock.now() });
          try {
            if (!onAgentsNow) await ownTurn(() => router.invokeHook(action.functionName, { DeploymentId: id, LifecycleEventHookExecutionId: executionId }));
            else if (deps.agents === undefined) throw new Error('this coordinator runs no agents for blue/green deployments');
            else {
              const agents = deps.agents;
              await agents.startPhase(id, action.event);
            }
          } catch (err) {
            await endWith(id, endingOf(err));
            break;
          }
          await update(id, (s) => ({ ...s, executions: s.executions.map((e) => (e.executionId === executionId ? { ...e, invoked: true } : e)) }));
          dlog.info({ event: action.event, function: action.functionName, executionId }, 'hook function invoked');
          break;
        }
        case 'shift':
          try {
            await ownTurn(() => router.shift(action.weight));
          } catch (err) {
            await endWith(id, endingOf(err));
            break;
          }
          await update(id, (s) => (s.step?.index === action.index ? { ...s, step: { index: action.index, appliedAt: clock.now() } } : s));
          dlog.info({ weight: action.weight, step: action.index }, 'traffic shifted');
          // every step is told, so a watcher sees each one rather than what a poll happens to catch
          emit({ type: 'traffic', deploymentId: id, weight: action.weight, at: clock.now() });
          break;
        case 'prepare':
          try {
            const prepare = requireStep(router.prepare, 'prepare');
            await ownTurn(() => prepare.call(router, action.stage));
          } catch (err) {
            await endWith(id, endingOf(err));
            break;
          }
          await update(id, (s) => (s.replacement === undefined ? s : { ...s, replacement: { ...s.replacement, prepared: [...s.replacement.prepared, action.stage] } }));
          dlog.info({ stage: action.stage }, 'replacement prepared');
          break;
        case 'scheduleCleanup':
          break; // recorded by decide
        case 'cleanup':
          try {
            const cleanup = requireStep(router.cleanup, 'cleanup');
            await ownTurn(() => cleanup.call(router));
          } catch (err) {
            // Traffic is all on the replacement already: a failed cleanup fails the deployment but is not rolled back.
            const ending = endingOf(err);
            await told(await fenced(id, async (tx) => {
              const d = await tx.getDeployment(id);
              return d === undefined ? undefined : finishIn(tx, d, ending);
            }));
            return;
          }
          await update(id, (s) => (s.replacement?.cleanup === undefined ? s : { ...s, replacement: { ...s.replacement, cleanup: { ...s.replacement.cleanup, done: true } } }));
          dlog.info('original removed after the termination wait');
          break;
        case 'ready':
          if (decided.statusEvent !== undefined) emit(decided.statusEvent);
          dlog.info('replacement installed; waiting in Ready for ContinueDeployment');
          break;
        case 'wait':
        case 'waitHook':
          wakeAt(id, action.until);
          return;
        case 'rollback':
          try {
            await ownTurn(() => router.rollback());
          } catch (err) {
            dlog.error({ err }, 'could not put traffic back on the original; retrying');
            wakeAt(id, clock.now() + RETRY_MS);
            return;
          }
          await update(id, (s) => ({ ...s, rolledBack: true }));
          dlog.info({ code: action.ending.code }, 'traffic rolled back to the original');
          emit({ type: 'traffic', deploymentId: id, weight: 0, at: clock.now() });
          break;
        case 'finish':
          await told(decided.finished);
          return;
      }
    }
  }

  /**
   * finishIn records the deployment's end, and its group's last deployments, as the in-place engine
   * does, through `tx`; undefined when it had ended already.
   */
  async function finishIn(tx: AsyncStore, deployment: DeploymentRecord, ending: TrafficEnding | undefined): Promise<Finished | undefined> {
    if (isFinalStatus(deployment.status)) return undefined;
    const id = deployment.deploymentId;
    const now = clock.now();
    const status: 'Succeeded' | 'Failed' | 'Stopped' = ending?.status ?? 'Succeeded';
    const event = { type: 'deployment' as const, deploymentId: id, status, ...(ending === undefined ? {} : { errorCode: ending.code }), at: now };
    await tx.putDeployment({ ...deployment, status, completeTime: now, ...(ending === undefined ? {} : { errorInformation: { code: ending.code, message: ending.message } }) });
    const group = await tx.getGroupById(deployment.deploymentGroupId);
    if (group !== undefined) {
      const summary = { deploymentId: id, status, endTime: now, createTime: deployment.createTime };
      await tx.putGroup({ ...group, lastAttemptedDeployment: summary, ...(status === 'Succeeded' ? { lastSuccessfulDeployment: summary, targetRevision: deployment.revision } : {}) });
    }
    const revision = await tx.getRevision(deployment.applicationName, revisionKey(deployment.revision));
    if (revision !== undefined) await tx.putRevision({ ...revision, lastUsedTime: now });
    await deps.recordEvents?.(tx, [event]);
    return { event, blueGreen: deployment.blueGreen !== undefined, ending };
  }

  /** told does what follows a recorded end: the agents' phases end, and the end is logged and told. */
  async function told(finished: Finished | undefined): Promise<void> {
    if (finished === undefined) return;
    const { event, ending } = finished;
    const agents = deps.agents;
    if (finished.blueGreen && agents !== undefined) await agents.endPhases(event.deploymentId, event.status === 'Succeeded');
    onAgents.delete(event.deploymentId);
    log.info({ deploymentId: event.deploymentId, status: event.status, errorCode: ending?.code }, 'deployment finished');
    emit(event);
    // With replicas, its lease is given back at once (the engine's claim scan would, within seconds).
    own?.release(event.deploymentId).catch((err: unknown) => log.warn({ err, deploymentId: event.deploymentId }, 'could not give back a finished deployment\'s lease'));
  }

  /** begin moves a Created deployment to InProgress once its alarms (if any) have been read. */
  function begin(id: string): void {
    const go = (stop: AlarmStop | undefined): void => {
      // A stopped driver starts nothing (a restarted one finds the deployment Created), nor does a replica that does not drive it.
      if (!running || !drives(id)) return;
      started(id, stop).catch((err: unknown) => {
        if (err instanceof LeaseLostError) return; // its new owner starts it
        // Still Created: tried again, as a restarted coordinator would.
        if (deps.disk?.failed(err, 'traffic start') !== true) log.error({ err, deploymentId: id }, 'traffic deployment could not start; retrying');
        retryLater(`begin ${id}`, () => begin(id));
      });
    };
    if (alarms === undefined) go(undefined);
    else alarms.beforeStart(id, go);
  }

  async function started(id: string, stop: AlarmStop | undefined): Promise<void> {
    const began = await fenced(id, async (tx) => {
      const d = await tx.getDeployment(id);
      const fresh = d === undefined ? undefined : newStateOf(d, deps.minuteMs);
      if (d?.status !== 'Created' || fresh === undefined) return undefined;
      const now = clock.now();
      const j = journal(tx);
      const state = (await j.get(id)) ?? fresh;
      const ending: TrafficEnding | undefined = d.stopRequested !== undefined
        ? { status: 'Stopped', code: 'MANUAL_STOP', message: 'The deployment was stopped with StopDeployment before it started' }
        : stop === undefined ? undefined : { status: 'Stopped', code: stop.code, message: stop.message };
      await j.put(ending === undefined ? state : withEnding(ending)(state));
      await tx.putDeployment({ ...d, status: 'InProgress', startTime: now, ...(stop !== undefined && d.stopRequested === undefined ? { alarmStop: { at: now, message: stop.message } } : {}) });
      const event: DeploymentEvent = { type: 'deployment', deploymentId: id, status: 'InProgress', at: now };
      await deps.recordEvents?.(tx, [event]);
      return event;
    });
    if (began === undefined) return;
    emit(began);
    watch(id);
    kick(id);
  }

  function watch(id: string): void {
    alarms?.watch(id, (stop) => alarmStopped(id, stop));
  }

  /** alarmStopped records an alarm's stop (tried again until it is: the watch tells it once) and has the loop roll back. */
  function alarmStopped(id: string, stop: AlarmStop): void {
    transact(async (tx) => {
      const d = await tx.getDeployment(id);
      if (d !== undefined && !isFinalStatus(d.status) && d.alarmStop === undefined && d.stopRequested === undefined) await tx.putDeployment({ ...d, alarmStop: { at: clock.now(), message: stop.message } });
      await changeIn(tx, id, withEnding({ status: 'Stopped', code: stop.code, message: stop.message }));
      await toOwner(tx, id);
    }).then(
      () => kick(id),
      (err: unknown) => {
        if (deps.disk?.failed(err, 'traffic alarm stop') !== true) log.error({ err, deploymentId: id }, 'alarm stop not stored; retrying');
        retryLater(`alarm ${id}`, () => alarmStopped(id, stop));
      },
    );
  }


  /** resume drives a stored traffic deployment from its record, as after a restart. */
  function resume(d: DeploymentRecord): void {
    if (!isTrafficDeployment(d) || d.status === 'Queued') return; // the window gate starts a queued one
    if (d.status === 'Created') begin(d.deploymentId);
    else if (!isFinalStatus(d.status)) {
      watch(d.deploymentId);
      kick(d.deploymentId);
    }
  }

  /**
   * With replicas, a deployment whose lease this replica acquired: resumed from its journal exactly
   * as a restarted driver resumes it (the step recorded but not known applied is applied again).
   */
  function takeOver(id: string): void {
    if (!running) return;
    ownTurn(() => asyncStore.getDeployment(id)).then(
      (d) => {
        if (d === undefined || !isTrafficDeployment(d) || !running || !drives(id)) return;
        log.info({ deploymentId: id, status: d.status }, 'traffic deployment taken over: this replica drives it now');
        resume(d);
      },
      (err: unknown) => {
        log.error({ err, deploymentId: id }, 'could not read a deployment taken over; retrying');
        retryLater(`takeOver ${id}`, () => takeOver(id));
      },
    );
  }

  /** With replicas, a deployment whose lease was lost: its timers stop here (a step under way fails its fencing check). */
  function dropped(id: string): void {
    timers.get(id)?.cancel();
    timers.delete(id);
    for (const key of [`begin ${id}`, `takeOver ${id}`]) {
      retries.get(key)?.cancel();
      retries.delete(key);
    }
    onAgents.delete(id);
  }

  return {
    async start() {
      running = true;
      // With replicas, the engine claims every active deployment; this driver drives those it acquires.
      own?.listen({ acquired: takeOver, lost: dropped });
      const active = await ownTurn(() => asyncStore.activeDeployments());
      if (!running) return; // stopped while reading
      // Those acquired before it listened (the engine started first) are resumed here; kick and begin look at the lease.
      for (const d of active) if (drives(d.deploymentId)) resume(d);
    },

    stop() {
      running = false;
      for (const t of [...timers.values(), ...retries.values()]) t.cancel();
      timers.clear();
      retries.clear();
    },

    deploymentCreated(id) {
      // With replicas, the replica that acquires its lease starts it (takeOver); the others' claim scans claim it too.
      if (own !== undefined && !own.owns(id)) own.claim(id);
      else begin(id);
    },

    async stopRequested(id, autoRollbackEnabled) {
      // The request and the ending it makes commit together; the loop then rolls back.
      await transact(async (tx) => {
        const d = await tx.getDeployment(id);
        if (d !== undefined && d.stopRequested === undefined) await tx.putDeployment({ ...d, stopRequested: { at: clock.now(), autoRollbackEnabled } });
        await changeIn(tx, id, withEnding({ status: 'Stopped', code: 'MANUAL_STOP', message: 'The deployment was stopped with StopDeployment; traffic is back on the original version' }));
        await toOwner(tx, id);
      });
      kick(id);
      return 'Pending';
    },

    async hookReported(id, executionId, status) {
      const report = await transact(async (tx): Promise<{ report: HookReport; event?: DeploymentEvent }> => {
        const d = await tx.getDeployment(id);
        const j = journal(tx);
        const state = await j.get(id);
        const e = state?.executions.find((x) => x.executionId === executionId);
        // A blue/green event on agents is reported by the agents, never through the API.
        if (d === undefined || state === undefined || e === undefined || e.functionName === AGENTS) return { report: 'unknownExecution' };
        if (e.status !== 'InProgress') return { report: 'alreadyReported' };
        if (isFinalStatus(d.status)) return { report: 'deploymentCompleted' };
        const now = clock.now();
        await j.put({ ...state, executions: state.executions.map((x) => (x === e ? { ...x, status, endedAt: now } : x)) });
        await toOwner(tx, id);
        return { report: 'recorded', event: { type: 'lifecycleEvent', deploymentId: id, instanceName: targetName(d), lifecycleEvent: e.event, status, at: now } };
      });
      if (report.event !== undefined) {
        // Told before the loop (which starts its transaction at a turn of its own) can see the report and move on.
        emit(report.event);
        kick(id);
      }
      return report.report;
    },

    async skipTerminationWait(id) {
      const skipped = await transact(async (tx) => {
        const d = await tx.getDeployment(id);
        const j = journal(tx);
        const s = await j.get(id);
        const cleanup = s?.replacement?.cleanup;
        if (d === undefined || isFinalStatus(d.status) || s === undefined || s.ending !== undefined || cleanup === undefined || cleanup.done === true) return false;
        await j.put({ ...s, replacement: { ...s.replacement!, cleanup: { dueAt: Math.min(cleanup.dueAt, clock.now()) } } });
        await toOwner(tx, id);
        return true;
      });
      if (!skipped) return 'notWaiting';
      kick(id);
      return 'skipped';
    },

    async continueDeployment(id) {
      // The wait's end and the status back to InProgress commit together, with what the status change owes to triggers.
      const continued = await transact(async (tx): Promise<{ event?: DeploymentEvent } | undefined> => {
        const d = await tx.getDeployment(id);
        const j = journal(tx);
        const s = await j.get(id);
        if (d === undefined || isFinalStatus(d.status) || s?.server?.ready === undefined || s.server.ready.continued === true || s.ending !== undefined) return undefined;
        await j.put({ ...s, server: { ...s.server, ready: { ...s.server.ready, continued: true } } });
        await toOwner(tx, id);
        const moved = movedTo(d, 'InProgress');
        if (moved === undefined) return {};
        const event: DeploymentEvent = { type: 'deployment', deploymentId: id, status: 'InProgress', at: clock.now() };
        await tx.putDeployment(moved);
        await deps.recordEvents?.(tx, [event]);
        return { event };
      });
      if (continued === undefined) return 'notReady';
      if (continued.event !== undefined) emit(continued.event);
      kick(id);
      return 'continued';
    },

    recordedElsewhere(ids) {
      // Also called for in-place deployments' reports (the engine's hot path): only map lookups for those.
      for (const id of ids) if (timers.has(id) || looping.has(id)) kick(id);
    },

    agentsProgressed(id) {
      // Told while the engine is still publishing the step's events: moving on at once would publish the
      // deployment's end before the instance events that led to it, and a watcher's stream closes at the end
      // (the loop starts at a turn of its own, after the engine's). Only a blue/green deployment this driver
      // runs moves on; an in-place deployment's instance events (the engine's hot path) cost no store read here.
      if ((timers.has(id) || looping.has(id)) && onAgents.has(id)) kick(id);
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
