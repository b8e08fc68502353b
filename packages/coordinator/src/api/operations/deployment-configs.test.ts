import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PredefinedConfigs } from '@fleetdeploy/shared';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { deploymentRecord as activeDeployment } from '../../testing/record-builders.js';
import { resolveDeploymentConfig } from './deployment-configs.js';

describe('deployment configuration operations', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  describe('CreateDeploymentConfig and GetDeploymentConfig', () => {
    it('creates a Server configuration with HOST_COUNT and shows it', async () => {
      const { deploymentConfigId } = await h.ok('CreateDeploymentConfig', { deploymentConfigName: 'TwoHealthy', minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 } });
      expect(deploymentConfigId).toMatch(/^[0-9a-f-]{36}$/);
      expect((await h.ok('GetDeploymentConfig', { deploymentConfigName: 'TwoHealthy' })).deploymentConfigInfo).toEqual({
        deploymentConfigId,
        deploymentConfigName: 'TwoHealthy',
        minimumHealthyHosts: { type: 'HOST_COUNT', value: 2 },
        createTime: h.clock.now() / 1000,
        computePlatform: 'Server',
      });
    });

    it('creates Lambda and ECS configurations with traffic routing (AllAtOnce when none is given)', async () => {
      await h.ok('CreateDeploymentConfig', {
        deploymentConfigName: 'Canary',
        computePlatform: 'Lambda',
        trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 20, canaryInterval: 7 } },
      });
      await h.ok('CreateDeploymentConfig', { deploymentConfigName: 'EcsAll', computePlatform: 'ECS' });
      expect((await h.ok('GetDeploymentConfig', { deploymentConfigName: 'Canary' })).deploymentConfigInfo.trafficRoutingConfig).toEqual({
        type: 'TimeBasedCanary',
        timeBasedCanary: { canaryPercentage: 20, canaryInterval: 7 },
      });
      expect(await resolveDeploymentConfig(h.ctx.store, 'EcsAll')).toEqual({ deploymentConfigName: 'EcsAll', computePlatform: 'ECS', trafficRoutingConfig: { type: 'AllAtOnce' } });
    });

    it('shows predefined configurations, OneAtATime as MOST_CONCURRENCY 1', async () => {
      const one = (await h.ok('GetDeploymentConfig', { deploymentConfigName: 'CodeDeployDefault.OneAtATime' })).deploymentConfigInfo;
      expect(one).toMatchObject({ deploymentConfigName: 'CodeDeployDefault.OneAtATime', computePlatform: 'Server', minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } });
      const again = (await h.ok('GetDeploymentConfig', { deploymentConfigName: 'CodeDeployDefault.OneAtATime' })).deploymentConfigInfo;
      expect(again.deploymentConfigId).toBe(one.deploymentConfigId);
      const half = (await h.ok('GetDeploymentConfig', { deploymentConfigName: 'CodeDeployDefault.HalfAtATime' })).deploymentConfigInfo;
      expect(half.minimumHealthyHosts).toEqual({ type: 'FLEET_PERCENT', value: 50 });
    });

    it.each([
      [{ deploymentConfigName: 'CodeDeployDefault.Mine', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } }, 'InvalidDeploymentConfigNameException'],
      [{ deploymentConfigName: 'bad name', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } }, 'InvalidDeploymentConfigNameException'],
      [{ minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } }, 'DeploymentConfigNameRequiredException'],
      [{ deploymentConfigName: 'c' }, 'InvalidMinimumHealthyHostValueException'],
      [{ deploymentConfigName: 'c', minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 100 } }, 'InvalidMinimumHealthyHostValueException'],
      [{ deploymentConfigName: 'c', minimumHealthyHosts: { type: 'HOST_COUNT', value: -1 } }, 'InvalidMinimumHealthyHostValueException'],
      [{ deploymentConfigName: 'c', minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } }, 'InvalidMinimumHealthyHostValueException'],
      [{ deploymentConfigName: 'c', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1.5 } }, 'InvalidMinimumHealthyHostValueException'],
      [{ deploymentConfigName: 'c', computePlatform: 'Lambda', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } }, 'InvalidMinimumHealthyHostValueException'],
      [{ deploymentConfigName: 'c', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'TimeBasedLinear' } }, 'InvalidTrafficRoutingConfigurationException'],
      [{ deploymentConfigName: 'c', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 1, linearInterval: 30 } } }, 'InvalidTrafficRoutingConfigurationException'],
      [{ deploymentConfigName: 'c', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'Sometimes' } }, 'InvalidTrafficRoutingConfigurationException'],
      [{ deploymentConfigName: 'c', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 0, canaryInterval: 5 } } }, 'InvalidTrafficRoutingConfigurationException'],
      [{ deploymentConfigName: 'c', computePlatform: 'ECS', trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 100, linearInterval: 1 } } }, 'InvalidTrafficRoutingConfigurationException'],
      [{ deploymentConfigName: 'c', computePlatform: 'Mainframe' }, 'InvalidComputePlatformException'],
      [{ deploymentConfigName: 'c', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 }, zonalConfig: { monitorDurationInSeconds: 10 } }, 'InvalidZonalDeploymentConfigurationException'],
    ])('refuses %j with %s and stores nothing', async (input, type) => {
      expect((await h.refused('CreateDeploymentConfig', input)).type).toBe(type);
      expect(h.store.listConfigs()).toEqual([]);
    });

    it('refuses a second configuration of the same name', async () => {
      const input = { deploymentConfigName: 'Twice', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } };
      await h.ok('CreateDeploymentConfig', input);
      expect((await h.refused('CreateDeploymentConfig', { ...input, minimumHealthyHosts: { type: 'HOST_COUNT', value: 3 } })).type).toBe('DeploymentConfigAlreadyExistsException');
      expect(h.store.getConfig('Twice')?.minimumHealthyHosts).toEqual({ type: 'HOST_COUNT', value: 1 });
    });

    it('allows 200 custom configurations and refuses the 201st', async () => {
      for (let i = 0; i < 200; i++) {
        h.store.putConfig({ deploymentConfigId: `id${i}`, deploymentConfigName: `c${i}`, computePlatform: 'Server', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 }, createTime: 0 });
      }
      expect((await h.refused('CreateDeploymentConfig', { deploymentConfigName: 'one-more', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } })).type).toBe('DeploymentConfigLimitExceededException');
    });

    it('GetDeploymentConfig refuses an unknown name', async () => {
      expect((await h.refused('GetDeploymentConfig', { deploymentConfigName: 'Nope' })).type).toBe('DeploymentConfigDoesNotExistException');
      await expect(resolveDeploymentConfig(h.ctx.store, 'Nope')).rejects.toThrow(expect.objectContaining({ type: 'DeploymentConfigDoesNotExistException' }));
    });
  });

  describe('ListDeploymentConfigs', () => {
    it('lists predefined then custom configurations, in pages of 100', async () => {
      await h.ok('CreateDeploymentConfig', { deploymentConfigName: 'Mine', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } });
      const { deploymentConfigsList, nextToken } = await h.ok('ListDeploymentConfigs', {});
      expect(deploymentConfigsList).toEqual([...PredefinedConfigs.map((c) => c.deploymentConfigName), 'Mine']);
      expect(nextToken).toBeUndefined();
      for (let i = 0; i < 100; i++) {
        h.store.putConfig({ deploymentConfigId: `id${i}`, deploymentConfigName: `z${String(i).padStart(3, '0')}`, computePlatform: 'Server', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 }, createTime: 0 });
      }
      const first = await h.ok('ListDeploymentConfigs', {});
      expect(first.deploymentConfigsList).toHaveLength(100);
      const second = await h.ok('ListDeploymentConfigs', { nextToken: first.nextToken });
      expect(second.deploymentConfigsList).toHaveLength(PredefinedConfigs.length + 101 - 100);
      expect((await h.refused('ListDeploymentConfigs', { nextToken: 'x' })).type).toBe('InvalidNextTokenException');
    });
  });

  describe('DeleteDeploymentConfig', () => {
    const create = () => h.ok('CreateDeploymentConfig', { deploymentConfigName: 'Mine', minimumHealthyHosts: { type: 'HOST_COUNT', value: 1 } });

    it('deletes an unused custom configuration; deleting it again succeeds', async () => {
      await create();
      await h.ok('DeleteDeploymentConfig', { deploymentConfigName: 'Mine' });
      expect(h.store.getConfig('Mine')).toBeUndefined();
      await h.ok('DeleteDeploymentConfig', { deploymentConfigName: 'Mine' });
    });

    it('refuses a predefined configuration', async () => {
      expect((await h.refused('DeleteDeploymentConfig', { deploymentConfigName: 'CodeDeployDefault.AllAtOnce' })).type).toBe('InvalidOperationException');
      expect((await h.refused('DeleteDeploymentConfig', {})).type).toBe('DeploymentConfigNameRequiredException');
    });

    it('refuses a configuration a group uses', async () => {
      await create();
      await h.ok('CreateApplication', { applicationName: 'app' });
      await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: 'arn:aws:iam::123456789012:role/r', deploymentConfigName: 'Mine' });
      expect((await h.refused('DeleteDeploymentConfig', { deploymentConfigName: 'Mine' })).type).toBe('DeploymentConfigInUseException');
      expect(h.store.getConfig('Mine')).toBeDefined();
    });

    it('refuses a configuration an unfinished deployment uses, and deletes it once the deployment is done', async () => {
      await create();
      h.store.putDeployment(activeDeployment({ deploymentConfigName: 'Mine' }));
      expect((await h.refused('DeleteDeploymentConfig', { deploymentConfigName: 'Mine' })).type).toBe('DeploymentConfigInUseException');
      h.store.putDeployment(activeDeployment({ deploymentConfigName: 'Mine', status: 'Succeeded' }));
      await h.ok('DeleteDeploymentConfig', { deploymentConfigName: 'Mine' });
    });
  });
});
