/**
 * The scheduler and the schedule operations over a real SQLite store, with a fake clock: a schedule
 * creates its deployment at its cron time, once; CreateDeployment's refusal is kept on the schedule;
 * a restarted scheduler runs a schedule whose time passed while it was down.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { createScheduleStore, sqliteScheduleStores } from '../store/schedule-store.js';
import { promised } from '../store/promised.js';
import type { ScheduleStore } from '../store/schedule-store.js';
import { createFakeClock } from '../testing/fake-clock.js';
import type { FakeClock } from '../testing/fake-clock.js';
import { createDeploymentScheduler } from './deployment-scheduler.js';
import type { DeploymentScheduler } from './deployment-scheduler.js';
import { ApiError } from './api-error.js';
import { scheduleOperations } from './operations/deployment-schedules.js';
import type { ApiContext } from './context.js';

const START = Date.UTC(2026, 0, 1); // 00:00Z
const log = pino({ level: 'silent' });

describe('deployment scheduler', () => {
  let dir: string;
  let store: SqliteStore;
  let schedules: ScheduleStore;
  let clock: FakeClock;
  let scheduler: DeploymentScheduler;
  let requests: Record<string, unknown>[];
  let refuse: ApiError | undefined;
  let ctx: ApiContext;

  async function startScheduler(): Promise<void> {
    scheduler = createDeploymentScheduler({
      schedules: promised(schedules),
      clock,
      log,
      create: async (input) => {
        requests.push(input);
        if (refuse !== undefined) throw refuse;
        return { deploymentId: `d-${requests.length}` };
      },
    });
    await scheduler.start();
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-schedule-'));
    store = openSqliteStore(dir);
    schedules = createScheduleStore(store.db);
    clock = createFakeClock(START);
    requests = [];
    refuse = undefined;
    await startScheduler();
    store.putApplication({ applicationId: 'a', applicationName: 'app', computePlatform: 'Server', createTime: 0, linkedToGitHub: false });
    store.putGroup({ applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.OneAtATime', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: {} });
    ctx = { store: asyncSqliteStore(store), clock, schedules: { store: sqliteScheduleStores(store.db), changed: (id: string) => scheduler.changed(id) } } as unknown as ApiContext;
  });
  afterEach(() => {
    scheduler.stop();
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const flush = async () => {
    await scheduler.idle();
    await new Promise((resolve) => setImmediate(resolve));
  };
  const revision = { revisionType: 'S3', s3Location: { bucket: 'b', key: 'k.zip', bundleType: 'zip' } };

  it('creates the deployment at the cron time, once, with the request given, and records its id', async () => {
    const { scheduleId, runTime } = await scheduleOperations.CreateDeploymentSchedule({ applicationName: 'app', deploymentGroupName: 'g', cron: '30 2 * * *', timeZone: 'Europe/Paris', deployment: { revision, description: 'nightly' } }, ctx);
    expect(runTime).toBe(Date.UTC(2026, 0, 1, 1, 30) / 1000); // 02:30 in Paris is 01:30Z in winter
    clock.advance(90 * 60_000 - 1);
    await flush();
    expect(requests).toEqual([]);
    clock.advance(1);
    await flush();
    expect(requests).toEqual([{ revision, description: 'nightly', applicationName: 'app', deploymentGroupName: 'g' }]);
    expect(schedules.get(scheduleId)).toMatchObject({ status: 'Created', deploymentId: 'd-1' });
    clock.advance(48 * 3600_000);
    await flush();
    expect(requests).toHaveLength(1);
    expect((await scheduleOperations.ListDeploymentSchedules({}, ctx)).schedules).toMatchObject([{ scheduleId, status: 'Created', deploymentId: 'd-1', cron: '30 2 * * *', timeZone: 'Europe/Paris' }]);
  });

  it('keeps the exception CreateDeployment answered on the schedule', async () => {
    refuse = new ApiError('DeploymentLimitExceededException', 'The deployment group g already has an active deployment d-X');
    const { scheduleId } = await scheduleOperations.CreateDeploymentSchedule({ applicationName: 'app', deploymentGroupName: 'g', cron: '0 1 * * *' }, ctx);
    clock.advance(3600_000);
    await flush();
    expect(schedules.get(scheduleId)).toMatchObject({ status: 'Failed', error: { type: 'DeploymentLimitExceededException', message: 'The deployment group g already has an active deployment d-X' } });
  });

  it('two replicas arming the same schedule: one creates the deployment, and the other\'s refusal does not overwrite its record', async () => {
    const { scheduleId } = await scheduleOperations.CreateDeploymentSchedule({ applicationName: 'app', deploymentGroupName: 'g', cron: '0 1 * * *' }, ctx);
    // The second replica's CreateDeployment is refused: the first one's deployment is active.
    const other = createDeploymentScheduler({
      schedules: promised(schedules),
      clock,
      log,
      create: () => Promise.reject(new ApiError('DeploymentLimitExceededException', 'The deployment group g already has an active deployment d-1')),
    });
    await other.start();
    try {
      clock.advance(3600_000);
      await flush();
      await other.idle();
      await new Promise((resolve) => setImmediate(resolve));
      expect(requests).toHaveLength(1);
      expect(schedules.get(scheduleId)).toMatchObject({ status: 'Created', deploymentId: 'd-1' });
    } finally {
      other.stop();
    }
  });

  it('runs a schedule whose time passed while the coordinator was down as it starts, and forgets a deleted one', async () => {
    const { scheduleId } = await scheduleOperations.CreateDeploymentSchedule({ applicationName: 'app', deploymentGroupName: 'g', cron: '0 1 * * *' }, ctx);
    const deleted = (await scheduleOperations.CreateDeploymentSchedule({ applicationName: 'app', deploymentGroupName: 'g', cron: '0 1 * * *' }, ctx)).scheduleId;
    await scheduleOperations.DeleteDeploymentSchedule({ scheduleId: deleted }, ctx);
    scheduler.stop();
    clock = createFakeClock(START + 5 * 3600_000);
    await startScheduler();
    expect(requests).toEqual([]);
    clock.advance(0);
    await flush();
    expect(requests).toHaveLength(1);
    expect(schedules.get(scheduleId)?.status).toBe('Created');
    expect(schedules.get(deleted)).toBeUndefined();
  });

  it.each([
    [{ cron: 'tonight' }, 'InvalidDeploymentScheduleException', 'schedule.cron "tonight" is not a valid cron expression'],
    [{}, 'InvalidDeploymentScheduleException', 'cron is required'],
    [{ cron: '0 1 * * *', timeZone: 'Moon/Base' }, 'InvalidDeploymentScheduleException', 'schedule.timeZone "Moon/Base" is not an IANA time zone name'],
    [{ cron: '0 1 * * *', deployment: 'v2' }, 'InvalidDeploymentScheduleException', 'deployment must be an object'],
    [{ cron: '0 1 * * *', deploymentGroupName: 'nope' }, 'DeploymentGroupDoesNotExistException', 'nope'],
  ])('refuses %j with %s and stores nothing', async (over, type, message) => {
    const refused = scheduleOperations.CreateDeploymentSchedule({ applicationName: 'app', deploymentGroupName: 'g', ...over }, ctx);
    await expect(refused).rejects.toThrow(message);
    await expect(refused).rejects.toMatchObject({ type });
    expect(schedules.list()).toEqual([]);
  });

  it('logs a schedule it cannot read, sets no timer for it, and runs it once it can be read again', async () => {
    const lines: string[] = [];
    let reachable = true;
    const real = promised(schedules);
    scheduler.stop();
    scheduler = createDeploymentScheduler({
      schedules: { ...real, get: (id) => (reachable ? real.get(id) : Promise.reject(new Error('connection to the database lost'))) },
      clock,
      log: pino({ level: 'error' }, { write: (line: string) => void lines.push(line) }),
      create: async (input) => {
        requests.push(input);
        return { deploymentId: `d-${requests.length}` };
      },
    });
    await scheduler.start();
    const { scheduleId } = await scheduleOperations.CreateDeploymentSchedule({ applicationName: 'app', deploymentGroupName: 'g', cron: '0 1 * * *' }, ctx);
    reachable = false;
    await scheduler.changed(scheduleId);
    await flush();
    expect(lines.map((l) => JSON.parse(l) as { msg: string; scheduleId: string })).toEqual([expect.objectContaining({ msg: 'could not read a deployment schedule to set its timer', scheduleId })]);
    // Its time comes while it cannot be read: the timer set first finds it unreadable, logs, and creates nothing.
    clock.advance(3600_000);
    await flush();
    expect(requests).toEqual([]);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('could not read a deployment schedule at its time; it runs when the coordinator next starts');
    reachable = true;
    scheduler.stop();
    await scheduler.start(); // the next start finds it still Scheduled, its time passed
    clock.advance(0);
    await flush();
    expect(requests).toHaveLength(1);
    expect(schedules.get(scheduleId)?.status).toBe('Created');
  });

  it('DeleteDeploymentSchedule of an unknown id says so', async () => {
    await expect(scheduleOperations.DeleteDeploymentSchedule({ scheduleId: 's-nope' }, ctx)).rejects.toThrow('no deployment schedule s-nope');
  });
});
