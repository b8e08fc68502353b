/**
 * Deployments scheduled for a cron time, fleetdeploy's own operations (CodeDeploy has none), served
 * under `FleetDeploy_20261204.`:
 *
 *   CreateDeploymentSchedule {applicationName, deploymentGroupName, cron, timeZone?, deployment?: {CreateDeployment's other fields}}
 *     → {scheduleId, runTime}      the deployment is created at the first time of `cron` from now (once)
 *   ListDeploymentSchedules {}  → {schedules: [{scheduleId, ..., status: Scheduled | Created | Failed, deploymentId?, error?}]}
 *   DeleteDeploymentSchedule {scheduleId}
 *
 * The request is checked when it runs, by CreateDeployment itself; its answer is kept on the schedule.
 */
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { epochSeconds, optionalObject, optionalString, requiredString } from '../input.js';
import { ApiError } from '../api-error.js';
import { applicationNameField } from './applications.js';
import { groupNameField, requireGroup } from './deployment-groups.js';
import { nextCronTime, parseCron, WindowPolicyError } from '../../deployment/windows.js';
import type { AsyncScheduleStore, ScheduleRecord } from '../../store/schedule-store.js';
import { newUuid } from '../../ids.js';

const INVALID = 'InvalidDeploymentScheduleException';

function schedulesOf(ctx: ApiContext): NonNullable<ApiContext['schedules']> {
  if (ctx.schedules === undefined) throw new ApiError('UnknownOperationException', 'this coordinator keeps no deployment schedules');
  return ctx.schedules;
}

function scheduleInfo(s: ScheduleRecord) {
  return { ...s, createTime: epochSeconds(s.createTime), runTime: epochSeconds(s.runTime) };
}

async function requireSchedule(store: AsyncScheduleStore, scheduleId: string): Promise<ScheduleRecord> {
  const s = await store.get(scheduleId);
  if (s === undefined) throw new ApiError('DeploymentScheduleDoesNotExistException', `no deployment schedule ${scheduleId}; fleetdeploy schedules lists them`);
  return s;
}

export const scheduleOperations = {
  async CreateDeploymentSchedule(input: Input, ctx: ApiContext) {
    const { store, changed } = schedulesOf(ctx);
    const applicationName = applicationNameField(input);
    const deploymentGroupName = groupNameField(input);
    let when: { cron: string; timeZone?: string };
    try {
      when = parseCron(requiredString(input, 'cron', { required: INVALID, invalid: INVALID, max: 200 }), optionalString(input, 'timeZone', { invalid: INVALID }), 'schedule');
    } catch (err) {
      if (err instanceof WindowPolicyError) throw new ApiError(INVALID, err.message);
      throw err;
    }
    const deployment = optionalObject(input, 'deployment', INVALID) ?? {};
    const now = ctx.clock.now();
    const runTime = nextCronTime(when.cron, when.timeZone, now);
    if (runTime === undefined) throw new ApiError(INVALID, `schedule.cron ${JSON.stringify(when.cron)} never occurs again`);
    const schedule: ScheduleRecord = {
      scheduleId: `s-${newUuid()}`,
      applicationName,
      deploymentGroupName,
      ...when,
      request: { ...deployment, applicationName, deploymentGroupName },
      createTime: now,
      runTime,
      status: 'Scheduled',
    };
    // Opened through the transaction's handle: its write joins the transaction.
    await ctx.store.transaction(async (tx) => {
      await requireGroup(tx, applicationName, deploymentGroupName);
      await store(tx).put(schedule);
    });
    await changed(schedule.scheduleId);
    return { scheduleId: schedule.scheduleId, runTime: epochSeconds(runTime) };
  },

  async ListDeploymentSchedules(_input: Input, ctx: ApiContext) {
    return { schedules: (await schedulesOf(ctx).store(ctx.store).list()).map(scheduleInfo) };
  },

  async DeleteDeploymentSchedule(input: Input, ctx: ApiContext) {
    const { store, changed } = schedulesOf(ctx);
    const scheduleId = requiredString(input, 'scheduleId', { required: INVALID, invalid: INVALID, max: 100 });
    await ctx.store.transaction(async (tx) => {
      const schedules = store(tx);
      await requireSchedule(schedules, scheduleId);
      await schedules.delete(scheduleId);
    });
    await changed(scheduleId);
    return {};
  },
};
