/**
 * Deployment configurations: Create, Get, List and Delete, over CodeDeploy's predefined
 * configurations (from shared) and the custom ones in the store.
 */
import crypto from 'node:crypto';
import type { ComputePlatform, DeploymentConfig, MinimumHealthyHosts, TrafficRoutingConfig } from '@fleetdeploy/shared';
import { checkCustomConfig, findPredefinedConfig, PredefinedConfigs, PREDEFINED_PREFIX } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { epochSeconds, nameField, optionalObject, optionalString, page, pageStart } from '../input.js';
import type { DeploymentConfigRecord } from '../../store/records.js';
import { newUuid } from '../../ids.js';
import type { AsyncStore } from '../../store/async-store.js';

/** MAX_CUSTOM_CONFIGS is CodeDeploy's quota of custom deployment configurations per account. */
export const MAX_CUSTOM_CONFIGS = 200;

/**
 * PREDEFINED_CREATE_TIME is the createTime shown for CodeDeployDefault.* configurations, which were
 * never created by anyone here: CodeDeploy's launch day, 2014-11-12.
 */
export const PREDEFINED_CREATE_TIME = Date.UTC(2014, 10, 12);

const COMPUTE_PLATFORMS: readonly ComputePlatform[] = ['Server', 'Lambda', 'ECS'];

/** configNameField reads the usual deploymentConfigName field. */
export function configNameField(input: Input, field = 'deploymentConfigName'): string {
  return nameField(input, field, 'DeploymentConfigNameRequiredException', 'InvalidDeploymentConfigNameException');
}

/** predefinedConfigId is a stable UUID-shaped id for a predefined configuration, derived from its name. */
export function predefinedConfigId(name: string): string {
  const h = crypto.createHash('sha256').update(`fleetdeploy:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * resolveDeploymentConfig finds a configuration by name, predefined or custom, or refuses with
 * DeploymentConfigDoesNotExistException. CreateDeployment and the group operations use it.
 */
export async function resolveDeploymentConfig(store: AsyncStore, name: string): Promise<DeploymentConfig> {
  const predefined = findPredefinedConfig(name);
  if (predefined !== undefined) return predefined;
  const custom = await store.getConfig(name);
  if (custom === undefined) throw new ApiError('DeploymentConfigDoesNotExistException', `No deployment configuration found for name: ${name}`);
  return {
    deploymentConfigName: custom.deploymentConfigName,
    computePlatform: custom.computePlatform,
    ...(custom.minimumHealthyHosts !== undefined ? { minimumHealthyHosts: custom.minimumHealthyHosts } : {}),
    ...(custom.trafficRoutingConfig !== undefined ? { trafficRoutingConfig: custom.trafficRoutingConfig } : {}),
  };
}

/** deploymentConfigInfo is CodeDeploy's DeploymentConfigInfo of a predefined or custom configuration. */
export function deploymentConfigInfo(config: DeploymentConfigRecord | DeploymentConfig) {
  const custom = 'deploymentConfigId' in config;
  return {
    deploymentConfigId: custom ? config.deploymentConfigId : predefinedConfigId(config.deploymentConfigName),
    deploymentConfigName: config.deploymentConfigName,
    minimumHealthyHosts: config.minimumHealthyHosts,
    createTime: epochSeconds(custom ? config.createTime : PREDEFINED_CREATE_TIME),
    computePlatform: config.computePlatform,
    trafficRoutingConfig: config.trafficRoutingConfig,
  };
}

function integer(o: Input, key: string, where: string, type: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ApiError(type, `${where}.${key} must be an integer`);
  return v;
}

function parseMinimumHealthyHosts(input: Input): MinimumHealthyHosts | undefined {
  const type = 'InvalidMinimumHealthyHostValueException';
  const o = optionalObject(input, 'minimumHealthyHosts', type);
  if (o === undefined) return undefined;
  const kind = o.type;
  if (kind !== 'HOST_COUNT' && kind !== 'FLEET_PERCENT') throw new ApiError(type, `minimumHealthyHosts.type must be HOST_COUNT or FLEET_PERCENT, got ${JSON.stringify(kind)}`);
  return { type: kind, value: integer(o, 'value', 'minimumHealthyHosts', type) };
}

function parseTrafficRouting(input: Input): TrafficRoutingConfig | undefined {
  const type = 'InvalidTrafficRoutingConfigurationException';
  const o = optionalObject(input, 'trafficRoutingConfig', type);
  if (o === undefined) return undefined;
  const step = (member: 'timeBasedCanary' | 'timeBasedLinear', what: 'canary' | 'linear') => {
    const where = `trafficRoutingConfig.${member}`;
    const s = optionalObject(o, member, type);
    if (s === undefined) throw new ApiError(type, `${where} is required for type ${String(o.type)}`);
    return { percent: integer(s, `${what}Percentage`, where, type), interval: integer(s, `${what}Interval`, where, type) };
  };
  switch (o.type) {
    case 'AllAtOnce':
      return { type: 'AllAtOnce' };
    case 'TimeBasedCanary': {
      const { percent, interval } = step('timeBasedCanary', 'canary');
      return { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: percent, canaryInterval: interval } };
    }
    case 'TimeBasedLinear': {
      const { percent, interval } = step('timeBasedLinear', 'linear');
      return { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: percent, linearInterval: interval } };
    }
    default:
      throw new ApiError(type, `trafficRoutingConfig.type must be AllAtOnce, TimeBasedCanary or TimeBasedLinear, got ${JSON.stringify(o.type)}`);
  }
}

/** deploymentConfigOperations are the deployment configuration operations of the CodeDeploy API. */
export const deploymentConfigOperations = {
  async CreateDeploymentConfig(input: Input, ctx: ApiContext) {
    const name = configNameField(input);
    const platform = (optionalString(input, 'computePlatform', { invalid: 'InvalidComputePlatformException' }) ?? 'Server') as ComputePlatform;
    if (!COMPUTE_PLATFORMS.includes(platform)) throw new ApiError('InvalidComputePlatformException', `computePlatform must be Server, Lambda or ECS, got ${JSON.stringify(platform)}`);
    const minimumHealthyHosts = parseMinimumHealthyHosts(input);
    const trafficRoutingConfig = parseTrafficRouting(input) ?? (platform === 'Server' ? undefined : { type: 'AllAtOnce' as const });
    if (input.zonalConfig !== undefined && input.zonalConfig !== null) {
      // On-premises instances have no Availability Zone, so a zonal configuration could never apply.
      throw new ApiError('InvalidZonalDeploymentConfigurationException', 'zonalConfig is not supported: on-premises instances have no Availability Zone');
    }
    const config: DeploymentConfig = {
      deploymentConfigName: name,
      computePlatform: platform,
      ...(minimumHealthyHosts !== undefined ? { minimumHealthyHosts } : {}),
      ...(trafficRoutingConfig !== undefined ? { trafficRoutingConfig } : {}),
    };
    const problem = checkCustomConfig(config);
    if (problem !== undefined) throw new ApiError(problem.type, problem.message);
    return ctx.store.transaction(async (tx) => {
      if ((await tx.getConfig(name)) !== undefined) throw new ApiError('DeploymentConfigAlreadyExistsException', `A deployment configuration named ${name} already exists`);
      if ((await tx.listConfigs()).length >= MAX_CUSTOM_CONFIGS) {
        throw new ApiError('DeploymentConfigLimitExceededException', `at most ${MAX_CUSTOM_CONFIGS} custom deployment configurations are allowed`);
      }
      const record: DeploymentConfigRecord = { ...config, deploymentConfigId: newUuid(), createTime: ctx.clock.now() };
      await tx.putConfig(record);
      return { deploymentConfigId: record.deploymentConfigId };
    });
  },

  async GetDeploymentConfig(input: Input, ctx: ApiContext) {
    const name = configNameField(input);
    const config = findPredefinedConfig(name) ?? (await ctx.store.getConfig(name));
    if (config === undefined) throw new ApiError('DeploymentConfigDoesNotExistException', `No deployment configuration found for name: ${name}`);
    return { deploymentConfigInfo: deploymentConfigInfo(config) };
  },

  async ListDeploymentConfigs(input: Input, ctx: ApiContext) {
    const names = [...PredefinedConfigs.map((c) => c.deploymentConfigName), ...(await ctx.store.listConfigs()).map((c) => c.deploymentConfigName)];
    const { items, nextToken } = page(names, pageStart(input), 100);
    return { deploymentConfigsList: items, nextToken };
  },

  async DeleteDeploymentConfig(input: Input, ctx: ApiContext) {
    const name = configNameField(input);
    if (name.startsWith(PREDEFINED_PREFIX)) throw new ApiError('InvalidOperationException', `${name} is a predefined deployment configuration and cannot be deleted`);
    await ctx.store.transaction(async (tx) => {
      // CodeDeploy lists no "does not exist" error here: deleting a missing configuration succeeds.
      if ((await tx.getConfig(name)) === undefined) return;
      const group = (await tx.listGroups()).find((g) => g.deploymentConfigName === name);
      if (group !== undefined) {
        throw new ApiError('DeploymentConfigInUseException', `${name} is used by deployment group ${group.deploymentGroupName} of application ${group.applicationName}`);
      }
      const deployment = (await tx.activeDeployments()).find((d) => d.deploymentConfigName === name);
      if (deployment !== undefined) throw new ApiError('DeploymentConfigInUseException', `${name} is used by deployment ${deployment.deploymentId}, which has not finished`);
      await tx.deleteConfig(name);
    });
    return {};
  },
};
