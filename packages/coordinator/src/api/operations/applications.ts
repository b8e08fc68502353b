/** Applications: Create, Get, BatchGet, List, Update and Delete. */
import type { ComputePlatform } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { epochSeconds, nameField, optionalString, page, pageStart, stringList } from '../input.js';
import type { ApplicationRecord } from '../../store/records.js';
import { newUuid } from '../../ids.js';
import { parseResourceTags } from './tag-input.js';

const COMPUTE_PLATFORMS: readonly ComputePlatform[] = ['Server', 'Lambda', 'ECS'];

/** applicationName reads and checks the usual applicationName field. */
export function applicationNameField(input: Input): string {
  return nameField(input, 'applicationName', 'ApplicationNameRequiredException', 'InvalidApplicationNameException');
}

/** requireApplication finds an application or refuses as CodeDeploy does. */
export function requireApplication(ctx: ApiContext, name: string): ApplicationRecord {
  const app = ctx.syncStore.getApplication(name);
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
  CreateApplication(input: Input, ctx: ApiContext) {
    const name = applicationNameField(input);
    const platform = (optionalString(input, 'computePlatform', { invalid: 'InvalidComputePlatformException' }) ?? 'Server') as ComputePlatform;
    if (!COMPUTE_PLATFORMS.includes(platform)) throw new ApiError('InvalidComputePlatformException', `computePlatform must be Server, Lambda or ECS, got ${JSON.stringify(platform)}`);
    const tags = parseResourceTags(input.tags, 'tags');
    return ctx.syncStore.transaction(() => {
      if (ctx.syncStore.getApplication(name) !== undefined) throw new ApiError('ApplicationAlreadyExistsException', `${name} already exists`);
      if (ctx.syncStore.listApplications().length >= 1000) throw new ApiError('ApplicationLimitExceededException', 'at most 1000 applications are allowed');
      const app: ApplicationRecord = { applicationId: newUuid(), applicationName: name, computePlatform: platform, createTime: ctx.clock.now(), linkedToGitHub: false };
      ctx.syncStore.putApplication(app);
      if (tags.length > 0) ctx.syncStore.putResourceTags(app.applicationId, tags);
      return { applicationId: app.applicationId };
    });
  },

  GetApplication(input: Input, ctx: ApiContext) {
    return { application: applicationInfo(requireApplication(ctx, applicationNameField(input))) };
  },

  BatchGetApplications(input: Input, ctx: ApiContext) {
    const names = stringList(input, 'applicationNames', 'InvalidApplicationNameException');
    if (names === undefined) throw new ApiError('ApplicationNameRequiredException', 'applicationNames is required');
    if (names.length > 100) throw new ApiError('BatchLimitExceededException', `at most 100 applicationNames per call, got ${names.length}`);
    return { applicationsInfo: names.map((n) => applicationInfo(requireApplication(ctx, n))) };
  },

  ListApplications(input: Input, ctx: ApiContext) {
    const { items, nextToken } = page(ctx.syncStore.listApplications().map((a) => a.applicationName), pageStart(input), 100);
    return { applications: items, nextToken };
  },

  UpdateApplication(input: Input, ctx: ApiContext) {
    const name = optionalString(input, 'applicationName', { invalid: 'InvalidApplicationNameException', max: 100 });
    const newName = optionalString(input, 'newApplicationName', { invalid: 'InvalidApplicationNameException', max: 100 });
    if (name === undefined || name === '') throw new ApiError('ApplicationNameRequiredException', 'applicationName is required');
    ctx.syncStore.transaction(() => {
      const app = requireApplication(ctx, name);
      if (newName === undefined || newName === name) return;
      nameField(input, 'newApplicationName', 'ApplicationNameRequiredException', 'InvalidApplicationNameException');
      if (ctx.syncStore.getApplication(newName) !== undefined) throw new ApiError('ApplicationAlreadyExistsException', `${newName} already exists`);
      const groups = ctx.syncStore.listGroups(name);
      const revisions = ctx.syncStore.listRevisions(name);
      ctx.syncStore.deleteApplication(name);
      ctx.syncStore.putApplication({ ...app, applicationName: newName });
      for (const g of groups) ctx.syncStore.putGroup({ ...g, applicationName: newName });
      for (const r of revisions) ctx.syncStore.putRevision({ ...r, applicationName: newName });
    });
    return {};
  },

  DeleteApplication(input: Input, ctx: ApiContext) {
    const name = applicationNameField(input);
    ctx.syncStore.transaction(() => {
      const app = ctx.syncStore.getApplication(name);
      if (app === undefined) return; // CodeDeploy answers success for a missing application
      if (ctx.syncStore.activeDeployments().some((d) => d.applicationName === name)) {
        throw new ApiError('InvalidOperationException', `${name} has a deployment in progress; stop it before deleting the application`);
      }
      for (const id of [app.applicationId, ...ctx.syncStore.listGroups(name).map((g) => g.deploymentGroupId)]) ctx.syncStore.putResourceTags(id, []);
      ctx.syncStore.deleteApplication(name);
    });
    return {};
  },
};
