import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { deploymentRecord } from '../../testing/record-builders.js';
import { groupSelector, requireGroup } from './deployment-groups.js';

const ROLE = 'arn:aws:iam::123456789012:role/CodeDeployServiceRole';

describe('deployment group operations', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
    await h.ok('CreateApplication', { applicationName: 'app' });
  });
  afterEach(async () => {
    await h.close();
  });

  const create = (over: Record<string, unknown> = {}) => h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: ROLE, ...over });
  const get = async (name = 'g') => (await h.ok('GetDeploymentGroup', { applicationName: 'app', deploymentGroupName: name })).deploymentGroupInfo;
  const refusedCreate = async (over: Record<string, unknown>) => {
    const r = await h.refused('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: ROLE, ...over });
    expect(h.store.listGroups()).toEqual([]);
    expect(h.engine.count('fleetChanged')).toBe(0);
    return r.type;
  };

  describe('CreateDeploymentGroup and GetDeploymentGroup', () => {
    it('creates a group with defaults and shows CodeDeploy\'s DeploymentGroupInfo', async () => {
      const { deploymentGroupId } = await create({ onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }] });
      expect(h.engine.count('fleetChanged')).toBe(1);
      expect(await get()).toEqual({
        applicationName: 'app',
        deploymentGroupId,
        deploymentGroupName: 'g',
        deploymentConfigName: 'CodeDeployDefault.OneAtATime',
        ec2TagFilters: [],
        onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }],
        autoScalingGroups: [],
        serviceRoleArn: ROLE,
        triggerConfigurations: [],
        alarmConfiguration: { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
        deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
        outdatedInstancesStrategy: 'UPDATE',
        computePlatform: 'Server',
        ecsServices: [],
        terminationHookEnabled: false,
      });
      const group = (await requireGroup(h.ctx.store, 'app', 'g'));
      expect(groupSelector(group)).toEqual({ filters: [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }] });
    });

    it('keeps and echoes alarms, triggers, auto rollback, style, EC2 tag sets and a custom configuration', async () => {
      await h.ok('CreateDeploymentConfig', { deploymentConfigName: 'Mine', minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 75 } });
      const extra = {
        deploymentConfigName: 'Mine',
        onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'env', Value: 'beta', Type: 'KEY_AND_VALUE' }], [{ Key: 'region', Type: 'KEY_ONLY' }]] },
        ec2TagSet: { ec2TagSetList: [[{ Key: 'Name', Value: 'web', Type: 'KEY_AND_VALUE' }]] },
        alarmConfiguration: { enabled: true, alarms: [{ name: 'cpu' }, { name: 'errors' }] },
        autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
        triggerConfigurations: [
          { triggerName: 't', triggerTargetArn: 'arn:aws:sns:us-east-1:123456789012:topic', triggerEvents: ['DeploymentFailure'] },
          { triggerName: 'hook', triggerTargetArn: 'https://hooks.example.com/codedeploy?team=web', triggerEvents: ['InstanceFailure'] },
          { triggerName: 'local', triggerTargetArn: 'http://127.0.0.1:8080/events', triggerEvents: ['DeploymentSuccess'] },
        ],
        deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
        outdatedInstancesStrategy: 'IGNORE',
        terminationHookEnabled: true,
      };
      await create(extra);
      const info = await get();
      expect(info).toMatchObject({ ...extra, alarmConfiguration: { enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'cpu' }, { name: 'errors' }] } });
      expect(groupSelector((await requireGroup(h.ctx.store, 'app', 'g')))).toEqual({ tagSet: extra.onPremisesTagSet.onPremisesTagSetList });
    });

    it('uses the Lambda defaults for a Lambda application', async () => {
      await h.ok('CreateApplication', { applicationName: 'fn', computePlatform: 'Lambda' });
      await h.ok('CreateDeploymentGroup', { applicationName: 'fn', deploymentGroupName: 'g', serviceRoleArn: ROLE });
      const info = (await h.ok('GetDeploymentGroup', { applicationName: 'fn', deploymentGroupName: 'g' })).deploymentGroupInfo;
      expect(info).toMatchObject({ computePlatform: 'Lambda', deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce', deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } });
    });

    it.each([
      [{ serviceRoleArn: undefined }, 'RoleRequiredException'],
      [{ serviceRoleArn: 'CodeDeployRole' }, 'InvalidRoleException'],
      [{ deploymentGroupName: undefined }, 'DeploymentGroupNameRequiredException'],
      [{ deploymentGroupName: 'no spaces' }, 'InvalidDeploymentGroupNameException'],
      [{ deploymentConfigName: 'Nope' }, 'DeploymentConfigDoesNotExistException'],
      [{ deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' }, 'InvalidDeploymentConfigNameException'],
      [{ onPremisesInstanceTagFilters: [{ Key: 'a', Type: 'KEY_ONLY' }], onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'b', Type: 'KEY_ONLY' }]] } }, 'InvalidOnPremisesTagCombinationException'],
      [{ onPremisesTagSet: { onPremisesTagSetList: [[], [], [], []].map(() => [{ Key: 'b', Type: 'KEY_ONLY' }]) } }, 'TagSetListLimitExceededException'],
      [{ onPremisesInstanceTagFilters: [{ Key: 'a', Type: 'KEY_AND_VALUE' }] }, 'InvalidTagException'],
      [{ onPremisesInstanceTagFilters: [{ Key: 'a', Type: 'SOMETIMES' }] }, 'InvalidTagException'],
      [{ ec2TagFilters: [{ Key: 'a', Type: 'KEY_ONLY' }], ec2TagSet: { ec2TagSetList: [[{ Key: 'b', Type: 'KEY_ONLY' }]] } }, 'InvalidEC2TagCombinationException'],
      [{ alarmConfiguration: { enabled: true, alarms: Array.from({ length: 11 }, (_, i) => ({ name: `a${i}` })) } }, 'AlarmsLimitExceededException'],
      [{ alarmConfiguration: { enabled: true, alarms: [{ name: 'a' }, { name: 'a' }] } }, 'InvalidAlarmConfigException'],
      [{ alarmConfiguration: { enabled: true, alarms: [{ name: '' }] } }, 'InvalidAlarmConfigException'],
      [{ alarmConfiguration: { enabled: true, alarms: [] } }, 'InvalidAlarmConfigException'],
      [{ autoRollbackConfiguration: { enabled: true } }, 'InvalidAutoRollbackConfigException'],
      [{ autoRollbackConfiguration: { enabled: true, events: ['WHENEVER'] } }, 'InvalidAutoRollbackConfigException'],
      [{ triggerConfigurations: Array.from({ length: 11 }, (_, i) => ({ triggerName: `t${i}`, triggerTargetArn: 'arn:aws:sns:us-east-1:1:t', triggerEvents: [] })) }, 'TriggerTargetsLimitExceededException'],
      [{ triggerConfigurations: [{ triggerName: 't', triggerTargetArn: 'arn:aws:sns:us-east-1:1:t', triggerEvents: ['Sometimes'] }] }, 'InvalidTriggerConfigException'],
      [{ triggerConfigurations: [{ triggerName: 't', triggerTargetArn: 'ftp://example.com/x', triggerEvents: [] }] }, 'InvalidTriggerConfigException'],
      [{ triggerConfigurations: [{ triggerName: 't', triggerTargetArn: 'https://', triggerEvents: [] }] }, 'InvalidTriggerConfigException'],
      [{ triggerConfigurations: [{ triggerName: 't', triggerTargetArn: 'my-topic', triggerEvents: [] }] }, 'InvalidTriggerConfigException'],
      [{ deploymentStyle: { deploymentType: 'SIDEWAYS' } }, 'InvalidDeploymentStyleException'],
      [{ deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'MAYBE' } }, 'InvalidDeploymentStyleException'],
      [{ deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } }, 'InvalidLoadBalancerInfoException'], // blue/green needs its HAProxy backend
      [{ autoScalingGroups: ['asg-1'] }, 'InvalidAutoScalingGroupException'],
      [{ outdatedInstancesStrategy: 'SOMETIMES' }, 'InvalidInputException'],
    ])('refuses %j with %s and stores nothing', async (over, type) => {
      expect(await refusedCreate(over)).toBe(type);
    });

    it('refuses an unknown application, a duplicate name, and the 1001st group', async () => {
      expect((await h.refused('CreateDeploymentGroup', { applicationName: 'nope', deploymentGroupName: 'g', serviceRoleArn: ROLE })).type).toBe('ApplicationDoesNotExistException');
      await create();
      expect((await h.refused('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: ROLE })).type).toBe('DeploymentGroupAlreadyExistsException');
      const template = (await requireGroup(h.ctx.store, 'app', 'g'));
      for (let i = 1; i < 1000; i++) h.store.putGroup({ ...template, deploymentGroupId: `id-${i}`, deploymentGroupName: `g${i}` });
      expect((await h.refused('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'last', serviceRoleArn: ROLE })).type).toBe('DeploymentGroupLimitExceededException');
    });

    it('GetDeploymentGroup refuses an unknown group or application', async () => {
      expect((await h.refused('GetDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'nope' })).type).toBe('DeploymentGroupDoesNotExistException');
      expect((await h.refused('GetDeploymentGroup', { applicationName: 'nope', deploymentGroupName: 'g' })).type).toBe('ApplicationDoesNotExistException');
    });

    it('shows the last deployments in epoch seconds', async () => {
      await create();
      const group = (await requireGroup(h.ctx.store, 'app', 'g'));
      h.store.putGroup({ ...group, lastAttemptedDeployment: { deploymentId: 'd-1', status: 'Failed', createTime: 1_000_000, endTime: 1_005_000 } });
      expect((await get()).lastAttemptedDeployment).toEqual({ deploymentId: 'd-1', status: 'Failed', createTime: 1000, endTime: 1005 });
    });
  });

  describe('BatchGetDeploymentGroups and ListDeploymentGroups', () => {
    it('batch-gets groups and names the missing ones in errorMessage', async () => {
      await create();
      await create({ deploymentGroupName: 'h' });
      const out = await h.ok('BatchGetDeploymentGroups', { applicationName: 'app', deploymentGroupNames: ['g', 'h', 'x'] });
      expect(out.deploymentGroupsInfo.map((g: { deploymentGroupName: string }) => g.deploymentGroupName)).toEqual(['g', 'h']);
      expect(out.errorMessage).toContain('x');
    });

    it('refuses more than 25 names, no names, and an unknown application', async () => {
      expect((await h.refused('BatchGetDeploymentGroups', { applicationName: 'app', deploymentGroupNames: Array.from({ length: 26 }, (_, i) => `g${i}`) })).type).toBe('BatchLimitExceededException');
      expect((await h.refused('BatchGetDeploymentGroups', { applicationName: 'app' })).type).toBe('DeploymentGroupNameRequiredException');
      expect((await h.refused('BatchGetDeploymentGroups', { applicationName: 'nope', deploymentGroupNames: ['g'] })).type).toBe('ApplicationDoesNotExistException');
    });

    it('lists group names with paging', async () => {
      await create();
      expect(await h.ok('ListDeploymentGroups', { applicationName: 'app' })).toEqual({ applicationName: 'app', deploymentGroups: ['g'] });
      const template = (await requireGroup(h.ctx.store, 'app', 'g'));
      for (let i = 0; i < 100; i++) h.store.putGroup({ ...template, deploymentGroupId: `id-${i}`, deploymentGroupName: `z${String(i).padStart(3, '0')}` });
      const first = await h.ok('ListDeploymentGroups', { applicationName: 'app' });
      expect(first.deploymentGroups).toHaveLength(100);
      expect((await h.ok('ListDeploymentGroups', { applicationName: 'app', nextToken: first.nextToken })).deploymentGroups).toEqual(['z099']);
      expect((await h.refused('ListDeploymentGroups', { applicationName: 'nope' })).type).toBe('ApplicationDoesNotExistException');
    });
  });

  describe('UpdateDeploymentGroup', () => {
    it('renames a group keeping its id, changes only the given fields, and tells the engine', async () => {
      const { deploymentGroupId } = await create({ onPremisesInstanceTagFilters: [{ Key: 'env', Type: 'KEY_ONLY' }], alarmConfiguration: { enabled: true, alarms: [{ name: 'cpu' }] } });
      h.store.putRevision({ applicationName: 'app', revisionKey: 'k', revisionLocation: { revisionType: 'GitHub', gitHubLocation: { repository: 'a/b', commitId: 'abcdef1' } }, registerTime: 0, deploymentGroups: ['g'] });
      const out = await h.ok('UpdateDeploymentGroup', {
        applicationName: 'app',
        currentDeploymentGroupName: 'g',
        newDeploymentGroupName: 'g2',
        deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
        onPremisesInstanceTagFilters: [],
        onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' }]] },
      });
      expect(out).toEqual({ hooksNotCleanedUp: [] });
      expect(h.engine.count('fleetChanged')).toBe(2);
      expect((await h.refused('GetDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g' })).type).toBe('DeploymentGroupDoesNotExistException');
      const info = await get('g2');
      expect(info).toMatchObject({
        deploymentGroupId,
        deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
        serviceRoleArn: ROLE,
        onPremisesInstanceTagFilters: [],
        onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' }]] },
        alarmConfiguration: { enabled: true, alarms: [{ name: 'cpu' }] },
      });
      expect(h.store.getRevision('app', 'k')?.deploymentGroups).toEqual(['g2']);
    });

    it('refuses an unknown group, a taken new name, and a combination the update would create, changing nothing', async () => {
      await create({ onPremisesInstanceTagFilters: [{ Key: 'env', Type: 'KEY_ONLY' }] });
      await create({ deploymentGroupName: 'h' });
      const before = (await requireGroup(h.ctx.store, 'app', 'g'));
      const update = (over: Record<string, unknown>) => h.refused('UpdateDeploymentGroup', { applicationName: 'app', currentDeploymentGroupName: 'g', ...over });
      expect((await update({ currentDeploymentGroupName: 'nope' })).type).toBe('DeploymentGroupDoesNotExistException');
      expect((await update({ newDeploymentGroupName: 'h' })).type).toBe('DeploymentGroupAlreadyExistsException');
      expect((await update({ onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'x', Type: 'KEY_ONLY' }]] } })).type).toBe('InvalidOnPremisesTagCombinationException');
      expect((await update({ deploymentConfigName: 'Nope' })).type).toBe('DeploymentConfigDoesNotExistException');
      expect((await update({ serviceRoleArn: 'role' })).type).toBe('InvalidRoleException');
      expect((await update({ applicationName: 'nope' })).type).toBe('ApplicationDoesNotExistException');
      expect((await update({ currentDeploymentGroupName: undefined })).type).toBe('DeploymentGroupNameRequiredException');
      expect((await requireGroup(h.ctx.store, 'app', 'g'))).toEqual(before);
      expect(h.engine.count('fleetChanged')).toBe(2);
    });
  });

  describe('DeleteDeploymentGroup', () => {
    it('deletes a group; deleting a missing one succeeds', async () => {
      await create();
      expect(await h.ok('DeleteDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g' })).toEqual({ hooksNotCleanedUp: [] });
      expect(h.store.getGroup('app', 'g')).toBeUndefined();
      expect(await h.ok('DeleteDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g' })).toEqual({ hooksNotCleanedUp: [] });
      expect((await h.refused('DeleteDeploymentGroup', { applicationName: 'app' })).type).toBe('DeploymentGroupNameRequiredException');
    });

    it('refuses while a deployment of the group is unfinished', async () => {
      const { deploymentGroupId } = await create();
      h.store.putDeployment(deploymentRecord({ deploymentGroupId }));
      expect((await h.refused('DeleteDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g' })).type).toBe('InvalidOperationException');
      expect(h.store.getGroup('app', 'g')).toBeDefined();
      h.store.putDeployment(deploymentRecord({ deploymentGroupId, status: 'Stopped' }));
      await h.ok('DeleteDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g' });
    });
  });
});
