/**
 * The engine drives every active deployment: the effectful half beside the pure planners
 * (fleet-plan.ts for the fleet, instance-lifecycle.ts for each instance). Each input — a deployment
 * created, an agent's result, a timeout, a stop — is handled in one store transaction that records
 * the decision and the commands it implies; only after the commit are commands sent, cancelled or
 * results acknowledged. A coordinator killed at any point therefore restarts from a consistent
 * record: commands it had decided but not sent are still open, and are (re)sent when their agents
 * connect, and the agents deduplicate them by command id.
 *
 * The store is the asynchronous one (store/async-store.ts), the same instance the API uses, so the
 * engine's transactions are serialized with the API's (SQLite) or run beside them (PostgreSQL). Its
 * steps run one at a time, in the order they arrived (a serial queue): the engine's working copies
 * (the open commands, which agents are connected or gone, the fan-out not sent yet) are only right
 * if no step starts before the one before it has committed and performed its effects.
 *
 *   API ──create/stop──▶ engine ──command/cancel/ack──▶ agent server ──▶ agents
 *                          ▲ ◀──connected/result/gone────────┘
 *                          └── sweep (clock): deadlines, agent grace
 */
import type { Logger } from 'pino';
import { minimumHealthyCount, ON_FAILURE_EVENT } from '@fleetdeploy/shared';
import type { Clock, Timer } from '../clock.js';
import type { CoordinatorConfig } from '../config.js';
import type { AsyncStore } from '../store/async-store.js';
import type { LoopPriority } from '../loop-priority.js';
import type { CommandRecord, DeploymentGroupRecord, DeploymentRecord, InstanceHealthRecord, InstanceRecord, PendingReportRecord, TargetRecord } from '../store/records.js';
import { DeploymentStatuses, isFinalStatus } from '../store/records.js';
import type { BlobStore } from '../artifacts/blob-store.js';
import type { DeploymentEngine } from '../api/context.js';
import { newDeploymentId, newUuid } from '../ids.js';
import type { FleetEffect, FleetStep, GuidedAction } from './fleet-plan.js';
import { onStop, onTargetResult, orderTargets, pauseFleet, resolveHeld, resumeFleet, startFleet, stopUnstarted } from './fleet-plan.js';
import type { EventOutcome } from './instance-lifecycle.js';
import { eventStarted, finishEvent, newTarget, queueNextEvent, recordOnFailure, retryTarget, skipTarget, waiveTarget, wasWaived } from './instance-lifecycle.js';
import type { HookReport } from './instance-lifecycle.js';
import { guidedFailureOf, guidedFailureMessage, withAnswer, withAnswers, withoutAnswerFor } from './guided-failure.js';
import { findGroupInstances, groupInstances, healthOf } from './targets.js';
import { OpenCommands } from './open-commands.js';
import { outcomeMessage } from './outcome-messages.js';
import type { FailedInstance, FleetOutcome } from './outcome-messages.js';
import { decideRollback } from './rollback.js';
import type { DeploymentEvent, DeploymentEventListener } from './events.js';
import { revisionKey } from '../api/operations/revision-location.js';
import type { AlarmStop, AlarmWatch } from '../alarms/alarm-watch.js';
import { isTrafficDeployment } from './traffic/driver.js';
import type { AgentPhases } from './traffic/driver.js';
import { blueGreenPhases } from './blue-green-phases.js';
import { phaseEndOf } from './blue-green.js';
import { createDiskFullWatch } from '../store/disk-full.js';
import { createOutlivingCommands } from './outliving-commands.js';
import { WINDOW_MESSAGE_PREFIX } from './windows.js';
import type { DiskFullWatch } from '../store/disk-full.js';
import type { DeploymentOwnership } from './ownership.js';
import { isRetryable } from '../store/retryable.js';
import { writeBehind } from './write-behind.js';

/** AgentLink is what the engine needs from the agent server. */
export interface AgentLink {
  /** send delivers a command on the instance's live stream; false when it has none (it is sent on connect). */
  send(command: CommandRecord, deployment: DeploymentRecord, timeoutSeconds: number): boolean;
  cancel(instanceName: string, commandId: string, reason: string): void;
  /** acknowledge tells the agent its result is stored and may be forgotten. */
  acknowledge(instanceName: string, commandId: string): void;
  /** offlineSince is when the instance's agent was last disconnected, undefined when it never connected. */
  offlineSince?(instanceName: string): number | undefined;
}

/** AgentResult is one command's outcome as the agent server decodes it. */
export interface AgentResult {
  commandId: string;
  status: 'Succeeded' | 'Failed';
  diagnostics: EventOutcome['diagnostics'];
  /** The AppSpec's OnFailure hook, which the agent ran after the event failed (times on the agent's clock). */
  onFailure?: HookReport;
}

/** AgentReport is an ack or a result from an agent, as the agent server hands them over together. */
export type AgentReport = { instanceName: string; ack: string } | { instanceName: string; result: AgentResult };

/** Engine is the deployment engine: the API's {@link DeploymentEngine} plus the agent server's inputs. */
export interface Engine extends Omit<DeploymentEngine, 'hookReported' | 'skipTerminationWait'>, AgentPhases {
  /** start reads the open commands and resumes the active deployments; resolves once that step is done. */
  start(): Promise<void>;
  /** stop ends the timers and the fan-out; resolves once the steps already queued have run (the store may close then). */
  stop(): Promise<void>;
  /** settled resolves when no step is queued or running and no fan-out chunk is due (tests, shutdown). */
  settled(): Promise<void>;
  agentConnected(instanceName: string, inFlight: readonly string[]): Promise<void>;
  agentDisconnected(instanceName: string): Promise<void>;
  commandAcknowledged(instanceName: string, commandId: string): Promise<void>;
  /**
   * commandResult stores an agent's result and acknowledges it. A result that cannot be stored
   * because the disk is full is not acknowledged (the agent keeps it and sends it again in its next
   * hello) and is kept here and stored at the first sweep after space returns, ahead of any timeout.
   */
  commandResult(instanceName: string, result: AgentResult): Promise<void>;
  /**
   * agentReports stores acks and results that arrived together (from any agents) in one transaction,
   * in order, with the effect of calling commandAcknowledged and commandResult for each: each report
   * still commits or fails alone (a savepoint), and nothing of the batch reaches an agent or a
   * listener before the batch is committed. Why: each report in its own commit was a third of the
   * coordinator's CPU with 2,000 agents (bench-fleet), and kept API calls waiting behind it.
   */
  agentReports(reports: readonly AgentReport[]): Promise<void>;
  /** bundleFor answers DownloadBundle: the stored bundle of a command sent to this instance, if any. */
  bundleFor(instanceName: string, commandId: string): Promise<DeploymentRecord['bundle'] | undefined>;
  /**
   * windowClosed keeps a running in-place deployment from starting more instances (its group's
   * deployment window closed; in-flight ones finish) with `message` among its status messages;
   * windowOpened lets it go on and drops the messages that start with WINDOW_MESSAGE_PREFIX.
   */
  windowClosed(deploymentId: string, message: string): Promise<void>;
  windowOpened(deploymentId: string): Promise<void>;
  /** drives tells whether this replica drives the deployment now (always, for a coordinator alone). */
  drives(deploymentId: string): boolean;
  /**
   * whenTakenOver hears of each deployment this replica starts to drive after another (with
   * replicas: its lease acquired), once the engine has resumed it; returns an unsubscribe.
   */
  whenTakenOver(listener: (deploymentId: string) => void): () => void;
  /** subscribe receives every committed change of a deployment, an instance or a lifecycle event; returns an unsubscribe. */
  subscribe(listener: DeploymentEventListener): () => void;
  /**
   * With ownership: agents' reports for these deployments were stored by other replicas (an `fd_results`
   * wake-up); those this replica drives are applied. Resolves once that step is done.
   */
  reportsWaiting(deploymentIds: readonly string[]): Promise<void>;
  /**
   * With ownership: other replicas wrote commands or cancels for these instances (an `fd_commands`
   * wake-up); those connected here get what they have not had yet. Resolves once that step is done.
   */
  commandsWaiting(instanceNames: readonly string[]): Promise<void>;
  /** With ownership: wake-ups may have been missed (the listener (re)connected): every waiting report and command is looked at. */
  wakeupsMissed(): Promise<void>;
}

/** ResolveOutcome is what became of an operator's decision about a held failure (DeploymentEngine.resolveInstanceFailure). */
export type ResolveOutcome = Awaited<ReturnType<DeploymentEngine['resolveInstanceFailure']>>;

/** EngineDeps are passed in by the composition root. */
export interface EngineDeps {
  /** The coordinator's one AsyncStore: the API's transactions and the engine's are serialized by it. */
  store: AsyncStore;
  blobs: BlobStore;
  clock: Clock;
  config: CoordinatorConfig;
  agents: AgentLink;
  log: Logger;
  /** Alarm monitoring; without it no deployment watches alarms. */
  alarms?: AlarmWatch;
  /** stepFailed hears of each step whose transaction failed (after it is logged), e.g. to report a damaged database. */
  stepFailed?: (err: unknown) => void;
  /** The rest of a large fan-out gives way to an API transaction waiting for its turn (loop-priority.ts). */
  priority?: LoopPriority;
  /** Where a step that failed for a full disk is reported (one log line per episode); the engine makes its own without it. */
  disk?: DiskFullWatch;
  /**
   * recordEvents writes what a step's events owe to the outside (trigger notifications) inside the
   * step's own transaction (through its `tx`), so an event is never committed without them, nor they without it.
   */
  recordEvents?: (tx: AsyncStore, events: readonly DeploymentEvent[]) => Promise<unknown>;
  /**
   * ownership partitions the deployments between replicas on one database (deployment/ownership.ts):
   * the engine drives only those whose lease it holds, fences each step's writes with the lease, and
   * hands agents' reports for other replicas' deployments to them through the store. Without it the
   * engine drives every deployment (a coordinator alone).
   */
  ownership?: DeploymentOwnership;
}

/**
 * NotOwnerError rejects a step's transaction that would write a deployment this replica no longer
 * holds the lease of (another replica took it over): nothing of the step is committed.
 */
export class NotOwnerError extends Error {
  constructor(readonly deploymentId: string) {
    super(`deployment ${deploymentId} is no longer driven by this replica (its lease was lost or taken over); the step was not stored`);
    this.name = 'NotOwnerError';
  }
}

/** StepOutcome is how an engine step's transaction ended. */
type StepOutcome = 'stored' | 'diskFull' | 'failed' | 'notOwner';

/** SWEEP_MS is how often deadlines and agent grace periods are checked. */
const SWEEP_MS = 500;
/**
 * DISPATCH_CHUNK bounds the commands sent in one loop turn. Starting an AllAtOnce deployment of
 * 1,000 instances sent all 1,000 in one turn (335 ms of gRPC writes at 10,000 agents, --cpu-prof),
 * and an API request that came meanwhile waited behind it.
 */
const DISPATCH_CHUNK = 200;
/** STORED_REPORTS_BATCH bounds the stored reports applied in one transaction. */
const STORED_REPORTS_BATCH = 100;
/** CLAIM_SCAN_MS: with replicas, how often each one claims the active deployments it does not want yet (one created elsewhere, one whose owner died). */
const CLAIM_SCAN_MS = 2_000;
/** STALE_START_MS: with replicas, how long after its creation a deployment still Created is taken for one whose start failed. */
const STALE_START_MS = 30_000;
/** The statuses of a deployment still being driven. */
const ACTIVE_STATUSES = DeploymentStatuses.filter((s) => !isFinalStatus(s));
/** Fleet changes arriving together (a batch of registrations) are reconciled once. */
const RECONCILE_DELAY_MS = 200;

/**
 * A batch of steps in one transaction (writeBatch): its handle (records kept and written together,
 * see write-behind.ts), the outboxes of the steps stored so far, and the deployments whose lease a
 * stored step has checked in it.
 */
interface Batch {
  tx: AsyncStore;
  outboxes: Outbox[];
  fenced: Set<string>;
}

export interface Outbox {
  events: DeploymentEvent[];
  /** Deployments created in this step (rollbacks) that start once it is committed. */
  begin: string[];
  send: CommandRecord[];
  /** Commands the agent is to stop, with the reason it logs. */
  cancel: { instanceName: string; commandId: string; reason: string }[];
  ack: { instanceName: string; commandId: string }[];
  finished: string[];
}

/** createEngine builds the engine; call start() once the agent server can send. */
export function createEngine(deps: EngineDeps): Engine {
  const { store, clock, config, agents, log, alarms, stepFailed } = deps;
  const disk = deps.disk ?? createDiskFullWatch({ log, now: () => clock.now() });
  /** Open commands by id and by instance: the engine's working copy of the store's open rows. */
  const open = new OpenCommands();
  /** Instances whose agent is not connected, and when their running events fail if it stays away. */
  const goneAt = new Map<string, number>();
  const connected = new Set<string>();
  /** When each agent disconnected from this process (before that, the agent link knows). */
  const offlineSince = new Map<string, number>();
  let sweepTimer: Timer | undefined;
  let reconcileTimer: Timer | undefined;
  /** What the next reconcile looks at: the instances named since the last one, or (`all`) every group's instances. */
  let reconcileAll = false;
  const reconcileNames = new Set<string>();
  let running = false;
  /** The rest of large fan-outs, sent a chunk per step (dispatchAll). */
  const undispatched: CommandRecord[] = [];
  let undispatchedScheduled = false;
  const dispatchGivesWay = deps.priority?.giveWay();
  /**
   * Writes an agent asked for that failed for a full disk — a result, an ack, a command marked sent —
   * by kind and command id, tried again at each sweep before deadlines are looked at, so that once
   * space returns none of them can lose to a timeout. The agent keeps its own copy of a result until
   * it is acknowledged (a restarted coordinator gets it again in the next hello), so this copy only
   * makes the outcome prompt; it lives as long as this process.
   */
  const owed = new Map<string, () => Promise<StepOutcome>>();
  /** Commands failed here that the agent had started: a retry of their instance waits for them to end there. */
  const outliving = createOutlivingCommands();
  /** With replicas: the lease of each deployment says whether this replica drives it (ownership.ts). */
  const own = deps.ownership;
  /** owned tells whether this replica drives the deployment now: always, for a coordinator alone. */
  const owned = (deploymentId: string): boolean => own === undefined || own.owns(deploymentId);
  /**
   * With replicas: the commands (and `cancel:` ids) each agent connected here has had on its current
   * stream, whichever replica drives their deployment, so that none is sent to it twice.
   */
  const delivered = new Map<string, Set<string>>();
  /**
   * With replicas: the commands whose results this replica stored for their owner (by instance),
   * while they are still open: not sent again to an agent that reconnects before the owner applies them.
   */
  const reportedHere = new Map<string, Set<string>>();
  /** When the active deployments were last claimed (with replicas): each replica wants them all. */
  let lastClaimScan = 0;
  /** Deployments whose start is queued or running (startLater), so the claim scan does not queue another. */
  const starting = new Set<string>();
  /** With replicas: deployments with a recorded guided-failure retry that waits for its instance's agent (applyAnswers). */
  const deferredAnswers = new Set<string>();
  /** Who hears of each deployment taken over (whenTakenOver): the window gate. */
  const takenOver = new Set<(deploymentId: string) => void>();

  const emptyOutbox = (): Outbox => ({ events: [], begin: [], send: [], cancel: [], ack: [], finished: [] });
  const listeners = new Set<DeploymentEventListener>();

  /**
   * The step queue. Each step runs after the one before it has settled, so the working copies above
   * are only ever changed by one step at a time; `pending` counts the queued and running steps (and a
   * scheduled fan-out chunk), and `idle` are the settled() calls waiting for it to reach 0.
   */
  let tail: Promise<unknown> = Promise.resolve();
  let pending = 0;
  const idle: Array<() => void> = [];
  const finishedWork = (): void => {
    pending--;
    if (pending === 0) for (const resolve of idle.splice(0)) resolve();
  };

  const settled = (): Promise<void> => (pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve)));

  /** step runs `run` once every step queued before it has settled; its result is the step's. */
  function step<T>(run: () => Promise<T>): Promise<T> {
    pending++;
    const result = tail.then(run);
    tail = result.then(finishedWork, finishedWork);
    return result;
  }

  /** background queues a step nobody waits for: an unexpected failure is logged, not left unhandled. */
  function background(what: string, run: () => Promise<unknown>): Promise<void> {
    return step(run).then(
      () => undefined,
      (err: unknown) => {
        log.error({ err, what }, 'engine step failed unexpectedly');
        stepFailed?.(err);
      },
    );
  }

  /**
   * While agentReports runs its batch: the batch's transaction and the outboxes of the steps stored
   * so far, performed only once it commits (each step's own transaction is a savepoint within it).
   */
  let batch: Batch | undefined;

  /** Decides a step: what it reads and writes goes through `tx`, and what it will do goes into `out`. */
  type Decide = (tx: AsyncStore, out: Outbox) => Promise<void>;

  /**
   * The body of a step's transaction: the decision, then what its events owe to the outside.
   * `fenced` collects the deployments whose lease the step checked (with replicas).
   */
  async function decideIn(tx: AsyncStore, decide: Decide, out: Outbox, fenced: string[] = []): Promise<void> {
    // A store that runs a refused transaction again (PostgreSQL) runs this again: the outbox starts empty each time.
    for (const k of Object.keys(out) as (keyof Outbox)[]) out[k].length = 0;
    fenced.length = 0;
    if (own !== undefined) return decideFenced(own, tx, decide, out, fenced);
    await decide(tx, out);
    if (out.events.length > 0 && deps.recordEvents !== undefined) await deps.recordEvents(tx, out.events);
  }

  /**
   * decideIn with replicas: the step's writes go through a handle that notes which deployments they
   * belong to, and before the commit each of those must still be this replica's (the lease, checked
   * in the transaction: NotOwnerError otherwise). A deployment written as Created is not checked: it
   * has no progress to overwrite, and the replica that creates one (a rollback) does not hold it yet.
   * Cancels are kept on their commands' records, and the instances given commands or cancels are
   * announced, so that the replica each agent is connected to delivers them.
   *
   * Within a batch, a lease checked by an earlier step of the same transaction is not checked again:
   * the check locks the lease row until the transaction ends (a released savepoint keeps its locks),
   * and the batch announces its instances once, before it commits (writeBatch).
   */
  async function decideFenced(ownership: DeploymentOwnership, tx: AsyncStore, decide: Decide, out: Outbox, checked: string[]): Promise<void> {
    const touched = new Set<string>();
    const createdHere = new Set<string>();
    const fenced: AsyncStore = {
      ...tx,
      putDeployment: (d) => {
        if (d.status === 'Created') createdHere.add(d.deploymentId);
        else createdHere.delete(d.deploymentId);
        touched.add(d.deploymentId);
        return tx.putDeployment(d);
      },
      putTarget: (t) => (touched.add(t.deploymentId), tx.putTarget(t)),
      addTargets: (targets) => {
        for (const t of targets) touched.add(t.deploymentId);
        return tx.addTargets(targets);
      },
      putCommand: (c) => (touched.add(c.deploymentId), tx.putCommand(c)),
      putCommands: (commands) => {
        for (const c of commands) touched.add(c.deploymentId);
        return tx.putCommands(commands);
      },
      deletePendingReport: (deploymentId, seq) => (touched.add(deploymentId), tx.deletePendingReport(deploymentId, seq)),
      transaction: (fn) => tx.transaction(() => fn(fenced)),
    };
    await decide(fenced, out);
    if (out.events.length > 0 && deps.recordEvents !== undefined) await deps.recordEvents(fenced, out.events);
    for (const c of out.cancel) {
      const command = await tx.getCommand(c.commandId);
      if (command !== undefined && command.cancelReason === undefined) await fenced.putCommand({ ...command, cancelReason: c.reason });
    }
    for (const id of touched) {
      if (createdHere.has(id) || batch?.fenced.has(id) === true) continue;
      if (!(await ownership.holdsIn(tx, id))) throw new NotOwnerError(id);
      checked.push(id);
    }
    if (batch === undefined) await announce(ownership, tx, [out]);
  }

  /**
   * announce tells the other replicas, as `tx` commits, of the instances these outboxes give commands
   * or cancels, and sends them the outboxes' events for their event streams.
   */
  async function announce(ownership: DeploymentOwnership, tx: AsyncStore, outboxes: readonly Outbox[]): Promise<void> {
    const instances = new Set<string>();
    const events: DeploymentEvent[] = [];
    for (const out of outboxes) {
      for (const c of out.send) instances.add(c.instanceName);
      for (const c of out.cancel) instances.add(c.instanceName);
      events.push(...out.events);
    }
    if (instances.size > 0) await ownership.commandsWritten?.(tx, [...instances]);
    if (events.length > 0) await ownership.eventsWritten?.(tx, events);
  }

  /**
   * rerunnable is a transaction body for a store that may run it again from the start (PostgreSQL
   * refusing it for a concurrent one): a run after the first starts from the working copy of the open
   * commands as it was before the first (`start`, a mark of its record), not from what the refused
   * run left in it. Put back from memory: a read of every open command inside the transaction would
   * make it conflict with every other one that writes a command.
   */
  function rerunnable<T>(start: number, body: (tx: AsyncStore) => Promise<T>): (tx: AsyncStore) => Promise<T> {
    let runs = 0;
    return async (tx) => {
      if (runs++ > 0) open.undoTo(start, (c) => owned(c.deploymentId));
      return body(tx);
    };
  }

  /** transactionOnOpen runs a transaction whose body changes the working copy: a refused run's changes, or a failed transaction's, are put back. */
  async function transactionOnOpen<T>(body: (tx: AsyncStore) => Promise<T>): Promise<T> {
    const start = open.mark();
    try {
      return await store.transaction(rerunnable(start, body));
    } catch (err) {
      open.undoTo(start, (c) => owned(c.deploymentId));
      throw err;
    } finally {
      open.endRecord();
    }
  }

  /**
   * Runs `decide` in a transaction, then performs what it put in the outbox (within a batch: once the
   * batch commits). Called from inside a step, never from outside one.
   */
  async function act(what: string, decide: Decide): Promise<StepOutcome> {
    const out = emptyOutbox();
    if (batch !== undefined) {
      const { tx, outboxes, fenced } = batch;
      const checked: string[] = [];
      const before = open.mark();
      try {
        await tx.transaction((inner) => decideIn(inner, decide, out, checked));
        for (const id of checked) fenced.add(id);
      } catch (err) {
        // Refused for a concurrent transaction (PostgreSQL): only the whole batch can run again, this report with it.
        if (isRetryable(err)) throw err;
        open.undoTo(before, (c) => owned(c.deploymentId));
        return stepError(err, what);
      }
      outboxes.push(out);
      return 'stored';
    }
    const changes = await store.changeCount();
    try {
      await transactionOnOpen(async (tx) => {
        const kept = writeBehind(tx);
        await decideIn(kept.tx, decide, out);
        await kept.flush();
      });
    } catch (err) {
      return stepError(err, what);
    }
    if ((await store.changeCount()) !== changes) disk.wrote(what);
    await perform(out);
    return 'stored';
  }

  /** A step's transaction failed (the working copy of the open commands is put back already): logs it. */
  function stepError(err: unknown, what: string): StepOutcome {
    if (err instanceof NotOwnerError) {
      log.warn({ what, deploymentId: err.deploymentId }, 'engine step not stored: another replica drives the deployment now');
      return 'notOwner';
    }
    const full = disk.failed(err, what);
    if (full) log.debug({ what }, 'engine step not stored: the disk is full');
    else log.error({ err, what }, 'engine step failed; its effects were not applied');
    stepFailed?.(err);
    return full ? 'diskFull' : 'failed';
  }

  /** Performs a committed step's outbox: commands out, cancels, acks, follow-up steps, events. */
  async function perform(out: Outbox): Promise<void> {
    for (const c of out.send) open.set(c);
    await dispatchAll(out.send);
    // A cancel must reach an agent after the command it cancels, as it did when fan-outs went out at once.
    if (out.cancel.length > 0) await markSentOwed(await sendCommands(takeUndispatched(Infinity)));
    for (const c of out.cancel) agents.cancel(c.instanceName, c.commandId, c.reason);
    for (const a of out.ack) agents.acknowledge(a.instanceName, a.commandId);
    if (out.finished.length > 0) scheduleReconcile();
    // A finished deployment has nothing left to drive: its lease goes (the other replicas stop wanting it at their next scan).
    if (own !== undefined) for (const id of out.finished) void own.release(id).catch((err: unknown) => log.warn({ err, deploymentId: id }, 'could not release a finished deployment\'s lease; it lapses instead'));
    for (const id of out.begin) void begin(id);
    publish(out.events);
  }

  /**
   * Runs owed-able writes (`key` as for owe) in one transaction, each in its own savepoint, then
   * performs their outboxes merged, so the commands they release go out, and are marked sent, together.
   * A batch whose commit fails stores none of them: each is owed (full disk) or dropped (the agent
   * keeps an unacknowledged result and sends it again), as when stored alone.
   */
  async function writeBatch(writes: ReadonlyArray<{ key: string; commandId?: string; write: () => Promise<StepOutcome> }>): Promise<StepOutcome[]> {
    if (writes.length === 0) return [];
    if (writes.length === 1) {
      const outcome = await writes[0]!.write();
      owe(writes[0]!.key, outcome, writes[0]!.write);
      return [outcome];
    }
    const outboxes: Outbox[] = [];
    const outcomes: StepOutcome[] = [];
    const changes = await store.changeCount();
    let failed: StepOutcome | undefined;
    try {
      await transactionOnOpen(async (tx) => {
          outboxes.length = 0;
          outcomes.length = 0;
          // The reports' commands and targets are read together, and the steps' writes go together at the end.
          const kept = writeBehind(tx);
          await kept.prefetch(writes.flatMap((w) => (w.commandId === undefined ? [] : [w.commandId])));
          batch = { tx: kept.tx, outboxes, fenced: new Set() };
          try {
            for (const w of writes) outcomes.push(await w.write());
            if (own !== undefined) await announce(own, kept.tx, outboxes);
            await kept.flush();
          } finally {
            batch = undefined;
          }
      });
    } catch (err) {
      failed = stepError(err, 'agent reports');
    }
    writes.forEach((w, i) => owe(w.key, failed ?? outcomes[i]!, w.write));
    if (failed !== undefined) return writes.map(() => failed);
    if ((await store.changeCount()) !== changes) disk.wrote('agent reports');
    const merged = emptyOutbox();
    for (const out of outboxes) for (const k of Object.keys(merged) as (keyof Outbox)[]) (merged[k] as unknown[]).push(...out[k]);
    await perform(merged);
    return outcomes;
  }

  /** owe keeps a write that failed for a full disk, to be tried again at each sweep until it is stored. */
  function owe(key: string, outcome: StepOutcome, write: () => Promise<StepOutcome>): void {
    if (outcome === 'diskFull') owed.set(key, write);
    else owed.delete(key);
  }

  /** Tries the owed writes in the order they failed, stopping at the first the full disk still refuses. */
  async function retryOwed(): Promise<void> {
    for (const [key, write] of [...owed]) {
      if (!owed.has(key)) continue;
      const outcome = await write();
      if (outcome === 'diskFull') return;
      owed.delete(key);
    }
  }

  function publish(events: readonly DeploymentEvent[]): void {
    for (const event of events) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (err) {
          log.error({ err }, 'deployment event listener failed');
        }
      }
    }
  }

  /**
   * With replicas, an agent not connected here is most likely connected to another replica: its
   * command waits for no one. Only one that left this replica is said to be waited for here.
   */
  function connectedElsewhere(instanceName: string): boolean {
    // Not asked of the sessions (a read per command): GetDeployment's messages read them for the waiting instances.
    return own !== undefined && !offlineSince.has(instanceName);
  }

  /** The event that says `command` waits for its instance's agent, which is not connected. */
  function waiting(command: CommandRecord, started: boolean): DeploymentEvent {
    const since = offlineSince.get(command.instanceName) ?? agents.offlineSince?.(command.instanceName);
    return { type: 'agentWaiting', deploymentId: command.deploymentId, instanceName: command.instanceName, lifecycleEvent: command.lifecycleEvent, started, ...(since === undefined ? {} : { offlineSince: since }), at: clock.now() };
  }

  /** Records what changed on an instance between two versions of its record (inside a transaction). */
  function noteTarget(before: TargetRecord, after: TargetRecord, out: Outbox): void {
    const at = after.lastUpdatedAt;
    after.lifecycleEvents.forEach((e, i) => {
      if (e.status === before.lifecycleEvents[i]?.status || e.status === 'Skipped') return;
      const timed = (e.status === 'Succeeded' || e.status === 'Failed') && e.startTime !== undefined && e.endTime !== undefined;
      out.events.push({ type: 'lifecycleEvent', deploymentId: after.deploymentId, instanceName: after.targetId, lifecycleEvent: e.lifecycleEventName, status: e.status, ...(e.diagnostics && e.status === 'Failed' ? { diagnostics: e.diagnostics } : {}), ...(timed ? { startTime: e.startTime, endTime: e.endTime } : {}), at });
    });
    if (after.status !== before.status) out.events.push({ type: 'instance', deploymentId: after.deploymentId, instanceName: after.targetId, status: after.status, at });
  }

  /** Stores an instance's new record and notes the change. */
  async function saveTarget(tx: AsyncStore, before: TargetRecord, after: TargetRecord, out: Outbox): Promise<void> {
    await tx.putTarget(after);
    noteTarget(before, after, out);
  }

  async function reloadOpen(reader: AsyncStore): Promise<void> {
    const rows = await reader.openCommands();
    open.clear();
    for (const c of rows) if (owned(c.deploymentId)) open.set(c);
  }

  /**
   * Sends commands to their connected agents (the others get theirs when they connect) and records
   * those that went out as sent in one transaction: a fan-out of 1,000 commands is one commit, not
   * 1,000. Called from inside a step.
   */
  async function dispatchAll(commands: readonly CommandRecord[]): Promise<void> {
    await markSentOwed(await sendNow(commands));
  }

  /**
   * sendNow sends what a step released, or all of it when it is small; the rest of a large fan-out
   * goes a chunk per step (scheduleUndispatched). Returns the ids of the pending commands it sent.
   */
  function sendNow(commands: readonly CommandRecord[]): Promise<string[]> {
    if (commands.length <= DISPATCH_CHUNK) return sendCommands(commands);
    // Not even the first chunk now: the step that made them (a start, 30-60 ms for 1,000 instances)
    // has had its turn, and a request waiting for the loop is read before the sends begin.
    undispatched.push(...commands);
    scheduleUndispatched();
    return Promise.resolve([]);
  }

  /** Sends the rest of large fan-outs a chunk per step, each queued at a loop turn of its own. */
  function scheduleUndispatched(): void {
    if (undispatchedScheduled || undispatched.length === 0) return;
    undispatchedScheduled = true;
    pending++; // a chunk due is work settled() waits for
    setImmediate(() => {
      undispatchedScheduled = false;
      if (!running) {
        finishedWork();
        return; // still pending in the store: sent when the agents connect to the next process
      }
      const gaveWay = dispatchGivesWay?.() === true;
      void background('fan-out', async () => {
        if (!gaveWay) await dispatchAll(takeUndispatched(DISPATCH_CHUNK));
        scheduleUndispatched();
      });
      finishedWork();
    });
  }

  /**
   * Takes up to `count` queued commands, each only while it is still open and pending: one settled
   * meanwhile is not sent, and one its agent's reconnect already sent is not sent twice.
   */
  function takeUndispatched(count: number): CommandRecord[] {
    if (undispatched.length === 0) return [];
    return undispatched.splice(0, count).flatMap((c) => {
      const current = open.get(c.commandId);
      return current?.state === 'pending' ? [current] : [];
    });
  }

  /** Sends each command whose agent is connected; returns the ids of those sent that were pending. */
  async function sendCommands(commands: readonly CommandRecord[]): Promise<string[]> {
    const deployments = new Map<string, DeploymentRecord | undefined>();
    const sent: string[] = [];
    for (const command of commands) {
      if (!connected.has(command.instanceName)) continue; // sent when the agent connects
      const had = own === undefined ? undefined : deliveredTo(command.instanceName);
      if (had?.has(command.commandId) === true) continue; // on this stream already
      if (!deployments.has(command.deploymentId)) deployments.set(command.deploymentId, await store.getDeployment(command.deploymentId));
      const deployment = deployments.get(command.deploymentId);
      if (deployment === undefined) continue;
      const timeout = deployment.eventTimeouts[command.lifecycleEvent] ?? deployment.eventTimeouts.default ?? 3600;
      if (!agents.send(command, deployment, timeout)) continue;
      had?.add(command.commandId);
      if (command.state === 'pending' && owned(command.deploymentId)) sent.push(command.commandId);
    }
    return sent;
  }

  /** markSentOwed records that commands went out, owing the write of each to the sweep when the disk is full. */
  async function markSentOwed(sent: readonly string[]): Promise<void> {
    if (sent.length === 0) return;
    const outcome = await markSent(sent);
    for (const id of sent) owe(`sent:${id}`, outcome, () => markSent([id]));
  }

  /** Records that pending commands reached their agents: their pickup deadlines start now. */
  async function markSent(commandIds: readonly string[]): Promise<StepOutcome> {
    let marked: CommandRecord[];
    try {
      marked = await store.transaction(async (tx) => {
        const deadlineAt = clock.now() + config.pickupTimeoutSeconds * 1000;
        // Acknowledged, finished or gone meanwhile: not marked.
        const done = (await tx.getCommands(commandIds)).filter((c) => c.state === 'pending').map((c): CommandRecord => ({ ...c, state: 'sent', deadlineAt }));
        await tx.putCommands(done);
        return done;
      });
    } catch (err) {
      if (disk.failed(err, 'command sent')) return 'diskFull';
      // The commands did reach their agents; their pickup deadlines stay the ones they were created with.
      log.error({ err, commandIds: commandIds.slice(0, 10), count: commandIds.length }, 'could not record that a command was sent');
      stepFailed?.(err);
      return 'failed';
    }
    if (marked.length > 0) disk.wrote('command sent');
    for (const sent of marked) open.set(sent);
    return 'stored';
  }

  /** Creates the command for an instance's next event (inside a transaction). */
  async function nextCommand(tx: AsyncStore, deployment: DeploymentRecord, target: TargetRecord, out: Outbox): Promise<TargetRecord> {
    const now = clock.now();
    const started = queueNextEvent(target, now);
    if (started === undefined) return target;
    const command: CommandRecord = {
      commandId: newUuid(),
      deploymentId: deployment.deploymentId,
      instanceName: target.targetId,
      lifecycleEvent: started.event,
      state: 'pending',
      createdAt: now,
      deadlineAt: now + config.pickupTimeoutSeconds * 1000,
    };
    await tx.putCommand(command);
    out.send.push(command);
    if (!connected.has(target.targetId) && !connectedElsewhere(target.targetId)) out.events.push(waiting(command, false));
    return started.target;
  }

  /**
   * Applies the fleet planner's decision to the records (inside a transaction). `read` are target
   * records the caller has just read in this transaction (a start lists them all), so that 1,000
   * started instances are not each read again.
   */
  async function applyStep(tx: AsyncStore, deployment: DeploymentRecord, step: FleetStep, out: Outbox, read?: Map<string, TargetRecord>): Promise<DeploymentRecord> {
    const now = clock.now();
    let next: DeploymentRecord = { ...deployment, plan: step.plan };
    for (const effect of step.effects) next = await applyEffect(tx, next, effect, out, now, read);
    await tx.putDeployment(next);
    return next;
  }

  async function applyEffect(tx: AsyncStore, deployment: DeploymentRecord, effect: FleetEffect, out: Outbox, now: number, read: Map<string, TargetRecord> | undefined): Promise<DeploymentRecord> {
    switch (effect.type) {
      case 'startTarget': {
        const target = read?.get(effect.id) ?? (await tx.getTarget(deployment.deploymentId, effect.id));
        if (target !== undefined) {
          // Each instance is written once here; a record read in advance is not used again after it.
          read?.delete(effect.id);
          await saveTarget(tx, target, await nextCommand(tx, deployment, target, out), out);
        }
        return deployment;
      }
      case 'skipTarget': {
        const target = await tx.getTarget(deployment.deploymentId, effect.id);
        if (target !== undefined) await saveTarget(tx, target, skipTarget(target, now), out);
        return deployment;
      }
      case 'restartTarget': {
        const target = await tx.getTarget(deployment.deploymentId, effect.id);
        if (target !== undefined) await saveTarget(tx, target, await nextCommand(tx, deployment, retryTarget(target, now), out), out);
        return deployment;
      }
      case 'waiveTarget': {
        const target = await tx.getTarget(deployment.deploymentId, effect.id);
        if (target !== undefined) await saveTarget(tx, target, waiveTarget(target, now), out);
        return deployment;
      }
      case 'cancelTarget': {
        for (const c of open.ofInstance(effect.id)) {
          if (c.deploymentId === deployment.deploymentId) out.cancel.push({ instanceName: c.instanceName, commandId: c.commandId, reason: 'the deployment was stopped' });
        }
        return deployment;
      }
      case 'finish':
        // A blue/green install is one phase: the traffic driver reads the plan's outcome and goes on.
        return deployment.blueGreen === undefined ? finishDeployment(tx, deployment, effect.status, effect.errorCode, out, now) : deployment;
    }
  }

  async function finishDeployment(tx: AsyncStore, deployment: DeploymentRecord, status: 'Succeeded' | 'Failed' | 'Stopped', errorCode: string | undefined, out: Outbox, now: number): Promise<DeploymentRecord> {
    const done: DeploymentRecord = {
      ...deployment,
      status,
      completeTime: now,
      ...(errorCode === undefined ? {} : { errorInformation: { code: errorCode, message: await finishMessage(tx, deployment, errorCode) } }),
    };
    const key = revisionKey(deployment.revision);
    // What each instance now is, for the group's scheduling order and its auto-updates.
    const healthBefore = new Map((await tx.listHealth(deployment.deploymentGroupId)).map((h) => [h.instanceName, h]));
    for (const target of await tx.listTargets(deployment.deploymentId)) {
      // An instance skipped after it failed (guided failure) was touched: it is Unhealthy like a failed one.
      if ((target.status === 'Skipped' && !wasWaived(target)) || target.status === 'Pending') continue;
      const previous = healthBefore.get(target.targetId);
      const health: InstanceHealthRecord = {
        deploymentGroupId: deployment.deploymentGroupId,
        instanceName: target.targetId,
        health: target.status === 'Succeeded' ? 'Healthy' : 'Unhealthy',
        attemptedRevisionKey: key,
        ...(target.status === 'Succeeded' ? { revisionKey: key } : previous?.revisionKey === undefined ? {} : { revisionKey: previous.revisionKey }),
      };
      await tx.putHealth(health);
    }
    const group = await tx.getGroupById(deployment.deploymentGroupId);
    if (group !== undefined) {
      const summary = { deploymentId: deployment.deploymentId, status, endTime: now, createTime: deployment.createTime };
      await tx.putGroup({
        ...group,
        lastAttemptedDeployment: summary,
        ...(status === 'Succeeded' ? { lastSuccessfulDeployment: summary, targetRevision: deployment.revision } : {}),
      });
    }
    const decision = decideRollback(deployment, group, status);
    if (decision.rollback && group !== undefined) {
      const rollbackId = await createRollback(tx, deployment, group, now);
      if (rollbackId !== undefined) {
        done.rollbackInfo = { ...done.rollbackInfo, rollbackDeploymentId: rollbackId };
        out.begin.push(rollbackId);
      }
    } else if (!decision.rollback && decision.message !== undefined) {
      done.rollbackInfo = { ...done.rollbackInfo, rollbackMessage: decision.message };
    }
    const revision = await tx.getRevision(deployment.applicationName, key);
    if (revision !== undefined) await tx.putRevision({ ...revision, lastUsedTime: now });
    out.finished.push(deployment.deploymentId);
    out.events.push({ type: 'deployment', deploymentId: deployment.deploymentId, status, ...(errorCode === undefined ? {} : { errorCode }), at: now });
    log.info({ deploymentId: deployment.deploymentId, status, errorCode }, 'deployment finished');
    return done;
  }

  /** The ErrorInformation.message a deployment ends with. */
  async function finishMessage(tx: AsyncStore, deployment: DeploymentRecord, errorCode: string): Promise<string> {
    if (errorCode === 'ALARM_ACTIVE' && deployment.alarmStop !== undefined) return deployment.alarmStop.message;
    const outcome = await fleetOutcome(tx, deployment);
    if (deployment.plan?.failedBy === 'operator') return guidedFailureMessage(outcome);
    return outcomeMessage(errorCode as never, outcome);
  }

  /** fleetOutcome is how the deployment's instances ended, with the event each failed one failed in. */
  async function fleetOutcome(reader: AsyncStore, deployment: DeploymentRecord): Promise<FleetOutcome> {
    const targets = await reader.listTargets(deployment.deploymentId);
    const failed = targets
      .filter((t) => t.status === 'Failed' || wasWaived(t))
      .map((t): FailedInstance => {
        // the last failure is the one that ended the instance (an ignored ApplicationStop failure comes earlier; OnFailure only reports)
        const event = [...t.lifecycleEvents].reverse().find((e) => e.status === 'Failed' && e.lifecycleEventName !== ON_FAILURE_EVENT);
        return { name: t.targetId, ...(event === undefined ? {} : { event: event.lifecycleEventName }), ...(event?.diagnostics === undefined ? {} : { errorCode: event.diagnostics.errorCode }) };
      });
    return {
      total: deployment.plan?.targets.length ?? targets.length,
      minimumHealthy: deployment.plan?.minimumHealthy ?? 0,
      succeeded: targets.filter((t) => t.status === 'Succeeded').length,
      skipped: targets.filter((t) => t.status === 'Skipped' && !wasWaived(t)).length,
      failed,
    };
  }

  /**
   * Stores a rollback of `failed`: the group's last successful deployment again, to the group's
   * instances now, with the failed deployment's configuration (inside a transaction).
   */
  async function createRollback(tx: AsyncStore, failed: DeploymentRecord, group: DeploymentGroupRecord, now: number): Promise<string | undefined> {
    const good = group.lastSuccessfulDeployment === undefined ? undefined : await tx.getDeployment(group.lastSuccessfulDeployment.deploymentId);
    if (good === undefined) return undefined;
    const rollback = copyDeployment(good, {
      deploymentId: newDeploymentId(),
      deploymentConfigName: failed.deploymentConfigName,
      minimumHealthyHosts: failed.minimumHealthyHosts,
      creator: 'codeDeployRollback',
      createTime: now,
      previousRevision: failed.revision,
      description: `Rollback of ${failed.deploymentId} to the last successful revision (from ${good.deploymentId})`,
      rollbackInfo: { rollbackTriggeringDeploymentId: failed.deploymentId },
    });
    await tx.putDeployment(rollback);
    await tx.addTargets((await findGroupInstances(group, tx)).map((i) => newTarget(rollback.deploymentId, i.instanceName, now)));
    log.info({ deploymentId: rollback.deploymentId, rollbackOf: failed.deploymentId }, 'rollback deployment created');
    return rollback.deploymentId;
  }

  /**
   * Starts a Created deployment, once alarm monitoring (if any) has had its first look at its alarms;
   * resolves when the start step has run. Queues the start: never awaited from inside a step.
   */
  function begin(deploymentId: string): Promise<void> {
    // With replicas, the replica that takes the lease starts it (takeOver).
    if (own !== undefined) {
      own.claim(deploymentId);
      return Promise.resolve();
    }
    return startLater(deploymentId);
  }

  /** Queues the start of a Created deployment (begin without replicas, takeOver with them). */
  function startLater(deploymentId: string): Promise<void> {
    starting.add(deploymentId);
    const started = alarms === undefined
      ? background('start deployment', () => startDeployment(deploymentId, undefined))
      : new Promise<void>((resolve) => alarms.beforeStart(deploymentId, (stop) => resolve(background('start deployment', () => startDeployment(deploymentId, stop)))));
    return started.finally(() => starting.delete(deploymentId));
  }

  /**
   * Orders a Created deployment's targets and releases the first batch, then has its alarms watched;
   * with an alarm already firing (`alarmStop`), or a StopDeployment that came while the alarms were
   * read, it skips every instance and ends Stopped instead.
   */
  async function startDeployment(deploymentId: string, alarmStop: AlarmStop | undefined): Promise<void> {
    await act('start deployment', async (tx, out) => {
      const deployment = await tx.getDeployment(deploymentId);
      if (deployment === undefined || deployment.status !== 'Created') return;
      const targets = await tx.listTargets(deploymentId);
      const health = await tx.listHealth(deployment.deploymentGroupId);
      const group = await tx.getGroupById(deployment.deploymentGroupId);
      const currentKey = group?.targetRevision === undefined ? undefined : revisionKey(group.targetRevision);
      const healthByName = new Map(health.map((h) => [h.instanceName, h]));
      const ordered = orderTargets(targets.map((t) => healthOf(t.targetId, healthByName.get(t.targetId), currentKey)));
      const minimum = minimumHealthyCount(deployment.minimumHealthyHosts, ordered.length);
      const alarm = deployment.stopRequested === undefined ? alarmStop : undefined; // the first stop wins
      const started: DeploymentRecord = { ...deployment, status: 'InProgress', startTime: clock.now(), ...(alarm === undefined ? {} : { alarmStop: { at: clock.now(), message: alarm.message } }) };
      out.events.push({ type: 'deployment', deploymentId, status: 'InProgress', at: clock.now() });
      const stopCode = deployment.stopRequested !== undefined ? 'MANUAL_STOP' : alarm?.code;
      const read = new Map(targets.map((t) => [t.targetId, t]));
      await applyStep(tx, started, stopCode === undefined ? startFleet(ordered, minimum) : stopUnstarted(ordered, minimum, stopCode), out, read);
      log.info({ deploymentId, targets: ordered.length, minimumHealthy: minimum }, 'deployment started');
    });
    await watchAlarms(deploymentId);
  }

  /** Hands a running deployment to alarm monitoring (again, after a restart). */
  async function watchAlarms(deploymentId: string): Promise<void> {
    if (alarms !== undefined && (await store.getDeployment(deploymentId))?.status === 'InProgress') {
      alarms.watch(deploymentId, (stop) => {
        if (owned(deploymentId)) void background('alarm stop', () => stopForAlarm(deploymentId, stop));
      });
    }
  }

  /** Stops a running deployment as StopDeployment does, recording that an alarm did it (for the message and the rollback rule). */
  async function stopForAlarm(deploymentId: string, stop: AlarmStop): Promise<void> {
    await act('alarm stop', async (tx, out) => {
      const deployment = await tx.getDeployment(deploymentId);
      if (deployment?.plan === undefined || deployment.status !== 'InProgress' || deployment.plan.ending === 'stopping') return;
      await applyStep(tx, { ...deployment, alarmStop: { at: clock.now(), message: stop.message } }, onStop(deployment.plan, stop.code), out);
    });
  }

  /** Records one event's outcome and moves the instance, and perhaps the fleet, on. */
  async function settle(tx: AsyncStore, command: CommandRecord, outcome: EventOutcome & { onFailure?: HookReport }, out: Outbox): Promise<void> {
    const done: CommandRecord = { ...command, state: 'done' };
    await tx.putCommand(done);
    open.delete(command.commandId);
    const deployment = await tx.getDeployment(command.deploymentId);
    const target = await tx.getTarget(command.deploymentId, command.instanceName);
    if (deployment === undefined || target === undefined || deployment.plan === undefined) return;
    const stopping = deployment.plan.ending === 'stopping' || deployment.status !== 'InProgress';
    const finished = finishEvent(target, command.lifecycleEvent, outcome, {
      ignoreApplicationStopFailures: deployment.ignoreApplicationStopFailures,
      stopping,
      now: clock.now(),
      ...(deployment.blueGreen === undefined ? {} : { phaseEnd: phaseEndOf(command.lifecycleEvent) }),
    });
    // The OnFailure hook's report sits beside the failure it followed; only a recorded failure gets one.
    if (outcome.onFailure !== undefined && outcome.status === 'Failed' && finished.target !== target) finished.target = recordOnFailure(finished.target, outcome.onFailure);
    if (finished.final === undefined) {
      await saveTarget(tx, target, await nextCommand(tx, deployment, finished.target, out), out);
      return;
    }
    await saveTarget(tx, target, finished.target, out);
    // Guided failure holds an in-place instance's failure for an operator (a stop has no one to ask).
    const hold = finished.final === 'Failed' && !stopping && deployment.stopRequested === undefined && deployment.blueGreen === undefined && guidedFailureOf((await tx.getGroupById(deployment.deploymentGroupId))?.extra) === 'guided';
    const next = await applyStep(tx, deployment, onTargetResult(deployment.plan, command.instanceName, finished.final, { hold }), out);
    if (next.plan?.held?.includes(command.instanceName) === true) {
      out.events.push({ type: 'guidedFailure', deploymentId: deployment.deploymentId, instanceName: command.instanceName, lifecycleEvent: command.lifecycleEvent, at: clock.now() });
      log.warn({ deploymentId: deployment.deploymentId, instance: command.instanceName, event: command.lifecycleEvent }, 'guided failure: the deployment waits for an operator to retry, skip or fail the instance');
    }
  }

  function failCommand(tx: AsyncStore, command: CommandRecord, message: string, out: Outbox): Promise<void> {
    return settle(tx, command, { status: 'Failed', diagnostics: { errorCode: 'UnknownError', scriptName: '', message, logTail: '' } }, out);
  }

  /**
   * Records that the agent started a command (its ack): the command's deadline becomes the event's
   * timeout, and the event turns InProgress from now, so its duration is the agent's, not the wait.
   */
  async function commandStarted(instanceName: string, commandId: string, waiting?: PendingReportRecord): Promise<StepOutcome> {
    const command = open.get(commandId);
    if (command === undefined || command.instanceName !== instanceName || command.state === 'acked') {
      // Nothing to record (ended, or acked already); a stored report is done with all the same.
      return waiting === undefined ? 'stored' : act('stored ack', (tx) => tx.deletePendingReport(waiting.deploymentId, waiting.seq));
    }
    return act('command started', async (tx, out) => {
      if (waiting !== undefined) await tx.deletePendingReport(waiting.deploymentId, waiting.seq);
      const deployment = await tx.getDeployment(command.deploymentId);
      const timeout = deployment?.eventTimeouts[command.lifecycleEvent] ?? deployment?.eventTimeouts.default ?? 3600;
      const now = clock.now();
      const acked: CommandRecord = { ...command, state: 'acked', deadlineAt: now + (timeout + config.eventTimeoutMarginSeconds) * 1000 };
      await tx.putCommand(acked);
      open.set(acked);
      const target = await tx.getTarget(command.deploymentId, instanceName);
      if (target !== undefined) await saveTarget(tx, target, eventStarted(target, command.lifecycleEvent, now), out);
    });
  }

  /** Stores agents' acks and results together (Engine.agentReports), inside a step. */
  async function storeReports(reports: readonly AgentReport[]): Promise<void> {
    for (const r of reports) if ('result' in r && outliving.on(r.instanceName).some((c) => c.commandId === r.result.commandId)) outliving.ended(r.result.commandId);
    if (own === undefined) {
      await writeBatch(reports.map((r) => reportWrite(r)));
      return;
    }
    // With replicas: a report on a deployment another replica drives is stored for it (storeForOwners).
    const here: AgentReport[] = [];
    const elsewhere: Array<{ report: AgentReport; deploymentId: string }> = [];
    const idOf = (r: AgentReport): string => ('ack' in r ? r.ack : r.result.commandId);
    // Other replicas' commands are not in the working copy: one read for all of them.
    const unknown = reports.map(idOf).filter((id) => open.get(id) === undefined);
    const stored = new Map(unknown.length === 0 ? [] : (await store.getCommands(unknown)).map((c) => [c.commandId, c]));
    for (const r of reports) {
      const commandId = idOf(r);
      const command = open.get(commandId) ?? stored.get(commandId);
      // Ended already (a late or repeated report): answered here, whoever drove it; nothing of it is stored.
      if (command === undefined || command.state === 'done' || command.instanceName !== r.instanceName || owned(command.deploymentId)) here.push(r);
      else elsewhere.push({ report: r, deploymentId: command.deploymentId });
    }
    const outcomes = await writeBatch(here.map((r) => reportWrite(r)));
    // Refused because the lease went meanwhile: the new owner applies it.
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome !== 'notOwner') continue;
      const r = here[i]!;
      const command = await store.getCommand('ack' in r ? r.ack : r.result.commandId);
      if (command !== undefined) elsewhere.push({ report: r, deploymentId: command.deploymentId });
    }
    if (elsewhere.length > 0) await storeForOwners(own, elsewhere);
  }

  /** reportWrite is the write that stores one report here (`waiting`: the stored report it comes from, deleted with it). */
  function reportWrite(r: AgentReport, waiting?: PendingReportRecord): { key: string; commandId: string; write: () => Promise<StepOutcome> } {
    if ('ack' in r) return { key: `started:${r.ack}`, commandId: r.ack, write: () => commandStarted(r.instanceName, r.ack, waiting) };
    return { key: `result:${r.result.commandId}`, commandId: r.result.commandId, write: () => storeResult(r.instanceName, r.result, waiting) };
  }

  /**
   * Stores reports for the replicas that drive their deployments, and wakes them (in one
   * transaction), then acknowledges the results: the agent forgets a result only once it is stored.
   * Not stored (the database refused): nothing is acknowledged, and the agent sends its results
   * again in its next hello.
   */
  async function storeForOwners(ownership: DeploymentOwnership, reports: ReadonlyArray<{ report: AgentReport; deploymentId: string }>): Promise<void> {
    const now = clock.now();
    try {
      await store.transaction(async (tx) => {
        await tx.addPendingReports(
          reports.map(({ report, deploymentId }) => ({ deploymentId, instanceName: report.instanceName, commandId: 'ack' in report ? report.ack : report.result.commandId, receivedAt: now, ...('result' in report ? { result: report.result } : {}) })),
        );
        await ownership.reportsStored?.(tx, [...new Set(reports.map((r) => r.deploymentId))]);
      });
    } catch (err) {
      if (!disk.failed(err, 'reports for other replicas')) log.error({ err, count: reports.length }, 'could not store agents\' reports for the replicas that drive their deployments');
      stepFailed?.(err);
      return;
    }
    for (const { report } of reports) {
      if (!('result' in report)) continue;
      let mine = reportedHere.get(report.instanceName);
      if (mine === undefined) reportedHere.set(report.instanceName, (mine = new Set()));
      mine.add(report.result.commandId);
      agents.acknowledge(report.instanceName, report.result.commandId);
    }
  }

  /**
   * With replicas, an operator's answer to a guided failure that reached a replica not driving the
   * deployment: what can be decided here is answered here (no such deployment, the instance not held,
   * a retry while a command ended here still runs on the instance's agent); else the answer is
   * recorded on the deployment with an `fd_results` wake-up, for the owner to apply (applyAnswers).
   */
  async function requestResolve(ownership: DeploymentOwnership, deploymentId: string, instanceName: string, action: GuidedAction): Promise<ResolveOutcome> {
    try {
      return await store.transaction(async (tx): Promise<ResolveOutcome> => {
        const deployment = await tx.getDeployment(deploymentId);
        if (deployment === undefined) return 'noDeployment';
        if (isFinalStatus(deployment.status) || deployment.plan?.held?.includes(instanceName) !== true) return 'notHeld';
        if (action === 'retry' && outliving.on(instanceName).length > 0) return 'stillRunning';
        await tx.putDeployment(withAnswer(deployment, { instanceId: instanceName, action, at: clock.now() }));
        await ownership.reportsStored?.(tx, [deploymentId]);
        return 'accepted';
      });
    } catch (err) {
      if (!disk.failed(err, 'guided failure answer')) log.error({ err, deploymentId, instance: instanceName }, 'could not record a guided failure answer for the replica that drives the deployment');
      stepFailed?.(err);
      return 'failed';
    }
  }

  /**
   * With replicas, a StopDeployment that reached a replica not driving the deployment: recorded on
   * the deployment (its stopRequested) with an `fd_results` wake-up, for the owner to apply
   * (applyRequests). Pending: the owner stops it.
   */
  async function requestStop(ownership: DeploymentOwnership, deploymentId: string, autoRollbackEnabled: boolean): Promise<'Pending' | 'Succeeded'> {
    return store.transaction(async (tx) => {
      const deployment = await tx.getDeployment(deploymentId);
      if (deployment === undefined || isFinalStatus(deployment.status)) return 'Succeeded';
      if (deployment.stopRequested === undefined) await tx.putDeployment({ ...deployment, stopRequested: { at: clock.now(), autoRollbackEnabled } });
      await ownership.reportsStored?.(tx, [deploymentId]);
      return 'Pending';
    });
  }

  /**
   * Applies what other replicas recorded on these deployments this replica drives: stops
   * (requestStop), then operators' answers to guided failures (requestResolve).
   */
  async function applyRequests(deploymentIds: readonly string[]): Promise<void> {
    for (const id of deploymentIds) {
      if (!owned(id)) {
        deferredAnswers.delete(id); // the replica that drives it now applies its answers
        continue;
      }
      const recorded = await store.getDeployment(id);
      if (recorded?.stopRequested !== undefined && recorded.status === 'InProgress' && recorded.plan !== undefined && recorded.plan.ending !== 'stopping') {
        await act('stop deployment', async (tx, out) => {
          const deployment = await tx.getDeployment(id);
          if (deployment?.plan === undefined || deployment.status !== 'InProgress' || deployment.plan.ending === 'stopping') return;
          await applyStep(tx, deployment, onStop(deployment.plan), out);
        });
      }
      if ((recorded?.guidedAnswers ?? []).length > 0) await applyAnswers(id);
      else deferredAnswers.delete(id);
    }
  }

  /**
   * Applies the answers to guided failures recorded on a deployment this replica drives, in the
   * order they came, and clears them. A retry while a command the coordinator ended still runs on
   * the instance's agent stays recorded (deferredAnswers) and is tried again at the claim scans;
   * an answer whose instance is no longer held (the deployment was stopped meanwhile) is dropped.
   */
  async function applyAnswers(deploymentId: string): Promise<void> {
    let deferred = false;
    const stored = await act('resolve instance failure', async (tx, out) => {
      deferred = false;
      const recorded = await tx.getDeployment(deploymentId);
      const answers = recorded?.guidedAnswers ?? [];
      if (recorded === undefined || answers.length === 0) return;
      let deployment = withAnswers(recorded, []);
      const kept = answers.filter((a) => a.action === 'retry' && outliving.on(a.instanceId).length > 0);
      for (const answer of answers) {
        if (kept.includes(answer)) continue;
        const fleetStep = deployment.plan === undefined || isFinalStatus(deployment.status) ? undefined : resolveHeld(deployment.plan, answer.instanceId, answer.action);
        if (fleetStep === undefined) {
          log.info({ deploymentId, instance: answer.instanceId, action: answer.action }, 'guided failure answer dropped: the instance is no longer held');
          continue;
        }
        deployment = await applyStep(tx, deployment, fleetStep, out);
        log.info({ deploymentId, instance: answer.instanceId, action: answer.action }, 'guided failure resolved by an operator (answer recorded at another replica)');
      }
      deferred = kept.length > 0 && !isFinalStatus(deployment.status);
      await tx.putDeployment(withAnswers(deployment, deferred ? kept : []));
    });
    if (stored === 'stored' && deferred) {
      if (!deferredAnswers.has(deploymentId)) log.warn({ deploymentId }, 'guided failure: a retry waits for a command the coordinator ended to end on its agent');
      deferredAnswers.add(deploymentId);
    } else if (stored === 'stored') deferredAnswers.delete(deploymentId);
  }

  /**
   * Applies the stored reports of the deployments this replica drives (all of them, or those named),
   * oldest first; and, for those named, the stops other replicas recorded on them.
   */
  async function applyWaiting(deploymentIds: readonly string[] | undefined): Promise<void> {
    const rows: PendingReportRecord[] = [];
    if (deploymentIds === undefined) rows.push(...(await store.pendingReports()).filter((r) => owned(r.deploymentId)));
    else for (const id of deploymentIds) if (owned(id)) rows.push(...(await store.pendingReports(id)));
    for (let at = 0; at < rows.length; at += STORED_REPORTS_BATCH) {
      await writeBatch(
        rows.slice(at, at + STORED_REPORTS_BATCH).map((row) => {
          const report: AgentReport = row.result === undefined ? { instanceName: row.instanceName, ack: row.commandId } : { instanceName: row.instanceName, result: row.result as AgentResult };
          const w = reportWrite(report, row);
          return { key: `stored:${row.seq}`, commandId: w.commandId, write: w.write };
        }),
      );
    }
    if (deploymentIds !== undefined) await applyRequests(deploymentIds);
  }

  const agentReports = (reports: readonly AgentReport[]): Promise<void> => background('agent reports', () => storeReports(reports));

  /** Stores an agent's result and, once it is stored, acknowledges it. */
  function storeResult(instanceName: string, result: AgentResult, waiting?: PendingReportRecord): Promise<StepOutcome> {
    return act('command result', async (tx, out) => {
      // A stored report was acknowledged by the replica that stored it.
      if (waiting === undefined) out.ack.push({ instanceName, commandId: result.commandId });
      else await tx.deletePendingReport(waiting.deploymentId, waiting.seq);
      const command = await tx.getCommand(result.commandId);
      if (command === undefined || command.state === 'done' || command.instanceName !== instanceName) return;
      await settle(tx, command, { status: result.status, diagnostics: result.diagnostics, ...(result.onFailure === undefined ? {} : { onFailure: result.onFailure }) }, out);
    });
  }

  /** Fails what has passed its deadline and what belongs to agents gone past their grace (a step). */
  async function sweep(): Promise<void> {
    if (!running) return;
    await retryOwed();
    const now = clock.now();
    const due: { command: CommandRecord; message: string }[] = [];
    for (const command of open.values()) {
      // The agent answered; only the disk kept its answer from being stored: no timeout overrides it.
      if (owed.has(`result:${command.commandId}`) || owed.has(`started:${command.commandId}`)) continue;
      const gone = goneAt.get(command.instanceName);
      if (command.state !== 'pending' && gone !== undefined && now >= gone) {
        due.push({ command, message: `the agent on ${command.instanceName} stopped answering: no connection for ${config.agentGraceSeconds} s while ${command.lifecycleEvent} was running` });
      } else if (now >= command.deadlineAt) {
        due.push({
          command,
          message: command.state === 'acked'
            ? `${command.lifecycleEvent} did not finish within its timeout on ${command.instanceName}`
            : `the agent on ${command.instanceName} did not pick up ${command.lifecycleEvent} within ${config.pickupTimeoutSeconds} s (is it running and registered under this name?)`,
        });
      }
    }
    if (own !== undefined) await sweepShared(own, due, now);
    if (due.length === 0) return;
    const started: CommandRecord[] = [];
    const stored = await act('timeouts', async (tx, out) => {
      started.length = 0;
      for (const { command, message } of due) {
        const current = await tx.getCommand(command.commandId);
        if (current === undefined || current.state === 'done') continue;
        await failCommand(tx, current, message, out);
        // The agent may still run its scripts: stop them, so a retry does not run beside them.
        if (current.state === 'acked') {
          started.push(current);
          out.cancel.push({ instanceName: current.instanceName, commandId: current.commandId, reason: message });
        }
      }
    });
    if (stored === 'stored') for (const c of started) outliving.add({ commandId: c.commandId, instanceName: c.instanceName, deploymentId: c.deploymentId, lifecycleEvent: c.lifecycleEvent, endedAt: now });
  }

  /**
   * The sweep's part with replicas: an agent not connected here may be connected to another replica
   * (not gone), so its commands are not failed for its absence; and the active deployments are
   * claimed now and then (ones created elsewhere, ones whose owner died before it claimed them),
   * and the finished ones no longer wanted.
   */
  async function sweepShared(ownership: DeploymentOwnership, due: Array<{ command: CommandRecord; message: string }>, now: number): Promise<void> {
    // A command whose agent's ack or result another replica has stored for this one is not timed
    // out: the agent answered, and the report is applied at the next wake-up or claim scan. (A
    // command sent by another replica is never marked sent here, so its pickup deadline counts
    // from its creation.)
    // Read once per sweep, for this check and the claim scan's below, whichever come.
    let stored: PendingReportRecord[] | undefined;
    const storedReports = async (): Promise<PendingReportRecord[]> => (stored ??= await store.pendingReports());
    if (due.length > 0) {
      const reported = new Set((await storedReports()).map((r) => r.commandId));
      for (let i = due.length - 1; i >= 0; i--) if (reported.has(due[i]!.command.commandId)) due.splice(i, 1);
    }
    const absent = [...new Set(due.filter((d) => d.command.state !== 'pending' && goneAt.has(d.command.instanceName) && now >= goneAt.get(d.command.instanceName)! && now < d.command.deadlineAt).map((d) => d.command.instanceName))];
    if (absent.length > 0 && ownership.agentsOnline !== undefined) {
      const online = await ownership.agentsOnline(absent);
      for (const name of online) goneAt.set(name, now + config.agentGraceSeconds * 1000);
      for (let i = due.length - 1; i >= 0; i--) if (online.has(due[i]!.command.instanceName) && now < due[i]!.command.deadlineAt) due.splice(i, 1);
    }
    if (now - lastClaimScan < CLAIM_SCAN_MS) return;
    lastClaimScan = now;
    const active = new Set(await store.listDeploymentIds({ statuses: ACTIVE_STATUSES }));
    for (const id of active) ownership.claim(id);
    for (const id of ownership.claimed()) if (!active.has(id)) await ownership.release(id);
    // A start that failed (a transaction refused again and again under other replicas' writes) is
    // not left Created for good: a deployment this replica drives that is still Created starts again.
    // Only one created a while ago: a new one may be on its way to Queued (the window gate of the
    // replica that created it decides that within moments of the commit).
    for (const id of await store.listDeploymentIds({ statuses: ['Created'], createdBefore: now - STALE_START_MS })) {
      if (!owned(id) || starting.has(id)) continue;
      const deployment = await store.getDeployment(id);
      if (deployment?.status === 'Created' && !isTrafficDeployment(deployment)) void startLater(id);
    }
    // Reports a wake-up was not enough for (a step that failed): tried again. Those of a finished
    // deployment can change nothing (its commands are done) and have been acknowledged: dropped.
    const waiting = await storedReports();
    for (const r of waiting) if (!active.has(r.deploymentId)) await store.deletePendingReport(r.deploymentId, r.seq);
    if (waiting.some((r) => active.has(r.deploymentId) && owned(r.deploymentId))) await applyWaiting(undefined);
    if (deferredAnswers.size > 0) await applyRequests([...deferredAnswers]);
  }

  /**
   * With replicas, a deployment this replica now drives (its lease acquired): resumed as a start
   * resumes every deployment after a restart — its open commands, the reports stored for it, its
   * start if it is Created, its alarms if it runs. A finished one's lease is given back.
   */
  function takeOver(ownership: DeploymentOwnership, deploymentId: string): void {
    void background('take over deployment', async () => {
      if (!running || !ownership.owns(deploymentId)) return;
      const deployment = await store.getDeployment(deploymentId);
      if (deployment === undefined || isFinalStatus(deployment.status)) {
        await ownership.release(deploymentId);
        return;
      }
      log.info({ deploymentId, status: deployment.status }, 'deployment taken over: this replica drives it now');
      const now = clock.now();
      const restartGraceMs = Math.max(config.agentGraceSeconds, config.restartGraceSeconds) * 1000;
      const mine = (await store.openCommands()).filter((c) => c.deploymentId === deploymentId);
      for (const c of mine) {
        open.set(c);
        if (!connected.has(c.instanceName) && !goneAt.has(c.instanceName)) goneAt.set(c.instanceName, now + restartGraceMs);
      }
      await applyWaiting([deploymentId]);
      // Its commands the previous owner never got to an agent connected here.
      await dispatchAll(open.ofDeployment(deploymentId).filter((c) => connected.has(c.instanceName)));
      if (isTrafficDeployment(deployment)) return; // the traffic driver drives those
      if (deployment.status === 'Created') void startLater(deploymentId);
      else await watchAlarms(deploymentId);
      for (const listener of takenOver) listener(deploymentId);
    });
  }

  /** With replicas, a deployment whose lease was lost: not driven here any more, from now on. */
  function dropDeployment(deploymentId: string, reason: string): void {
    log.warn({ deploymentId, reason }, 'deployment lease lost: this replica stops driving it');
    for (const c of open.ofDeployment(deploymentId)) open.delete(c.commandId);
    for (let i = undispatched.length - 1; i >= 0; i--) if (undispatched[i]!.deploymentId === deploymentId) undispatched.splice(i, 1);
  }

  /** The commands and `cancel:` ids the agent connected here has had on its current stream. */
  function deliveredTo(instanceName: string): Set<string> {
    let had = delivered.get(instanceName);
    if (had === undefined) delivered.set(instanceName, (had = new Set()));
    return had;
  }

  /**
   * With replicas: gives each named agent connected here what it has not had on its stream: its
   * open commands, whichever replica drives them (this one's are marked sent), and the cancels other
   * replicas recorded. `opens` are the open commands already read, by instance (else read here).
   */
  async function deliver(instanceNames: readonly string[]): Promise<void> {
    const here = instanceNames.filter((n) => connected.has(n));
    if (here.length === 0) return;
    const opens = new Map<string, CommandRecord[]>(here.map((n) => [n, []]));
    for (const c of await store.openCommandsOf(here)) opens.get(c.instanceName)?.push(c);
    return deliverOpen(here, opens);
  }

  /** deliver with the agents' open commands already read (`opens`, by instance). */
  async function deliverOpen(instanceNames: readonly string[], opens: ReadonlyMap<string, CommandRecord[]>): Promise<void> {
    const toSend: CommandRecord[] = [];
    /** Other replicas' commands: sent now, all of them (a large fan-out's later chunks keep only this replica's open commands). */
    const others: CommandRecord[] = [];
    /** Commands each agent has had that are no longer open, read together after the loop. */
    const ended: Array<{ name: string; had: Set<string>; ids: string[] }> = [];
    for (const name of instanceNames) {
      if (!connected.has(name)) continue;
      const had = deliveredTo(name);
      const reported = reportedHere.get(name);
      const commands = opens?.get(name) ?? [];
      const openIds = new Set<string>();
      for (const c of commands) {
        openIds.add(c.commandId);
        if (reported?.has(c.commandId) === true) continue; // the agent ran it; its owner has yet to apply the result
        if (c.cancelReason !== undefined) {
          // Cancelled before it reached this stream: it is not sent at all.
          if (had.has(c.commandId) && !had.has(`cancel:${c.commandId}`)) {
            had.add(`cancel:${c.commandId}`);
            agents.cancel(name, c.commandId, c.cancelReason);
          }
          continue;
        }
        if (had.has(c.commandId)) continue;
        const mine = open.get(c.commandId);
        if (mine !== undefined) toSend.push(mine);
        else others.push(c);
      }
      const gone = [...had].filter((id) => !id.startsWith('cancel:') && !openIds.has(id));
      if (gone.length > 0) ended.push({ name, had, ids: gone });
      if (reported !== undefined) {
        for (const id of reported) if (!openIds.has(id)) reported.delete(id);
        if (reported.size === 0) reportedHere.delete(name);
      }
    }
    // Ended since it was sent here: cancelled when the coordinator ended it (a timeout), forgotten either way.
    const endedIds = ended.flatMap((e) => e.ids);
    const endedRecords = new Map(endedIds.length === 0 ? [] : (await store.getCommands(endedIds)).map((c) => [c.commandId, c]));
    for (const { name, had, ids } of ended) {
      for (const id of ids) {
        const reason = endedRecords.get(id)?.cancelReason;
        if (reason !== undefined && !had.has(`cancel:${id}`)) agents.cancel(name, id, reason);
        had.delete(id);
        had.delete(`cancel:${id}`);
      }
    }
    await sendCommands(others);
    await dispatchAll(toSend);
  }

  /** Queues a sweep, and the next one once it has run. */
  function sweepLater(): void {
    sweepTimer = clock.setTimeout(() => {
      sweepTimer = undefined;
      // The next one is armed within this step, so a step queued after it finds the timer set.
      void background('sweep', async () => {
        try {
          await sweep();
        } finally {
          if (running) sweepLater();
        }
      });
    }, SWEEP_MS);
  }

  /** Reconciles soon: the named instances, or (no names) every group's instances. */
  function scheduleReconcile(instanceNames?: readonly string[]): void {
    if (instanceNames === undefined) reconcileAll = true;
    else for (const n of instanceNames) reconcileNames.add(n);
    if (reconcileTimer !== undefined || !running) return;
    reconcileTimer = clock.setTimeout(() => {
      reconcileTimer = undefined;
      const names = reconcileAll ? undefined : [...reconcileNames].sort();
      reconcileAll = false;
      reconcileNames.clear();
      void background('auto-update joined instances', () => reconcileGroups(names));
    }, RECONCILE_DELAY_MS);
  }

  /**
   * Gives instances that joined a group (registered or tagged after its last successful deployment)
   * that deployment's revision, as CodeDeploy does for an Auto Scaling scale-out. An instance the
   * group has deployed to before, whatever the outcome, is left alone, so a failure never loops.
   */
  async function reconcileGroups(instanceNames: readonly string[] | undefined): Promise<void> {
    const created: string[] = [];
    const stored = await act('auto-update joined instances', async (tx) => {
      created.length = 0;
      const active = await tx.activeGroupIds();
      const groups = (await tx.listGroups()).filter((g) => g.lastSuccessfulDeployment !== undefined && g.targetRevision !== undefined && !active.has(g.deploymentGroupId));
      if (groups.length === 0) return;
      // Only the instances that changed when they are named (registrations, tags); else each group's own, by its tags.
      let changed: InstanceRecord[] | undefined;
      if (instanceNames !== undefined) {
        changed = [];
        for (const n of instanceNames) {
          const instance = await tx.getInstance(n);
          if (instance !== undefined) changed.push(instance);
        }
      }
      for (const group of groups) {
        let joined: InstanceRecord[];
        if (changed === undefined) {
          const known = new Set((await tx.listHealth(group.deploymentGroupId)).map((h) => h.instanceName));
          joined = (await findGroupInstances(group, tx)).filter((i) => !known.has(i.instanceName));
        } else {
          joined = [];
          for (const i of groupInstances(group, changed)) if ((await tx.getHealth(group.deploymentGroupId, i.instanceName)) === undefined) joined.push(i);
        }
        if (joined.length === 0) continue;
        const source = group.lastSuccessfulDeployment === undefined ? undefined : await tx.getDeployment(group.lastSuccessfulDeployment.deploymentId);
        if (source === undefined || isTrafficDeployment(source)) continue; // a Lambda group has no instances to join
        const now = clock.now();
        const deployment = copyDeployment(source, {
          deploymentId: newDeploymentId(),
          deploymentGroupName: group.deploymentGroupName,
          creator: 'autoscaling',
          // Each joining instance is deployed to on its own account; the group's minimum is about its running fleet.
          minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 },
          createTime: now,
          description: `fleetdeploy: ${joined.length} instance(s) joined the group; deploying its last successful revision`,
        });
        await tx.putDeployment(deployment);
        await tx.addTargets(joined.map((i) => newTarget(deployment.deploymentId, i.instanceName, now)));
        created.push(deployment.deploymentId);
        log.info({ deploymentId: deployment.deploymentId, group: group.deploymentGroupName, instances: joined.map((i) => i.instanceName) }, 'auto-update deployment created');
      }
    });
    if (stored === 'stored') for (const id of created) void begin(id);
  }

  /** Tells the engine of an agent's connection (a step): cancels what ended here, sends what is open. */
  async function connect(instanceName: string, inFlight: readonly string[]): Promise<void> {
    connected.add(instanceName);
    goneAt.delete(instanceName);
    offlineSince.delete(instanceName);
    const runningThere = new Set(inFlight);
    // Running there but ended here (timed out, or failed while the agent was away, maybe before a
    // restart of this process): cancel it, and hold retries of the instance until it ends.
    for (const commandId of inFlight) {
      if (open.get(commandId) !== undefined) continue;
      const ended = await store.getCommand(commandId);
      if (ended === undefined || ended.state !== 'done' || ended.instanceName !== instanceName) continue;
      if (!outliving.has(commandId)) outliving.add({ commandId, instanceName, deploymentId: ended.deploymentId, lifecycleEvent: ended.lifecycleEvent, endedAt: clock.now() });
      agents.cancel(instanceName, commandId, `the coordinator had already ended ${ended.lifecycleEvent} of ${ended.deploymentId}`);
    }
    outliving.agentHello(instanceName, inFlight);
    if (own !== undefined) {
      // With replicas: what the agent runs already it has had; of the rest, every open command is
      // sent, whichever replica drives it, and its acks go where they belong (storeReports).
      delivered.set(instanceName, new Set(inFlight));
      const opens = await store.openCommands(instanceName);
      const acks: AgentReport[] = opens.filter((c) => runningThere.has(c.commandId) && c.state !== 'acked').map((c) => ({ instanceName, ack: c.commandId }));
      if (acks.length > 0) await storeReports(acks);
      // Those acked just now are open still, and the agent has them (delivered); the rest go out.
      await deliverOpen([instanceName], new Map([[instanceName, opens]]));
      return;
    }
    for (const command of open.ofInstance(instanceName)) {
      // Running on the agent already: it started it (an ack this process may not have seen).
      if (runningThere.has(command.commandId)) await storeReports([{ instanceName, ack: command.commandId }]);
      else await dispatchAll([command]);
    }
  }

  /** What the traffic driver's calls need of the engine's steps (blue-green-phases.ts). */
  const phases = blueGreenPhases({
    store,
    clock,
    act: (what, decide) => step(() => act(what, decide)).then(() => undefined),
    nextCommand,
    saveTarget,
    applyStep: (tx, deployment, fleetStep, out) => applyStep(tx, deployment, fleetStep, out),
    openCommands: (deploymentId) => [...open.values()].filter((c) => c.deploymentId === deploymentId),
    forget: (commandId) => void open.delete(commandId),
    fleetOutcome,
  });

  return {
    start() {
      running = true;
      own?.listen({ acquired: (id) => takeOver(own, id), lost: (id, reason) => dropDeployment(id, reason) });
      return step(async () => {
        await reloadOpen(store);
        const now = clock.now();
        // After a restart no agent is connected yet, and all of them reconnect through a jittered backoff
        // and the admission rate: each instance with work gets the longer restart grace before it counts as gone.
        const restartGraceMs = Math.max(config.agentGraceSeconds, config.restartGraceSeconds) * 1000;
        for (const c of open.values()) goneAt.set(c.instanceName, now + restartGraceMs);
        for (const d of await store.activeDeployments()) {
          // With replicas, each active deployment is resumed by the replica that takes its lease (takeOver).
          if (own !== undefined) {
            own.claim(d.deploymentId);
            continue;
          }
          if (isTrafficDeployment(d)) continue; // the traffic driver resumes those
          if (d.status === 'Created') void begin(d.deploymentId);
          else await watchAlarms(d.deploymentId);
        }
        if (running) sweepLater();
        scheduleReconcile();
      });
    },

    stop() {
      running = false;
      undispatched.length = 0;
      sweepTimer?.cancel();
      reconcileTimer?.cancel();
      return settled();
    },

    settled,

    deploymentCreated(deploymentId) {
      return begin(deploymentId);
    },

    stopRequested(deploymentId, autoRollbackEnabled) {
      if (own !== undefined && !owned(deploymentId)) return step(() => requestStop(own, deploymentId, autoRollbackEnabled));
      return step(async () => {
        let status: 'Pending' | 'Succeeded' = 'Succeeded';
        await act('stop deployment', async (tx, out) => {
          status = 'Succeeded';
          const deployment = await tx.getDeployment(deploymentId);
          if (deployment?.status === 'Created' && deployment.stopRequested === undefined) {
            // Not started yet (its alarms are being read): it is stopped as it starts.
            await tx.putDeployment({ ...deployment, stopRequested: { at: clock.now(), autoRollbackEnabled } });
            status = 'Pending';
          }
          if (deployment === undefined || deployment.plan === undefined) return;
          const stopped: DeploymentRecord = { ...deployment, stopRequested: { at: clock.now(), autoRollbackEnabled } };
          const next = await applyStep(tx, stopped, onStop(deployment.plan), out);
          status = next.status === 'Stopped' ? 'Succeeded' : 'Pending';
        });
        return status;
      });
    },

    fleetChanged(instanceNames) {
      scheduleReconcile(instanceNames);
    },

    agentConnected: (instanceName, inFlight) => background('agent connected', () => connect(instanceName, inFlight)),

    agentDisconnected: (instanceName) =>
      background('agent disconnected', async () => {
        connected.delete(instanceName);
        delivered.delete(instanceName);
        const now = clock.now();
        offlineSince.set(instanceName, now);
        goneAt.set(instanceName, now + config.agentGraceSeconds * 1000);
        publish(open.ofInstance(instanceName).map((c) => waiting(c, c.state === 'acked')));
      }),

    commandAcknowledged: (instanceName, commandId) => agentReports([{ instanceName, ack: commandId }]),
    commandResult: (instanceName, result) => agentReports([{ instanceName, result }]),
    agentReports,

    windowClosed(deploymentId, message) {
      return background('deployment window closed', () =>
        act('deployment window closed', async (tx, out) => {
          const deployment = await tx.getDeployment(deploymentId);
          if (deployment?.plan === undefined || deployment.status !== 'InProgress' || deployment.plan.paused === true) return;
          const messages = [...deployment.deploymentStatusMessages.filter((m) => !m.startsWith(WINDOW_MESSAGE_PREFIX)), message];
          await applyStep(tx, { ...deployment, deploymentStatusMessages: messages }, pauseFleet(deployment.plan), out);
          log.info({ deploymentId }, 'deployment window closed: no new instance starts');
        }),
      );
    },

    windowOpened(deploymentId) {
      return background('deployment window opened', () =>
        act('deployment window opened', async (tx, out) => {
          const deployment = await tx.getDeployment(deploymentId);
          if (deployment?.plan === undefined || deployment.status !== 'InProgress' || deployment.plan.paused !== true) return;
          const messages = deployment.deploymentStatusMessages.filter((m) => !m.startsWith(WINDOW_MESSAGE_PREFIX));
          await applyStep(tx, { ...deployment, deploymentStatusMessages: messages }, resumeFleet(deployment.plan), out);
          log.info({ deploymentId }, 'deployment window opened: instances start again');
        }),
      );
    },

    resolveInstanceFailure(deploymentId, instanceName, action) {
      if (own !== undefined && !owned(deploymentId)) return step(() => requestResolve(own, deploymentId, instanceName, action));
      return step(async (): Promise<ResolveOutcome> => {
        let outcome: ResolveOutcome = 'noDeployment';
        if (action === 'retry' && outliving.on(instanceName).length > 0 && (await store.getDeployment(deploymentId))?.plan?.held?.includes(instanceName) === true) return 'stillRunning';
        const stored = await act('resolve instance failure', async (tx, out) => {
          outcome = 'noDeployment';
          const deployment = await tx.getDeployment(deploymentId);
          if (deployment === undefined) return;
          const fleetStep = deployment.plan === undefined ? undefined : resolveHeld(deployment.plan, instanceName, action);
          if (fleetStep === undefined) {
            outcome = 'notHeld';
            return;
          }
          // An answer recorded at another replica for this instance is superseded by this one.
          await applyStep(tx, withoutAnswerFor(deployment, instanceName), fleetStep, out);
          outcome = 'resolved';
          log.info({ deploymentId, instance: instanceName, action }, 'guided failure resolved by an operator');
        });
        // The lease went meanwhile: the answer is recorded for the replica that drives it now.
        if (stored === 'notOwner' && own !== undefined) return requestResolve(own, deploymentId, instanceName, action);
        return stored === 'stored' ? outcome : 'failed';
      });
    },

    stillRunningOn: (instanceName) => outliving.on(instanceName),

    drives: owned,
    whenTakenOver(listener) {
      takenOver.add(listener);
      return () => void takenOver.delete(listener);
    },

    reportsWaiting: (deploymentIds) => background('stored reports', () => applyWaiting(deploymentIds.filter(owned))),
    // One read of the named agents' open commands, however many (a fan-out to 1,000 of them).
    commandsWaiting: (instanceNames) => background('commands from other replicas', () => deliver(instanceNames)),
    wakeupsMissed: () =>
      background('missed wake-ups', async () => {
        await applyWaiting(undefined);
        await applyRequests(own?.claimed() ?? []);
        await deliver([...connected]);
      }),

    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    ...phases,

    async bundleFor(instanceName, commandId) {
      const command = open.get(commandId) ?? (await store.getCommand(commandId));
      if (command === undefined || command.instanceName !== instanceName) return undefined;
      return (await store.getDeployment(command.deploymentId))?.bundle;
    },
  };
}

/**
 * copyDeployment makes a new Created deployment of the same revision and bundle as `source`, with
 * none of its progress: used for rollbacks and for instances that join a group.
 */
function copyDeployment(source: DeploymentRecord, over: Pick<DeploymentRecord, 'deploymentId' | 'creator' | 'createTime' | 'minimumHealthyHosts'> & Partial<DeploymentRecord>): DeploymentRecord {
  const { plan: _plan, stopRequested: _stop, guidedAnswers: _answers, alarmStop: _alarm, errorInformation: _error, startTime: _start, completeTime: _complete, rollbackInfo: _rollback, previousRevision: _previous, autoRollbackConfiguration: _auto, ...kept } = source;
  return { ...kept, status: 'Created', updateOutdatedInstancesOnly: false, deploymentStatusMessages: [], ...over };
}
