/**
 * Deployment configurations: CodeDeploy's predefined ones, the rules for custom ones, and the
 * arithmetic both the planner and the API need (minimum healthy hosts, traffic-shifting schedules).
 * Pure: no clock, no I/O.
 */

import type { ComputePlatform } from '../appspec/parse.js';

/**
 * MinimumHealthyHosts is how many instances must stay healthy while a Server deployment runs.
 * `MOST_CONCURRENCY` is how CodeDeployDefault.OneAtATime is reported; users cannot create it.
 */
export interface MinimumHealthyHosts {
  type: 'HOST_COUNT' | 'FLEET_PERCENT' | 'MOST_CONCURRENCY';
  value: number;
}

/** TrafficRoutingConfig is how a Lambda or ECS deployment shifts traffic; intervals are in minutes. */
export type TrafficRoutingConfig =
  | { type: 'AllAtOnce' }
  | { type: 'TimeBasedCanary'; timeBasedCanary: { canaryPercentage: number; canaryInterval: number } }
  | { type: 'TimeBasedLinear'; timeBasedLinear: { linearPercentage: number; linearInterval: number } };

/** DeploymentConfig is one deployment configuration, predefined or custom. */
export interface DeploymentConfig {
  deploymentConfigName: string;
  computePlatform: ComputePlatform;
  minimumHealthyHosts?: MinimumHealthyHosts;
  trafficRoutingConfig?: TrafficRoutingConfig;
}

/** PREDEFINED_PREFIX is reserved for CodeDeploy's own configurations. */
export const PREDEFINED_PREFIX = 'CodeDeployDefault.';

const canary = (name: string, platform: ComputePlatform, percent: number, minutes: number): DeploymentConfig => ({
  deploymentConfigName: `${PREDEFINED_PREFIX}${name}`,
  computePlatform: platform,
  trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: percent, canaryInterval: minutes } },
});
const linear = (name: string, platform: ComputePlatform, percent: number, minutes: number): DeploymentConfig => ({
  deploymentConfigName: `${PREDEFINED_PREFIX}${name}`,
  computePlatform: platform,
  trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: percent, linearInterval: minutes } },
});
const allAtOnce = (name: string, platform: ComputePlatform): DeploymentConfig => ({
  deploymentConfigName: `${PREDEFINED_PREFIX}${name}`,
  computePlatform: platform,
  trafficRoutingConfig: { type: 'AllAtOnce' },
});

/** PredefinedConfigs are every CodeDeployDefault.* configuration, for Server, Lambda and ECS. */
export const PredefinedConfigs: readonly DeploymentConfig[] = Object.freeze([
  { deploymentConfigName: 'CodeDeployDefault.OneAtATime', computePlatform: 'Server', minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } },
  { deploymentConfigName: 'CodeDeployDefault.HalfAtATime', computePlatform: 'Server', minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 50 } },
  { deploymentConfigName: 'CodeDeployDefault.AllAtOnce', computePlatform: 'Server', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 } },
  canary('LambdaCanary10Percent5Minutes', 'Lambda', 10, 5),
  canary('LambdaCanary10Percent10Minutes', 'Lambda', 10, 10),
  canary('LambdaCanary10Percent15Minutes', 'Lambda', 10, 15),
  canary('LambdaCanary10Percent30Minutes', 'Lambda', 10, 30),
  linear('LambdaLinear10PercentEvery1Minute', 'Lambda', 10, 1),
  linear('LambdaLinear10PercentEvery2Minutes', 'Lambda', 10, 2),
  linear('LambdaLinear10PercentEvery3Minutes', 'Lambda', 10, 3),
  linear('LambdaLinear10PercentEvery10Minutes', 'Lambda', 10, 10),
  allAtOnce('LambdaAllAtOnce', 'Lambda'),
  linear('ECSLinear10PercentEvery1Minutes', 'ECS', 10, 1),
  linear('ECSLinear10PercentEvery3Minutes', 'ECS', 10, 3),
  canary('ECSCanary10Percent5Minutes', 'ECS', 10, 5),
  canary('ECSCanary10Percent15Minutes', 'ECS', 10, 15),
  allAtOnce('ECSAllAtOnce', 'ECS'),
]);

/** DEFAULT_SERVER_CONFIG applies when neither the deployment nor its group names a configuration. */
export const DEFAULT_SERVER_CONFIG = 'CodeDeployDefault.OneAtATime';

/** findPredefinedConfig returns a CodeDeployDefault.* configuration by name. */
export function findPredefinedConfig(name: string): DeploymentConfig | undefined {
  return PredefinedConfigs.find((c) => c.deploymentConfigName === name);
}

/**
 * minimumHealthyCount turns a configuration's minimum into an instance count for a fleet of `total`.
 * Worked examples: FLEET_PERCENT 50 of 9 → ⌈4.5⌉ = 5; FLEET_PERCENT 95 of 10 → 10 (nothing may fail,
 * so the deployment cannot start); OneAtATime (MOST_CONCURRENCY 1) of 9 → 8; of 1 → 0.
 */
export function minimumHealthyCount(min: MinimumHealthyHosts, total: number): number {
  switch (min.type) {
    case 'HOST_COUNT':
      return min.value;
    case 'FLEET_PERCENT':
      return Math.ceil((total * min.value) / 100);
    case 'MOST_CONCURRENCY':
      return Math.max(0, total - min.value);
  }
}

/** ConfigProblem is a custom configuration's flaw, named by the CodeDeploy exception it raises. */
export interface ConfigProblem {
  type: 'InvalidDeploymentConfigNameException' | 'InvalidMinimumHealthyHostValueException' | 'InvalidTrafficRoutingConfigurationException' | 'InvalidComputePlatformException';
  message: string;
}

/** checkCustomConfig finds what CreateDeploymentConfig must refuse, or returns undefined. */
export function checkCustomConfig(config: DeploymentConfig): ConfigProblem | undefined {
  const name = config.deploymentConfigName;
  if (!/^[A-Za-z0-9.+=,@_-]{1,100}$/.test(name)) {
    return { type: 'InvalidDeploymentConfigNameException', message: `deploymentConfigName ${JSON.stringify(name)} must be 1 to 100 letters, digits or .+=,@_-` };
  }
  if (name.startsWith(PREDEFINED_PREFIX)) {
    return { type: 'InvalidDeploymentConfigNameException', message: `deploymentConfigName may not start with ${PREDEFINED_PREFIX}, which is reserved for predefined configurations` };
  }
  if (config.computePlatform === 'Server') {
    const min = config.minimumHealthyHosts;
    if (min === undefined) return { type: 'InvalidMinimumHealthyHostValueException', message: 'minimumHealthyHosts is required for the Server compute platform' };
    if (min.type === 'MOST_CONCURRENCY') return { type: 'InvalidMinimumHealthyHostValueException', message: 'minimumHealthyHosts.type must be HOST_COUNT or FLEET_PERCENT' };
    if (!Number.isInteger(min.value) || min.value < 0 || (min.type === 'FLEET_PERCENT' && min.value > 99)) {
      return { type: 'InvalidMinimumHealthyHostValueException', message: `minimumHealthyHosts.value ${min.value} is invalid: ${min.type === 'FLEET_PERCENT' ? 'a FLEET_PERCENT is an integer from 0 to 99' : 'a HOST_COUNT is an integer of at least 0'}` };
    }
    // Beyond CodeDeploy: a Server configuration may shift an HAProxy backend's weights step by step in a
    // blue/green deployment; an in-place group refuses it when a deployment uses it.
    if (config.trafficRoutingConfig === undefined) return undefined;
    const problem = routingProblem(config.trafficRoutingConfig);
    return problem === undefined ? undefined : { type: 'InvalidTrafficRoutingConfigurationException', message: problem };
  }
  if (config.minimumHealthyHosts !== undefined) {
    return { type: 'InvalidMinimumHealthyHostValueException', message: `minimumHealthyHosts applies to the Server compute platform only, not ${config.computePlatform}` };
  }
  const routing = config.trafficRoutingConfig ?? { type: 'AllAtOnce' };
  const problem = routingProblem(routing);
  return problem === undefined ? undefined : { type: 'InvalidTrafficRoutingConfigurationException', message: problem };
}

function routingProblem(r: TrafficRoutingConfig): string | undefined {
  const step = (percent: number, interval: number, what: string): string | undefined => {
    if (!Number.isInteger(percent) || percent < 1 || percent > 99) return `${what}Percentage must be an integer from 1 to 99`;
    if (!Number.isInteger(interval) || interval < 1) return `${what}Interval must be a whole number of minutes, at least 1`;
    const shifts = what === 'canary' ? 1 : Math.ceil(100 / percent) - 1;
    if (shifts * interval > 2880) return `traffic shifting may last at most 2880 minutes; this one lasts ${shifts * interval}`;
    return undefined;
  };
  switch (r.type) {
    case 'AllAtOnce':
      return undefined;
    case 'TimeBasedCanary':
      return step(r.timeBasedCanary.canaryPercentage, r.timeBasedCanary.canaryInterval, 'canary');
    case 'TimeBasedLinear':
      return step(r.timeBasedLinear.linearPercentage, r.timeBasedLinear.linearInterval, 'linear');
  }
}

/** TrafficShift is one step of a schedule: at `atMinute` after AllowTraffic starts, `percent` goes to the new version. */
export interface TrafficShift {
  atMinute: number;
  percent: number;
}

/**
 * trafficSchedule lays out a routing configuration's shifts. Worked examples: canary 10 %/5 min →
 * 10 % at 0, 100 % at 5; linear 10 %/1 min → 10, 20, … 100 % at minutes 0 … 9; linear 30 %/2 min →
 * 30, 60, 90, 100 % at 0, 2, 4, 6.
 */
export function trafficSchedule(r: TrafficRoutingConfig): TrafficShift[] {
  switch (r.type) {
    case 'AllAtOnce':
      return [{ atMinute: 0, percent: 100 }];
    case 'TimeBasedCanary':
      return [
        { atMinute: 0, percent: r.timeBasedCanary.canaryPercentage },
        { atMinute: r.timeBasedCanary.canaryInterval, percent: 100 },
      ];
    case 'TimeBasedLinear': {
      const { linearPercentage: p, linearInterval: every } = r.timeBasedLinear;
      const steps = Math.ceil(100 / p);
      return Array.from({ length: steps }, (_, k) => ({ atMinute: k * every, percent: Math.min(100, (k + 1) * p) }));
    }
  }
}
