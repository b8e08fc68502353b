import { describe, expect, it } from 'vitest';
import { checkCustomConfig, findPredefinedConfig, minimumHealthyCount, PredefinedConfigs, trafficSchedule } from './configs.js';

describe('predefined configurations', () => {
  it('has every CodeDeployDefault configuration for Server, Lambda and ECS', () => {
    const byPlatform = (p: string) => PredefinedConfigs.filter((c) => c.computePlatform === p).length;
    expect([byPlatform('Server'), byPlatform('Lambda'), byPlatform('ECS')]).toEqual([3, 9, 5]);
    expect(findPredefinedConfig('CodeDeployDefault.HalfAtATime')?.minimumHealthyHosts).toEqual({ type: 'FLEET_PERCENT', value: 50 });
    expect(findPredefinedConfig('CodeDeployDefault.Nope')).toBeUndefined();
  });
});

describe('minimumHealthyCount', () => {
  it.each([
    [{ type: 'HOST_COUNT', value: 9 }, 10, 9],
    [{ type: 'FLEET_PERCENT', value: 95 }, 10, 10],
    [{ type: 'FLEET_PERCENT', value: 85 }, 10, 9],
    [{ type: 'FLEET_PERCENT', value: 40 }, 9, 4],
    [{ type: 'FLEET_PERCENT', value: 50 }, 9, 5],
    [{ type: 'MOST_CONCURRENCY', value: 1 }, 9, 8],
    [{ type: 'MOST_CONCURRENCY', value: 1 }, 1, 0],
  ] as const)('%j of %i instances is %i (the documented examples)', (min, total, expected) => {
    expect(minimumHealthyCount(min, total)).toBe(expected);
  });
});

describe('checkCustomConfig', () => {
  const server = (type: 'HOST_COUNT' | 'FLEET_PERCENT', value: number) => ({ deploymentConfigName: 'Mine', computePlatform: 'Server' as const, minimumHealthyHosts: { type, value } });

  it('accepts valid Server, Lambda and ECS configurations', () => {
    expect(checkCustomConfig(server('HOST_COUNT', 3))).toBeUndefined();
    expect(checkCustomConfig(server('FLEET_PERCENT', 99))).toBeUndefined();
    expect(checkCustomConfig({ deploymentConfigName: 'Canary', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 20, canaryInterval: 5 } } })).toBeUndefined();
    expect(checkCustomConfig({ deploymentConfigName: 'Whole', computePlatform: 'ECS' })).toBeUndefined();
  });

  it('refuses the reserved prefix and bad names (CF-01)', () => {
    expect(checkCustomConfig({ ...server('HOST_COUNT', 1), deploymentConfigName: 'CodeDeployDefault.Mine' })?.type).toBe('InvalidDeploymentConfigNameException');
    expect(checkCustomConfig({ ...server('HOST_COUNT', 1), deploymentConfigName: 'has space' })?.type).toBe('InvalidDeploymentConfigNameException');
  });

  it('refuses FLEET_PERCENT 100, HOST_COUNT -1 and missing or misplaced minimums (CF-02)', () => {
    expect(checkCustomConfig(server('FLEET_PERCENT', 100))).toEqual({ type: 'InvalidMinimumHealthyHostValueException', message: 'minimumHealthyHosts.value 100 is invalid: a FLEET_PERCENT is an integer from 0 to 99' });
    expect(checkCustomConfig(server('HOST_COUNT', -1))?.message).toBe('minimumHealthyHosts.value -1 is invalid: a HOST_COUNT is an integer of at least 0');
    expect(checkCustomConfig({ deploymentConfigName: 'X', computePlatform: 'Server' })?.type).toBe('InvalidMinimumHealthyHostValueException');
    expect(checkCustomConfig({ deploymentConfigName: 'X', computePlatform: 'Server', minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } })?.type).toBe('InvalidMinimumHealthyHostValueException');
    expect(checkCustomConfig({ deploymentConfigName: 'X', computePlatform: 'Lambda', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } })?.type).toBe('InvalidMinimumHealthyHostValueException');
  });

  it('refuses bad traffic routing', () => {
    const lambda = (r: object) => checkCustomConfig({ deploymentConfigName: 'L', computePlatform: 'Lambda', trafficRoutingConfig: r as never });
    expect(lambda({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 0, linearInterval: 1 } })?.message).toBe('linearPercentage must be an integer from 1 to 99');
    expect(lambda({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 0 } })?.message).toBe('canaryInterval must be a whole number of minutes, at least 1');
    expect(lambda({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 1, linearInterval: 30 } })?.message).toBe('traffic shifting may last at most 2880 minutes; this one lasts 2970');
    // A Server configuration may carry one for blue/green behind HAProxy, judged by the same rules.
    expect(checkCustomConfig({ ...server('HOST_COUNT', 1), trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } } })).toBeUndefined();
    expect(checkCustomConfig({ ...server('HOST_COUNT', 1), trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 100, canaryInterval: 1 } } })?.message).toBe('canaryPercentage must be an integer from 1 to 99');
  });
});

describe('trafficSchedule', () => {
  it('lays out canary, linear and all-at-once shifts (CF-03)', () => {
    expect(trafficSchedule({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } })).toEqual([{ atMinute: 0, percent: 10 }, { atMinute: 5, percent: 100 }]);
    expect(trafficSchedule({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } }).map((s) => `${s.atMinute}:${s.percent}`).join(' ')).toBe('0:10 1:20 2:30 3:40 4:50 5:60 6:70 7:80 8:90 9:100');
    expect(trafficSchedule({ type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 30, linearInterval: 2 } })).toEqual([{ atMinute: 0, percent: 30 }, { atMinute: 2, percent: 60 }, { atMinute: 4, percent: 90 }, { atMinute: 6, percent: 100 }]);
    expect(trafficSchedule({ type: 'AllAtOnce' })).toEqual([{ atMinute: 0, percent: 100 }]);
  });
});
