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
import type { Store } from '../store/store.js';
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
   * before anything is touched; `then` gets the stop, or undefined to go ahead. It is called at once
   * (synchronously) when the deployment watches no alarms, and not at all after close().
   */
  beforeStart(deploymentId: string, then: (stop: AlarmStop | undefined) => void): void;
  /** watch polls a running deployment's alarms every interval and calls `onStop` at most once. Watching again replaces `onStop`. */
  watch(deploymentId: string, onStop: (stop: AlarmStop) => void): void;
  /** close stops all polling (coordinator shutdown). */
  close(): void;
}

/** AlarmWatchDeps are passed in by the composition root. */
export interface AlarmWatchDeps {
  store: Pick<Store, 'getDeployment' | 'getGroupById'>;
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

  function configOf(deployment: DeploymentRecord): AlarmConfiguration | undefined {
    return watchedAlarms(deployment, store.getGroupById(deployment.deploymentGroupId)?.extra.alarmConfiguration);
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
    entry.timer = clock.setTimeout(() => void poll(deploymentId, entry), intervalMs);
  }

  async function poll(deploymentId: string, entry: Watched): Promise<void> {
    if (closed || watching.get(deploymentId) !== entry) return;
    const deployment = store.getDeployment(deploymentId);
    if (deployment === undefined || isFinalStatus(deployment.status)) {
      watching.delete(deploymentId);
      warned.delete(deploymentId);
      return;
    }
    // The group is read at every poll, so an UpdateDeploymentGroup that changes its alarms applies at once.
    const config = configOf(deployment);
    const verdict: AlarmVerdict = config === undefined ? { action: 'continue' } : await read(deploymentId, config);
    if (closed || watching.get(deploymentId) !== entry) return; // closed, or watched anew, while reading
    if (verdict.action !== 'stop') return schedule(deploymentId, entry);
    watching.delete(deploymentId);
    entry.onStop(verdict);
  }

  return {
    beforeStart(deploymentId, then) {
      const deployment = store.getDeployment(deploymentId);
      const config = deployment === undefined || deployment.status !== 'Created' ? undefined : configOf(deployment);
      if (config === undefined) return then(undefined);
      void read(deploymentId, config).then((verdict) => {
        if (!closed) then(verdict.action === 'stop' ? verdict : undefined);
      });
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
