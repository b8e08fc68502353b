/** Applications: Create, Get, BatchGet, List, Update and Delete. */
import type { ComputePlatform } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { epochSeconds, nameField, optionalString, page, pageStart, stringList } from '../input.js';
import type { ApplicationRecord } from '../../store/records.js';
import { newUuid } from '../../ids.js';
import { parseResourceTags } from './tag-input.js';
import type { AsyncStore } from '../../store/async-store.js';

const COMPUTE_PLATFORMS: readonly ComputePlatform[] = ['Server', 'Lambda', 'ECS'];

/** applicationName reads and checks the usual applicationName field. */
export function applicationNameField(input: Input): string {
  return nameField(input, 'applicationName', 'ApplicationNameRequiredException', 'InvalidApplicationNameException');
}

/** requireApplication finds an application in `store` (the API's store, or a transaction's tx) or refuses as CodeDeploy does. */
export async function requireApplication(store: AsyncStore, name: string): Promise<ApplicationRecord> {
  const app = await store.getApplication(name);
  if (app === undefined) throw new ApiError('ApplicationDoesNotExistException', `No application found for name: ${name}`);
  return app;
}

/** applicationInfo is CodeDeploy's ApplicationInfo shape. */
export function applicationInfo(app: ApplicationRecord) {
  return {
    applicationId: app.applicationId,
    applicationName: app.applicationName,
    createTime: epochSeconds(app.createTime),
    linkedToGitHub: app.linkedToGitHub,
    computePlatform: app.computePlatform,
  };
}

/** applicationOperations are the application operations of the CodeDeploy API. */
export const applicationOperations = {
  async CreateApplication(input: Input, ctx: ApiContext) {
    const name = applicationNameField(input);
    const platform = (optionalString(input, 'computePlatform', { invalid: 'InvalidComputePlatformException' }) ?? 'Server') as ComputePlatform;
    if (!COMPUTE_PLATFORMS.includes(platform)) throw new ApiError('InvalidComputePlatformException', `computePlatform must be Server, Lambda or ECS, got ${JSON.stringify(platform)}`);
    const tags = parseResourceTags(input.tags, 'tags');
    return ctx.store.transaction(async (tx) => {
      if ((await tx.getApplication(name)) !== undefined) throw new ApiError('ApplicationAlreadyExistsException', `${name} already exists`);
      if ((await tx.listApplications()).length >= 1000) throw new ApiError('ApplicationLimitExceededException', 'at most 1000 applications are allowed');
      const app: ApplicationRecord = { applicationId: newUuid(), applicationName: name, computePlatform: platform, createTime: ctx.clock.now(), linkedToGitHub: false };
      await tx.putApplication(app);
      if (tags.length > 0) await tx.putResourceTags(app.applicationId, tags);
      return { applicationId: app.applicationId };
    });
  },

  async GetApplication(input: Input, ctx: ApiContext) {
    return { application: applicationInfo(await requireApplication(ctx.store, applicationNameField(input))) };
  },

  async BatchGetApplications(input: Input, ctx: ApiContext) {
    const names = stringList(input, 'applicationNames', 'InvalidApplicationNameException');
    if (names === undefined) throw new ApiError('ApplicationNameRequiredException', 'applicationNames is required');
    if (names.length > 100) throw new ApiError('BatchLimitExceededException', `at most 100 applicationNames per call, got ${names.length}`);
    const apps: ApplicationRecord[] = [];
    for (const n of names) apps.push(await requireApplication(ctx.store, n)); // in order: the first missing name is the one refused
    return { applicationsInfo: apps.map(applicationInfo) };
  },

  async ListApplications(input: Input, ctx: ApiContext) {
    const { items, nextToken } = page((await ctx.store.listApplications()).map((a) => a.applicationName), pageStart(input), 100);
    return { applications: items, nextToken };
  },

  async UpdateApplication(input: Input, ctx: ApiContext) {
    const name = optionalString(input, 'applicationName', { invalid: 'InvalidApplicationNameException', max: 100 });
    const newName = optionalString(input, 'newApplicationName', { invalid: 'InvalidApplicationNameException', max: 100 });
    if (name === undefined || name === '') throw new ApiError('ApplicationNameRequiredException', 'applicationName is required');
    await ctx.store.transaction(async (tx) => {
      const app = await requireApplication(tx, name);
      if (newName === undefined || newName === name) return;
      nameField(input, 'newApplicationName', 'ApplicationNameRequiredException', 'InvalidApplicationNameException');
      if ((await tx.getApplication(newName)) !== undefined) throw new ApiError('ApplicationAlreadyExistsException', `${newName} already exists`);
      const groups = await tx.listGroups(name);
      const revisions = await tx.listRevisions(name);
      await tx.deleteApplication(name);
      await tx.putApplication({ ...app, applicationName: newName });
      for (const g of groups) await tx.putGroup({ ...g, applicationName: newName });
      for (const r of revisions) await tx.putRevision({ ...r, applicationName: newName });
    });
    return {};
  },

  async DeleteApplication(input: Input, ctx: ApiContext) {
    const name = applicationNameField(input);
    await ctx.store.transaction(async (tx) => {
      const app = await tx.getApplication(name);
      if (app === undefined) return; // CodeDeploy answers success for a missing application
      if ((await tx.activeDeployments()).some((d) => d.applicationName === name)) {
        throw new ApiError('InvalidOperationException', `${name} has a deployment in progress; stop it before deleting the application`);
      }
      for (const id of [app.applicationId, ...(await tx.listGroups(name)).map((g) => g.deploymentGroupId)]) await tx.putResourceTags(id, []);
      await tx.deleteApplication(name);
    });
    return {};
  },
};
