/**
 * The deployment scheduler creates each scheduled deployment at its time, through the same
 * CreateDeployment operation as a client's request, and records the outcome on the schedule: the
 * deployment's id, or the exception CreateDeployment answered (a group busy with another deployment,
 * a revision gone from the bucket...). A schedule's time is stored, so a restarted coordinator sets
 * its timers again; one whose time passed while the coordinator was down runs as it starts.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { AsyncScheduleStore } from '../store/schedule-store.js';
import { isApiError } from './api-error.js';

/** The longest a timer is set for; a later schedule is looked at again then (setTimeout's range is ~24.8 days). */
const MAX_TIMER_MS = 24 * 3600_000;

export interface DeploymentSchedulerDeps {
  schedules: AsyncScheduleStore;
  clock: Clock;
  log: Logger;
  /** create sends a CreateDeployment request. */
  create(input: Record<string, unknown>): Promise<{ deploymentId: string }>;
}

export interface DeploymentScheduler {
  /** changed is called after a schedule was stored or deleted; it resolves once its timer is set (or cancelled). */
  changed(scheduleId: string): Promise<void>;
  /** start reads the schedules and sets their timers; it rejects when they cannot be read. */
  start(): Promise<void>;
  stop(): void;
  /** idle resolves once the schedules changed so far are read and their timers set. */
  idle(): Promise<void>;
}

export function createDeploymentScheduler(deps: DeploymentSchedulerDeps): DeploymentScheduler {
  const { schedules, clock, log, create } = deps;
  const timers = new Map<string, Timer>();
  let running = false;
  /**
   * Schedules are read, and their timers set, one after another in the order they changed: a read
   * is asynchronous, and an older read landing after a newer one would set a timer it cancelled.
   */
  let armed: Promise<void> = Promise.resolve();
  const rearm = (scheduleId: string): Promise<void> => {
    armed = armed.then(() => arm(scheduleId)).catch((err: unknown) => log.error({ err, scheduleId }, 'could not read a deployment schedule to set its timer'));
    return armed;
  };

  async function arm(scheduleId: string): Promise<void> {
    const s = await schedules.get(scheduleId);
    timers.get(scheduleId)?.cancel();
    timers.delete(scheduleId);
    if (!running || s?.status !== 'Scheduled') return;
    const wait = Math.min(Math.max(0, s.runTime - clock.now()), MAX_TIMER_MS);
    timers.set(scheduleId, clock.setTimeout(() => {
      timers.delete(scheduleId);
      if (clock.now() < s.runTime) void rearm(scheduleId);
      else void fire(scheduleId);
    }, wait));
  }

  async function fire(scheduleId: string): Promise<void> {
    let s;
    try {
      s = await schedules.get(scheduleId);
    } catch (err) {
      log.error({ err, scheduleId }, 'could not read a deployment schedule at its time; it runs when the coordinator next starts');
      return;
    }
    if (s?.status !== 'Scheduled') return;
    try {
      const { deploymentId } = await create(s.request);
      await schedules.put({ ...s, status: 'Created', deploymentId });
      log.info({ scheduleId, deploymentId }, 'scheduled deployment created');
    } catch (err) {
      const error = isApiError(err) ? { type: err.type, message: err.message } : { type: 'InternalFailure', message: (err as Error).message };
      try {
        // Another replica's timer may have created the deployment (ours was then refused): its record stands.
        if (!(await schedules.putIfScheduled({ ...s, status: 'Failed', error }))) {
          log.debug({ scheduleId, error }, 'another replica ran the deployment schedule');
          return;
        }
      } catch (putErr) {
        log.error({ err: putErr, scheduleId }, 'could not record the outcome of a scheduled deployment');
      }
      log.warn({ scheduleId, error }, 'scheduled deployment could not be created');
    }
  }

  return {
    changed: rearm,
    async start() {
      running = true;
      for (const s of await schedules.list()) if (s.status === 'Scheduled') void rearm(s.scheduleId);
      await armed;
    },
    idle: () => armed,
    stop() {
      running = false;
      for (const t of timers.values()) t.cancel();
      timers.clear();
    },
  };
}
