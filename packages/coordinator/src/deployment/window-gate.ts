/**
 * The window gate stands between the API and the drivers (engine and traffic driver) and holds each
 * new deployment of a group with deployment windows until one is open:
 *
 *   CreateDeployment ─▶ Created ──window open──────────────────────────────▶ driver begins it
 *                          └──closed──▶ Queued (status message: which window, when)
 *                                          └──timer at the opening──▶ Created ─▶ driver begins it
 *                                          └──StopDeployment──▶ Created + stop ─▶ driver ends it Stopped
 *
 * For a running in-place deployment of a group with windowClose finish-running, it also pauses the
 * fleet when the window closes (running instances finish, none starts) and resumes it when the next
 * one opens. Its timers are derived from the records alone, so a restarted coordinator recomputes
 * them in start(). Rollbacks and the auto-updates of joining instances are not held: the engine
 * starts them itself (a rollback restores the last good revision, which should not wait).
 *
 * With replicas on one database, the pause and the resume are engine steps only the replica driving
 * the deployment may take: each replica's gate watches the running deployments its engine drives,
 * those it takes over included (whenTakenOver), and leaves the others to their owners' gates. A
 * queued deployment taken over is queued again there, so its opening is not lost with its creator.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { DeploymentEngine } from '../api/context.js';
import type { AsyncStore } from '../store/async-store.js';
import type { DeploymentRecord } from '../store/records.js';
import { isFinalStatus } from '../store/records.js';
import { isTrafficDeployment } from './traffic/driver.js';
import { pausedMessage, policyOf, WINDOW_MESSAGE_PREFIX, waitMessage, windowState } from './windows.js';
import type { WindowPolicy } from './windows.js';

/** The longest a timer is set for; a window further away is looked at again then (setTimeout's range is ~24.8 days). */
const MAX_TIMER_MS = 24 * 3600_000;
/** How soon a deployment that is still starting is looked at again. */
const STARTING_RECHECK_MS = 1000;

/** WindowedEngine is what the gate needs of the engine for a window that closes mid-deployment. */
export interface WindowedEngine {
  windowClosed(deploymentId: string, message: string): Promise<void>;
  windowOpened(deploymentId: string): Promise<void>;
  /** drives tells whether this replica's engine drives the deployment now (always, alone). */
  drives(deploymentId: string): boolean;
  /** whenTakenOver hears of each deployment the engine starts to drive after another replica; returns an unsubscribe. */
  whenTakenOver(listener: (deploymentId: string) => void): () => void;
}

export interface WindowGateDeps {
  /** The coordinator's one AsyncStore (the API's). */
  store: AsyncStore;
  clock: Clock;
  log: Logger;
  /** Where deployments go once a window lets them: the platform router. */
  inner: DeploymentEngine;
  engine: WindowedEngine;
}

/** WindowGate is the API's {@link DeploymentEngine}, holding deployments for their windows. */
export interface WindowGate extends DeploymentEngine {
  /** start looks again at every Queued and running deployment (after a restart); resolves once it has. */
  start(): Promise<void>;
  stop(): void;
}

export function createWindowGate(deps: WindowGateDeps): WindowGate {
  const { store, clock, log, inner, engine } = deps;
  /** The pending second look after fleet or window changes, if one is due. */
  let recheck: Timer | undefined;
  const timers = new Map<string, Timer>();
  let unsubscribe: (() => void) | undefined;

  function setTimer(id: string, at: number, fn: () => Promise<void>): void {
    timers.get(id)?.cancel();
    const ms = Math.min(Math.max(0, at - clock.now()), MAX_TIMER_MS);
    timers.set(id, clock.setTimeout(() => {
      timers.delete(id);
      fn().catch((err: unknown) => log.error({ err, deploymentId: id }, 'deployment windows: could not look at the deployment again'));
    }, ms));
  }

  async function policyFor(d: DeploymentRecord): Promise<WindowPolicy | undefined> {
    const group = await store.getGroupById(d.deploymentGroupId);
    return group === undefined ? undefined : policyOf(group.extra);
  }

  const withoutWindowMessages = (d: DeploymentRecord): string[] => d.deploymentStatusMessages.filter((m) => !m.startsWith(WINDOW_MESSAGE_PREFIX));

  /** Starts the deployment now if a window is open (or it has none), else queues it until one opens. */
  async function release(id: string): Promise<void> {
    const d = await store.getDeployment(id);
    if (d === undefined || (d.status !== 'Created' && d.status !== 'Queued')) return;
    const policy = await policyFor(d);
    const now = clock.now();
    const state = policy === undefined || d.stopRequested !== undefined ? undefined : windowState(policy.windows, now);
    if (state !== undefined && !state.open) {
      const message = waitMessage(state);
      await store.transaction(async (tx) => {
        const current = await tx.getDeployment(id);
        if (current?.status !== 'Created' && current?.status !== 'Queued') return;
        await tx.putDeployment({ ...current, status: 'Queued', deploymentStatusMessages: [...withoutWindowMessages(current), message] });
      });
      log.info({ deploymentId: id, opensAt: state.opensAt === undefined ? undefined : new Date(state.opensAt).toISOString() }, 'deployment waits for its deployment window');
      if (state.opensAt !== undefined) setTimer(id, state.opensAt, () => release(id));
      return;
    }
    if (d.status === 'Queued') {
      await store.transaction(async (tx) => {
        const current = await tx.getDeployment(id);
        if (current?.status === 'Queued') await tx.putDeployment({ ...current, status: 'Created', deploymentStatusMessages: withoutWindowMessages(current) });
      });
      log.info({ deploymentId: id }, 'deployment window open: the queued deployment starts');
    }
    await inner.deploymentCreated(id);
    await watch(id);
  }

  /**
   * Keeps a running in-place deployment in step with its windows: paused while they are closed,
   * going while one is open, with a timer for the next change.
   */
  async function watch(id: string): Promise<void> {
    // Another replica drives it: its gate watches it (and this one's again if it is taken over here).
    if (!engine.drives(id)) return;
    const d = await store.getDeployment(id);
    if (d === undefined || isFinalStatus(d.status) || isTrafficDeployment(d)) return;
    const policy = await policyFor(d);
    if (policy === undefined || policy.windowClose !== 'finish-running') return;
    const now = clock.now();
    // Still starting (its alarms are being read): look again shortly.
    if (d.status !== 'InProgress') return setTimer(id, now + STARTING_RECHECK_MS, () => watch(id));
    const state = windowState(policy.windows, now);
    if (state.open) {
      if (d.plan?.paused === true) await engine.windowOpened(id);
      setTimer(id, state.closesAt, () => watch(id));
      return;
    }
    if (d.plan?.paused !== true) await engine.windowClosed(id, pausedMessage(now, state));
    if (state.opensAt !== undefined) setTimer(id, state.opensAt, () => watch(id));
  }

  /** A deployment the engine took over from another replica: queued or watched here from now on. */
  function takenOver(id: string): void {
    void (async () => {
      const d = await store.getDeployment(id);
      if (d?.status === 'Queued') await release(id);
      else await watch(id);
    })().catch((err: unknown) => log.error({ err, deploymentId: id }, 'deployment windows: could not look at a deployment taken over'));
  }

  return {
    async start() {
      unsubscribe ??= engine.whenTakenOver(takenOver);
      for (const d of await store.activeDeployments()) {
        if (d.status === 'Queued') await release(d.deploymentId);
        else await watch(d.deploymentId);
      }
    },

    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      for (const t of timers.values()) t.cancel();
      timers.clear();
      recheck?.cancel();
      recheck = undefined;
    },

    deploymentCreated: release,

    async stopRequested(id, autoRollbackEnabled) {
      const d = await store.getDeployment(id);
      if (d?.status !== 'Queued') return inner.stopRequested(id, autoRollbackEnabled);
      // A queued deployment has started nothing: its driver starts it stopped, skipping every target.
      timers.get(id)?.cancel();
      timers.delete(id);
      await store.transaction(async (tx) => {
        const current = await tx.getDeployment(id);
        if (current?.status === 'Queued') await tx.putDeployment({ ...current, status: 'Created', deploymentStatusMessages: withoutWindowMessages(current), stopRequested: { at: clock.now(), autoRollbackEnabled } });
      });
      await inner.deploymentCreated(id);
      const after = await store.getDeployment(id);
      return after !== undefined && isFinalStatus(after.status) ? 'Succeeded' : 'Pending';
    },

    fleetChanged(instanceNames) {
      if (instanceNames === undefined) inner.fleetChanged();
      else inner.fleetChanged(instanceNames);
      // A group's windows may have changed (UpdateDeploymentGroup, Put/DeleteDeploymentWindows): look
      // again, once for a burst of changes and outside the request, which neither waits for nor fails
      // on the active deployments being read. A change of named instances (registration, tags) changes no window.
      if (recheck !== undefined || instanceNames !== undefined) return;
      recheck = clock.setTimeout(() => {
        recheck = undefined;
        void (async () => {
          for (const d of await store.activeDeployments()) {
            if (d.status === 'Queued') await release(d.deploymentId);
            else if (d.status === 'InProgress') await watch(d.deploymentId);
          }
        })().catch((err: unknown) => log.error({ err }, 'deployment windows: could not look at the active deployments again'));
      }, 0);
    },
    hookReported: (id, executionId, status) => inner.hookReported(id, executionId, status),
    skipTerminationWait: (id) => inner.skipTerminationWait?.(id) ?? Promise.resolve('notWaiting'),
    continueDeployment: (id) => inner.continueDeployment?.(id) ?? Promise.resolve('notReady'),
    resolveInstanceFailure: (id, instance, action) => inner.resolveInstanceFailure(id, instance, action),
    stillRunningOn: (instance) => inner.stillRunningOn(instance),
  };
}
