/**
 * The deployment scheduler creates each scheduled deployment at its time, through the same
 * CreateDeployment operation as a client's request, and records the outcome on the schedule: the
 * deployment's id, or the exception CreateDeployment answered (a group busy with another deployment,
 * a revision gone from the bucket...). A schedule's time is stored, so a restarted coordinator sets
 * its timers again; one whose time passed while the coordinator was down runs as it starts.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { ScheduleStore } from '../store/schedule-store.js';
import { isApiError } from './api-error.js';

/** The longest a timer is set for; a later schedule is looked at again then (setTimeout's range is ~24.8 days). */
const MAX_TIMER_MS = 24 * 3600_000;

export interface DeploymentSchedulerDeps {
  schedules: ScheduleStore;
  clock: Clock;
  log: Logger;
  /** create sends a CreateDeployment request. */
  create(input: Record<string, unknown>): Promise<{ deploymentId: string }>;
}

export interface DeploymentScheduler {
  /** changed is called after a schedule was stored or deleted. */
  changed(scheduleId: string): void;
  start(): void;
  stop(): void;
}

export function createDeploymentScheduler(deps: DeploymentSchedulerDeps): DeploymentScheduler {
  const { schedules, clock, log, create } = deps;
  const timers = new Map<string, Timer>();
  let running = false;

  function arm(scheduleId: string): void {
    timers.get(scheduleId)?.cancel();
    timers.delete(scheduleId);
    const s = schedules.get(scheduleId);
    if (!running || s?.status !== 'Scheduled') return;
    const wait = Math.min(Math.max(0, s.runTime - clock.now()), MAX_TIMER_MS);
    timers.set(scheduleId, clock.setTimeout(() => {
      timers.delete(scheduleId);
      if (clock.now() < s.runTime) arm(scheduleId);
      else void fire(scheduleId);
    }, wait));
  }

  async function fire(scheduleId: string): Promise<void> {
    const s = schedules.get(scheduleId);
    if (s?.status !== 'Scheduled') return;
    try {
      const { deploymentId } = await create(s.request);
      schedules.put({ ...s, status: 'Created', deploymentId });
      log.info({ scheduleId, deploymentId }, 'scheduled deployment created');
    } catch (err) {
      const error = isApiError(err) ? { type: err.type, message: err.message } : { type: 'InternalFailure', message: (err as Error).message };
      try {
        schedules.put({ ...s, status: 'Failed', error });
      } catch (putErr) {
        log.error({ err: putErr, scheduleId }, 'could not record the outcome of a scheduled deployment');
      }
      log.warn({ scheduleId, error }, 'scheduled deployment could not be created');
    }
  }

  return {
    changed: arm,
    start() {
      running = true;
      for (const s of schedules.list()) if (s.status === 'Scheduled') arm(s.scheduleId);
    },
    stop() {
      running = false;
      for (const t of timers.values()) t.cancel();
      timers.clear();
    },
  };
}
