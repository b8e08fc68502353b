/**
 * Alarm monitoring for running deployments, whatever drives them (the in-place engine today, a
 * traffic router tomorrow): a driver asks once before it starts a deployment, then hands the
 * deployment over to be polled every interval until it ends or an alarm stops it. The watch decides
 * nothing itself (alarm-verdict.ts does) and changes no record: it calls the driver back, and the
 * driver stops the deployment its own way.
 *
 *   driver ──beforeStart(id)──▶ one reading ──▶ then(stop | undefined)
 *   driver ──watch(id, onStop)─▶ every interval: deployment final? drop : reading ──stop──▶ onStop (once)
 *
 * Nothing is kept on disk: which deployments are watched follows from their records, so a driver
 * that resumes its deployments after a restart simply watches them again.
 *
 * A driver's stop should end the deployment Stopped with errorInformation {code: stop.code, message:
 * stop.message} and set DeploymentRecord.alarmStop, which is what makes deployment/rollback.ts roll
 * it back on DEPLOYMENT_STOP_ON_ALARM (deployment/engine.ts's stopForAlarm does this for Server).
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { AsyncStore } from '../store/async-store.js';
import type { DeploymentRecord } from '../store/records.js';
import { isFinalStatus } from '../store/records.js';
import type { AlarmReading, AlarmSource } from './alarm-source.js';
import type { AlarmConfiguration, AlarmVerdict } from './alarm-verdict.js';
import { judgeAlarms, watchedAlarms } from './alarm-verdict.js';

/** AlarmStop is why alarm monitoring stops a deployment: CodeDeploy's ErrorInformation. */
export type AlarmStop = Extract<AlarmVerdict, { action: 'stop' }>;

/** AlarmWatch is what deployment drivers use. */
export interface AlarmWatch {
  /**
   * beforeStart reads the alarms of a Created deployment once, so that one already firing stops it
   * before anything is touched; `then` gets the stop, or undefined to go ahead. It is called as soon
   * as the deployment and its group are read when the deployment watches no alarms, and not at all
   * after close().
   */
  beforeStart(deploymentId: string, then: (stop: AlarmStop | undefined) => void): void;
  /** watch polls a running deployment's alarms every interval and calls `onStop` at most once. Watching again replaces `onStop`. */
  watch(deploymentId: string, onStop: (stop: AlarmStop) => void): void;
  /** close stops all polling (coordinator shutdown). */
  close(): void;
}

/** AlarmWatchDeps are passed in by the composition root. */
export interface AlarmWatchDeps {
  store: Pick<AsyncStore, 'getDeployment' | 'getGroupById'>;
  source: AlarmSource;
  clock: Clock;
  intervalMs: number;
  log: Logger;
}

interface Watched {
  onStop: (stop: AlarmStop) => void;
  timer?: Timer;
}

/** createAlarmWatch builds an {@link AlarmWatch}. */
export function createAlarmWatch(deps: AlarmWatchDeps): AlarmWatch {
  const { store, source, clock, intervalMs, log } = deps;
  const watching = new Map<string, Watched>();
  /** Deployments already warned about unreadable alarms: the operator hears it once, not every poll. */
  const warned = new Set<string>();
  let closed = false;

  async function configOf(deployment: DeploymentRecord): Promise<AlarmConfiguration | undefined> {
    return watchedAlarms(deployment, (await store.getGroupById(deployment.deploymentGroupId))?.extra.alarmConfiguration);
  }

  /** Reads the alarms and judges them; a warning is logged here, once per deployment. */
  async function read(deploymentId: string, config: AlarmConfiguration): Promise<AlarmVerdict> {
    // A source is meant never to reject; one that does is read as unreadable rather than left unhandled.
    const reading = await source.states(config.alarms.map((a) => a.name)).catch((err: unknown): AlarmReading => ({ ok: false, error: err instanceof Error ? err.message : String(err) }));
    const verdict = judgeAlarms(config, reading, source.name);
    if (verdict.action === 'warn' && !warned.has(deploymentId) && !closed) {
      warned.add(deploymentId);
      log.warn({ deploymentId, source: source.name, detail: verdict.message }, 'alarms could not all be read; the deployment continues (ignorePollAlarmFailure)');
    }
    if (verdict.action === 'stop' && !closed) log.info({ deploymentId, source: source.name, detail: verdict.message }, 'alarm monitoring stops the deployment');
    return verdict;
  }

  function schedule(deploymentId: string, entry: Watched): void {
    entry.timer = clock.setTimeout(() => {
      poll(deploymentId, entry).catch((err: unknown) => {
        // The records could not be read (the database is away): polled again at the next interval.
        if (closed || watching.get(deploymentId) !== entry) return;
        log.warn({ err, deploymentId }, 'cannot read the deployment whose alarms are watched; trying again');
        schedule(deploymentId, entry);
      });
    }, intervalMs);
  }

  async function poll(deploymentId: string, entry: Watched): Promise<void> {
    if (closed || watching.get(deploymentId) !== entry) return;
    const deployment = await store.getDeployment(deploymentId);
    if (closed || watching.get(deploymentId) !== entry) return;
    if (deployment === undefined || isFinalStatus(deployment.status)) {
      watching.delete(deploymentId);
      warned.delete(deploymentId);
      return;
    }
    // The group is read at every poll, so an UpdateDeploymentGroup that changes its alarms applies at once.
    const config = await configOf(deployment);
    const verdict: AlarmVerdict = config === undefined ? { action: 'continue' } : await read(deploymentId, config);
    if (closed || watching.get(deploymentId) !== entry) return; // closed, or watched anew, while reading
    if (verdict.action !== 'stop') return schedule(deploymentId, entry);
    watching.delete(deploymentId);
    entry.onStop(verdict);
  }

  return {
    beforeStart(deploymentId, then) {
      const look = async (): Promise<AlarmStop | undefined> => {
        const deployment = await store.getDeployment(deploymentId);
        const config = deployment === undefined || deployment.status !== 'Created' ? undefined : await configOf(deployment);
        if (config === undefined) return undefined;
        const verdict = await read(deploymentId, config);
        return verdict.action === 'stop' ? verdict : undefined;
      };
      look().then(
        (stop) => {
          if (!closed) then(stop);
        },
        (err: unknown) => {
          // The start goes ahead (its own step reads the deployment again); the watch's polls read the alarms.
          log.warn({ err, deploymentId }, 'cannot read the deployment to look at its alarms before it starts; it starts, and its alarms are watched');
          if (!closed) then(undefined);
        },
      );
    },

    watch(deploymentId, onStop) {
      if (closed) return;
      watching.get(deploymentId)?.timer?.cancel();
      const entry: Watched = { onStop };
      watching.set(deploymentId, entry);
      schedule(deploymentId, entry);
    },

    close() {
      closed = true;
      for (const entry of watching.values()) entry.timer?.cancel();
      watching.clear();
    },
  };
}
