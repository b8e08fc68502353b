/**
 * The stock AWS CLI (v2) and @aws-sdk/client-codedeploy against the coordinator's CodeDeploy API
 * for on-premises instances, deployment configurations, deployment groups and revisions: each
 * operation's happy path and an error path, through both clients, with nothing changed by a refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddTagsToOnPremisesInstancesCommand,
  BatchGetApplicationRevisionsCommand,
  BatchGetDeploymentGroupsCommand,
  BatchGetOnPremisesInstancesCommand,
  CreateApplicationCommand,
  CreateDeploymentConfigCommand,
  CreateDeploymentGroupCommand,
  DeleteDeploymentConfigCommand,
  DeleteDeploymentGroupCommand,
  DeregisterOnPremisesInstanceCommand,
  GetApplicationRevisionCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  GetOnPremisesInstanceCommand,
  ListApplicationRevisionsCommand,
  ListDeploymentConfigsCommand,
  ListDeploymentGroupsCommand,
  ListOnPremisesInstancesCommand,
  RegisterApplicationRevisionCommand,
  RegisterOnPremisesInstanceCommand,
  RemoveTagsFromOnPremisesInstancesCommand,
  UpdateDeploymentGroupCommand,
} from '@aws-sdk/client-codedeploy';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { PredefinedConfigs } from '@fleetdeploy/shared';
import type { ApiHarness } from '../packages/coordinator/src/testing/api-harness.js';
import { startApiHarness } from '../packages/coordinator/src/testing/api-harness.js';
import { aws, codeDeployClient } from './harness/aws-cli.js';
import { describeWithTools } from './harness/system-tools.js';

describeWithTools(['aws'], 'CodeDeploy resources through the stock AWS CLI', () => {
  const ROLE = 'arn:aws:iam::123456789012:role/CodeDeployServiceRole';
  const userArn = (name: string) => `arn:aws:iam::123456789012:user/${name}`;

  let h: ApiHarness;
  let sdk: CodeDeployClient;

  beforeAll(async () => {
    h = await startApiHarness();
    sdk = codeDeployClient(h.endpoint);
  });
  afterAll(async () => {
    sdk.destroy();
    await h.close();
  });

  /** cli runs `aws deploy <args>` and returns its JSON output, failing on a non-zero exit. */
  async function cli(...args: string[]) {
    const r = await aws(h.endpoint, ['deploy', ...args]);
    if (r.code !== 0) throw new Error(`aws deploy ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.json;
  }

  /** cliRefused runs `aws deploy <args>` and expects it to fail with CodeDeploy exception `type`. */
  async function cliRefused(type: string, ...args: string[]): Promise<void> {
    const r = await aws(h.endpoint, ['deploy', ...args]);
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toContain(`(${type})`);
  }

  /** sdkRefused expects an SDK call to reject with exception `type`. */
  async function sdkRefused(type: string, call: Promise<unknown>): Promise<void> {
    await expect(call).rejects.toMatchObject({ name: type });
  }

  describe('on-premises instances through the AWS CLI and the SDK', () => {
    it('registers, gets, lists, tags, untags and deregisters', async () => {
      await Promise.all([
        cli('register-on-premises-instance', '--instance-name', 'cli-1', '--iam-user-arn', userArn('cli-1')),
        sdk.send(new RegisterOnPremisesInstanceCommand({ instanceName: 'sdk-1', iamSessionArn: 'arn:aws:sts::123456789012:assumed-role/R/sdk-1' })),
      ]);
      const [cliGet, sdkGet] = await Promise.all([
        cli('get-on-premises-instance', '--instance-name', 'cli-1'),
        sdk.send(new GetOnPremisesInstanceCommand({ instanceName: 'sdk-1' })),
      ]);
      expect(cliGet.instanceInfo).toMatchObject({ instanceName: 'cli-1', iamUserArn: userArn('cli-1'), instanceArn: 'arn:aws:codedeploy:us-east-1:000000000000:instance/cli-1' });
      expect(sdkGet.instanceInfo?.registerTime).toEqual(new Date(h.clock.now()));

      await Promise.all([
        cli('add-tags-to-on-premises-instances', '--instance-names', 'cli-1', 'sdk-1', '--tags', 'Key=env,Value=prod'),
        sdk.send(new AddTagsToOnPremisesInstancesCommand({ instanceNames: ['sdk-1'], tags: [{ Key: 'role', Value: 'web' }] })),
      ]);
      const [cliList, sdkList, batch] = await Promise.all([
        cli('list-on-premises-instances', '--tag-filters', 'Key=env,Value=prod,Type=KEY_AND_VALUE'),
        sdk.send(new ListOnPremisesInstancesCommand({ registrationStatus: 'Registered', tagFilters: [{ Key: 'role', Type: 'KEY_ONLY' }] })),
        cli('batch-get-on-premises-instances', '--instance-names', 'cli-1', 'sdk-1'),
      ]);
      expect(cliList.instanceNames).toEqual(['cli-1', 'sdk-1']);
      expect(sdkList.instanceNames).toEqual(['sdk-1']);
      // The two tagging calls ran concurrently, so either tag may have come first.
      expect(batch.instanceInfos.find((i: { instanceName: string }) => i.instanceName === 'sdk-1').tags).toEqual(expect.arrayContaining([{ Key: 'env', Value: 'prod' }, { Key: 'role', Value: 'web' }]));
      expect((await sdk.send(new BatchGetOnPremisesInstancesCommand({ instanceNames: ['cli-1'] }))).instanceInfos).toHaveLength(1);

      await Promise.all([
        cli('remove-tags-from-on-premises-instances', '--instance-names', 'sdk-1', '--tags', 'Key=env,Value=prod'),
        sdk.send(new RemoveTagsFromOnPremisesInstancesCommand({ instanceNames: ['cli-1'], tags: [{ Key: 'env', Value: 'prod' }] })),
      ]);
      expect(h.store.getInstance('sdk-1')?.tags).toEqual([{ Key: 'role', Value: 'web' }]);
      expect(h.store.getInstance('cli-1')?.tags).toEqual([]);

      await Promise.all([
        cli('deregister-on-premises-instance', '--instance-name', 'cli-1'),
        sdk.send(new DeregisterOnPremisesInstanceCommand({ instanceName: 'sdk-1' })),
      ]);
      const [deregistered, registered] = await Promise.all([
        cli('list-on-premises-instances', '--registration-status', 'Deregistered'),
        sdk.send(new ListOnPremisesInstancesCommand({ registrationStatus: 'Registered' })),
      ]);
      expect(deregistered.instanceNames).toEqual(['cli-1', 'sdk-1']);
      expect(registered.instanceNames ?? []).toEqual([]);
      expect(h.engine.count('fleetChanged')).toBeGreaterThanOrEqual(8);
    });

    it('refuses with CodeDeploy exception names and changes nothing', async () => {
      await sdk.send(new RegisterOnPremisesInstanceCommand({ instanceName: 'taken', iamUserArn: userArn('taken') }));
      const before = h.store.listInstances();
      await Promise.all([
        cliRefused('IamArnRequiredException', 'register-on-premises-instance', '--instance-name', 'x'),
        sdkRefused('MultipleIamArnsProvidedException', sdk.send(new RegisterOnPremisesInstanceCommand({ instanceName: 'x', iamUserArn: userArn('x'), iamSessionArn: 'arn:aws:sts::123456789012:assumed-role/R/x' }))),
        cliRefused('InstanceNameAlreadyRegisteredException', 'register-on-premises-instance', '--instance-name', 'taken', '--iam-user-arn', userArn('other')),
        cliRefused('InvalidInstanceNameException', 'deregister-on-premises-instance', '--instance-name', 'no spaces'),
        sdkRefused('InstanceNameRequiredException', sdk.send(new DeregisterOnPremisesInstanceCommand({ instanceName: '' }))),
        cliRefused('InstanceNotRegisteredException', 'get-on-premises-instance', '--instance-name', 'nobody'),
        sdkRefused('InstanceNotRegisteredException', sdk.send(new GetOnPremisesInstanceCommand({ instanceName: 'nobody' }))),
        cliRefused('BatchLimitExceededException', 'batch-get-on-premises-instances', '--instance-names', ...Array.from({ length: 26 }, (_, i) => `i${i}`)),
        sdkRefused('BatchLimitExceededException', sdk.send(new BatchGetOnPremisesInstancesCommand({ instanceNames: Array.from({ length: 26 }, (_, i) => `i${i}`) }))),
        cliRefused('InvalidRegistrationStatusException', 'list-on-premises-instances', '--registration-status', 'Gone'),
        sdkRefused('InvalidTagFilterException', sdk.send(new ListOnPremisesInstancesCommand({ tagFilters: [{ Key: 'k', Type: 'KEY_AND_VALUE' }] }))),
        cliRefused('InstanceNotRegisteredException', 'add-tags-to-on-premises-instances', '--instance-names', 'taken', 'nobody', '--tags', 'Key=a,Value=b'),
        sdkRefused('InvalidTagException', sdk.send(new AddTagsToOnPremisesInstancesCommand({ instanceNames: ['taken'], tags: [{ Key: 'only-key' }] }))),
        cliRefused('TagRequiredException', 'remove-tags-from-on-premises-instances', '--instance-names', 'taken', '--tags', '[]'),
        sdkRefused('InstanceNotRegisteredException', sdk.send(new RemoveTagsFromOnPremisesInstancesCommand({ instanceNames: ['nobody'], tags: [{ Key: 'a', Value: 'b' }] }))),
      ]);
      await sdk.send(new AddTagsToOnPremisesInstancesCommand({ instanceNames: ['taken'], tags: Array.from({ length: 10 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }));
      await sdkRefused('TagLimitExceededException', sdk.send(new AddTagsToOnPremisesInstancesCommand({ instanceNames: ['taken'], tags: [{ Key: 'k10', Value: 'v' }] })));
      expect(h.store.listInstances().map((i) => i.instanceName)).toEqual(before.map((i) => i.instanceName));
      expect(h.store.getInstance('taken')?.tags).toHaveLength(10);
    });
  });

  describe('deployment configurations through the AWS CLI and the SDK', () => {
    it('creates, gets, lists (the CLI following nextToken) and deletes', async () => {
      const [cliOut, sdkOut] = await Promise.all([
        cli('create-deployment-config', '--deployment-config-name', 'CliTwo', '--minimum-healthy-hosts', 'type=HOST_COUNT,value=2'),
        sdk.send(new CreateDeploymentConfigCommand({ deploymentConfigName: 'SdkCanary', computePlatform: 'Lambda', trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 3 } } })),
      ]);
      expect(cliOut.deploymentConfigId).toMatch(/^[0-9a-f-]{36}$/);
      expect(sdkOut.deploymentConfigId).toMatch(/^[0-9a-f-]{36}$/);
      for (let i = 0; i < 100; i++) {
        h.store.putConfig({ deploymentConfigId: `bulk-${i}`, deploymentConfigName: `Bulk${String(i).padStart(3, '0')}`, computePlatform: 'Server', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 }, createTime: 0 });
      }
      const [one, canary, list, sdkFirstPage] = await Promise.all([
        cli('get-deployment-config', '--deployment-config-name', 'CodeDeployDefault.OneAtATime'),
        sdk.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'SdkCanary' })),
        cli('list-deployment-configs'),
        sdk.send(new ListDeploymentConfigsCommand({})),
      ]);
      expect(one.deploymentConfigInfo).toMatchObject({ deploymentConfigName: 'CodeDeployDefault.OneAtATime', computePlatform: 'Server', minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 } });
      expect(canary.deploymentConfigInfo?.trafficRoutingConfig).toEqual({ type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 3 } });
      expect(list.deploymentConfigsList).toHaveLength(PredefinedConfigs.length + 102);
      expect(list.deploymentConfigsList).toContain('CliTwo');
      expect(sdkFirstPage.deploymentConfigsList).toHaveLength(100);
      expect(sdkFirstPage.nextToken).toBeDefined();

      await Promise.all([
        cli('delete-deployment-config', '--deployment-config-name', 'CliTwo'),
        sdk.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'SdkCanary' })),
      ]);
      expect(h.store.getConfig('CliTwo')).toBeUndefined();
      expect(h.store.getConfig('SdkCanary')).toBeUndefined();
    });

    it('refuses with CodeDeploy exception names and changes nothing', async () => {
      await sdk.send(new CreateDeploymentConfigCommand({ deploymentConfigName: 'Kept', minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 50 } }));
      await sdk.send(new CreateApplicationCommand({ applicationName: 'cfg-app' }));
      await sdk.send(new CreateDeploymentGroupCommand({ applicationName: 'cfg-app', deploymentGroupName: 'uses-kept', serviceRoleArn: ROLE, deploymentConfigName: 'Kept' }));
      await Promise.all([
        cliRefused('InvalidDeploymentConfigNameException', 'create-deployment-config', '--deployment-config-name', 'CodeDeployDefault.Mine', '--minimum-healthy-hosts', 'type=HOST_COUNT,value=1'),
        sdkRefused('InvalidMinimumHealthyHostValueException', sdk.send(new CreateDeploymentConfigCommand({ deploymentConfigName: 'TooMany', minimumHealthyHosts: { type: 'FLEET_PERCENT', value: 100 } }))),
        sdkRefused('DeploymentConfigAlreadyExistsException', sdk.send(new CreateDeploymentConfigCommand({ deploymentConfigName: 'Kept', minimumHealthyHosts: { type: 'HOST_COUNT', value: 9 } }))),
        cliRefused('DeploymentConfigDoesNotExistException', 'get-deployment-config', '--deployment-config-name', 'Nope'),
        sdkRefused('DeploymentConfigDoesNotExistException', sdk.send(new GetDeploymentConfigCommand({ deploymentConfigName: 'Nope' }))),
        cliRefused('InvalidNextTokenException', 'list-deployment-configs', '--starting-token', 'garbage'),
        sdkRefused('InvalidNextTokenException', sdk.send(new ListDeploymentConfigsCommand({ nextToken: 'garbage' }))),
        cliRefused('InvalidOperationException', 'delete-deployment-config', '--deployment-config-name', 'CodeDeployDefault.AllAtOnce'),
        sdkRefused('DeploymentConfigInUseException', sdk.send(new DeleteDeploymentConfigCommand({ deploymentConfigName: 'Kept' }))),
      ]);
      expect(h.store.getConfig('Kept')?.minimumHealthyHosts).toEqual({ type: 'FLEET_PERCENT', value: 50 });
      expect(h.store.getConfig('TooMany')).toBeUndefined();
    });
  });

  describe('deployment groups through the AWS CLI and the SDK', () => {
    beforeAll(async () => {
      await sdk.send(new CreateApplicationCommand({ applicationName: 'web' }));
    });

    it('creates, gets, batch-gets, lists, updates (renaming, same id) and deletes', async () => {
      const [cliOut, sdkOut] = await Promise.all([
        cli('create-deployment-group', '--application-name', 'web', '--deployment-group-name', 'cli-g', '--service-role-arn', ROLE,
          '--on-premises-instance-tag-filters', 'Key=env,Value=prod,Type=KEY_AND_VALUE', '--deployment-config-name', 'CodeDeployDefault.HalfAtATime',
          '--alarm-configuration', 'enabled=true,alarms=[{name=cpu}]', '--auto-rollback-configuration', 'enabled=true,events=DEPLOYMENT_FAILURE'),
        sdk.send(new CreateDeploymentGroupCommand({
          applicationName: 'web', deploymentGroupName: 'sdk-g', serviceRoleArn: ROLE,
          onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'env', Value: 'beta', Type: 'KEY_AND_VALUE' }], [{ Key: 'region', Type: 'KEY_ONLY' }]] },
          triggerConfigurations: [{ triggerName: 'ops', triggerTargetArn: 'arn:aws:sns:us-east-1:123456789012:ops', triggerEvents: ['DeploymentFailure'] }],
        })),
      ]);
      const [cliGet, sdkGet, batch, list] = await Promise.all([
        cli('get-deployment-group', '--application-name', 'web', '--deployment-group-name', 'cli-g'),
        sdk.send(new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'sdk-g' })),
        cli('batch-get-deployment-groups', '--application-name', 'web', '--deployment-group-names', 'cli-g', 'sdk-g'),
        cli('list-deployment-groups', '--application-name', 'web'),
      ]);
      expect(cliGet.deploymentGroupInfo).toMatchObject({
        deploymentGroupId: cliOut.deploymentGroupId,
        deploymentConfigName: 'CodeDeployDefault.HalfAtATime',
        onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }],
        alarmConfiguration: { enabled: true, alarms: [{ name: 'cpu' }] },
        autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
        computePlatform: 'Server',
      });
      expect(sdkGet.deploymentGroupInfo).toMatchObject({
        deploymentGroupId: sdkOut.deploymentGroupId,
        deploymentConfigName: 'CodeDeployDefault.OneAtATime',
        onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'env', Value: 'beta', Type: 'KEY_AND_VALUE' }], [{ Key: 'region', Type: 'KEY_ONLY' }]] },
        triggerConfigurations: [{ triggerName: 'ops', triggerEvents: ['DeploymentFailure'] }],
      });
      expect(batch.deploymentGroupsInfo.map((g: { deploymentGroupName: string }) => g.deploymentGroupName)).toEqual(['cli-g', 'sdk-g']);
      // The CLI's paginator keeps only the listed names of its merged pages.
      expect(list.deploymentGroups).toEqual(['cli-g', 'sdk-g']);
      expect((await sdk.send(new BatchGetDeploymentGroupsCommand({ applicationName: 'web', deploymentGroupNames: ['sdk-g'] }))).deploymentGroupsInfo).toHaveLength(1);
      expect(await sdk.send(new ListDeploymentGroupsCommand({ applicationName: 'web' }))).toMatchObject({ applicationName: 'web', deploymentGroups: ['cli-g', 'sdk-g'] });

      const [cliUpdate] = await Promise.all([
        cli('update-deployment-group', '--application-name', 'web', '--current-deployment-group-name', 'cli-g', '--new-deployment-group-name', 'cli-g2', '--deployment-config-name', 'CodeDeployDefault.AllAtOnce'),
        sdk.send(new UpdateDeploymentGroupCommand({ applicationName: 'web', currentDeploymentGroupName: 'sdk-g', onPremisesTagSet: { onPremisesTagSetList: [] }, onPremisesInstanceTagFilters: [{ Key: 'role', Type: 'KEY_ONLY' }] })),
      ]);
      expect(cliUpdate).toEqual({ hooksNotCleanedUp: [] });
      const [renamed, retargeted] = await Promise.all([
        cli('get-deployment-group', '--application-name', 'web', '--deployment-group-name', 'cli-g2'),
        sdk.send(new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'sdk-g' })),
      ]);
      expect(renamed.deploymentGroupInfo).toMatchObject({ deploymentGroupId: cliOut.deploymentGroupId, deploymentConfigName: 'CodeDeployDefault.AllAtOnce', alarmConfiguration: { enabled: true } });
      expect(retargeted.deploymentGroupInfo?.onPremisesInstanceTagFilters).toEqual([{ Key: 'role', Type: 'KEY_ONLY' }]);

      const [cliDelete, sdkDelete] = await Promise.all([
        cli('delete-deployment-group', '--application-name', 'web', '--deployment-group-name', 'cli-g2'),
        sdk.send(new DeleteDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'sdk-g' })),
      ]);
      expect(cliDelete).toEqual({ hooksNotCleanedUp: [] });
      expect(sdkDelete.hooksNotCleanedUp).toEqual([]);
      expect(h.store.listGroups('web')).toEqual([]);
    });

    it('refuses with CodeDeploy exception names and changes nothing', async () => {
      await sdk.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'kept', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: [{ Key: 'env', Type: 'KEY_ONLY' }] }));
      const before = h.store.listGroups('web');
      const create = ['create-deployment-group', '--application-name', 'web', '--deployment-group-name', 'new-g'];
      await Promise.all([
        // The CLI itself requires --service-role-arn, so the missing role goes through the SDK, which does not check.
        sdkRefused('RoleRequiredException', sdk.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'new-g', serviceRoleArn: undefined as never }))),
        cliRefused('InvalidRoleException', ...create, '--service-role-arn', 'not-an-arn'),
        cliRefused('ApplicationDoesNotExistException', 'create-deployment-group', '--application-name', 'nope', '--deployment-group-name', 'g', '--service-role-arn', ROLE),
        cliRefused('InvalidOnPremisesTagCombinationException', ...create, '--service-role-arn', ROLE, '--on-premises-instance-tag-filters', 'Key=a,Type=KEY_ONLY',
          '--on-premises-tag-set', 'onPremisesTagSetList=[[{Key=b,Type=KEY_ONLY}]]'),
        sdkRefused('DeploymentGroupAlreadyExistsException', sdk.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'kept', serviceRoleArn: ROLE }))),
        sdkRefused('DeploymentConfigDoesNotExistException', sdk.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'new-g', serviceRoleArn: ROLE, deploymentConfigName: 'Nope' }))),
        sdkRefused('AlarmsLimitExceededException', sdk.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'new-g', serviceRoleArn: ROLE, alarmConfiguration: { enabled: true, alarms: Array.from({ length: 11 }, (_, i) => ({ name: `a${i}` })) } }))),
        sdkRefused('InvalidAutoRollbackConfigException', sdk.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'new-g', serviceRoleArn: ROLE, autoRollbackConfiguration: { enabled: true, events: [] } }))),
        sdkRefused('InvalidEC2TagCombinationException', sdk.send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'new-g', serviceRoleArn: ROLE, ec2TagFilters: [{ Key: 'a', Type: 'KEY_ONLY' }], ec2TagSet: { ec2TagSetList: [[{ Key: 'b', Type: 'KEY_ONLY' }]] } }))),
        cliRefused('DeploymentGroupDoesNotExistException', 'get-deployment-group', '--application-name', 'web', '--deployment-group-name', 'nope'),
        sdkRefused('DeploymentGroupDoesNotExistException', sdk.send(new GetDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'nope' }))),
        cliRefused('BatchLimitExceededException', 'batch-get-deployment-groups', '--application-name', 'web', '--deployment-group-names', ...Array.from({ length: 26 }, (_, i) => `g${i}`)),
        sdkRefused('ApplicationDoesNotExistException', sdk.send(new BatchGetDeploymentGroupsCommand({ applicationName: 'nope', deploymentGroupNames: ['g'] }))),
        cliRefused('ApplicationDoesNotExistException', 'list-deployment-groups', '--application-name', 'nope'),
        sdkRefused('ApplicationDoesNotExistException', sdk.send(new ListDeploymentGroupsCommand({ applicationName: 'nope' }))),
        cliRefused('DeploymentGroupDoesNotExistException', 'update-deployment-group', '--application-name', 'web', '--current-deployment-group-name', 'nope', '--new-deployment-group-name', 'x'),
        sdkRefused('InvalidOnPremisesTagCombinationException', sdk.send(new UpdateDeploymentGroupCommand({ applicationName: 'web', currentDeploymentGroupName: 'kept', onPremisesTagSet: { onPremisesTagSetList: [[{ Key: 'x', Type: 'KEY_ONLY' }]] } }))),
        cliRefused('InvalidDeploymentGroupNameException', 'delete-deployment-group', '--application-name', 'web', '--deployment-group-name', 'bad name'),
        sdkRefused('DeploymentGroupNameRequiredException', sdk.send(new DeleteDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: '' }))),
      ]);
      expect(h.store.listGroups('web')).toEqual(before);
    });
  });

  describe('application revisions through the AWS CLI and the SDK', () => {
    beforeAll(async () => {
      await sdk.send(new CreateApplicationCommand({ applicationName: 'rev-app' }));
    });
    const s3 = (key: string) => ({ revisionType: 'S3' as const, s3Location: { bucket: 'releases', key, bundleType: 'zip' as const } });

    it('registers, gets, batch-gets and lists', async () => {
      await Promise.all([
        cli('register-application-revision', '--application-name', 'rev-app', '--s3-location', 'bucket=releases,key=web/v1.zip,bundleType=zip', '--description', 'first'),
        sdk.send(new RegisterApplicationRevisionCommand({ applicationName: 'rev-app', revision: s3('web/v2.zip'), description: 'second' })),
        cli('register-application-revision', '--application-name', 'rev-app', '--github-location', 'repository=acme/web,commitId=abcdef1234'),
      ]);
      const [cliGet, sdkGet, cliBatch, cliList, sdkList] = await Promise.all([
        cli('get-application-revision', '--application-name', 'rev-app', '--s3-location', 'bucket=releases,key=web/v1.zip,bundleType=zip'),
        sdk.send(new GetApplicationRevisionCommand({ applicationName: 'rev-app', revision: s3('web/v2.zip') })),
        cli('batch-get-application-revisions', '--application-name', 'rev-app', '--revisions', JSON.stringify([s3('web/v1.zip'), s3('web/v2.zip')])),
        cli('list-application-revisions', '--application-name', 'rev-app', '--s3-bucket', 'releases', '--s3-key-prefix', 'web/'),
        sdk.send(new ListApplicationRevisionsCommand({ applicationName: 'rev-app', sortBy: 'registerTime', sortOrder: 'descending' })),
      ]);
      expect(cliGet).toMatchObject({ applicationName: 'rev-app', revision: s3('web/v1.zip'), revisionInfo: { description: 'first', deploymentGroups: [] } });
      expect(sdkGet.revisionInfo?.description).toBe('second');
      expect(sdkGet.revisionInfo?.registerTime).toEqual(new Date(h.clock.now()));
      expect(cliBatch.revisions.map((r: { genericRevisionInfo: { description: string } }) => r.genericRevisionInfo.description)).toEqual(['first', 'second']);
      expect(cliList.revisions).toHaveLength(2);
      expect(sdkList.revisions).toHaveLength(3);
      expect((await sdk.send(new BatchGetApplicationRevisionsCommand({ applicationName: 'rev-app', revisions: [s3('web/v1.zip')] }))).revisions).toHaveLength(1);
    });

    it('refuses with CodeDeploy exception names and changes nothing', async () => {
      const before = h.store.listRevisions('rev-app');
      await Promise.all([
        cliRefused('DescriptionTooLongException', 'register-application-revision', '--application-name', 'rev-app', '--s3-location', 'bucket=releases,key=x.zip,bundleType=zip', '--description', 'd'.repeat(257)),
        sdkRefused('InvalidRevisionException', sdk.send(new RegisterApplicationRevisionCommand({ applicationName: 'rev-app', revision: { revisionType: 'S3', s3Location: { bucket: 'releases', key: 'x.rar' } } }))),
        sdkRefused('ApplicationDoesNotExistException', sdk.send(new RegisterApplicationRevisionCommand({ applicationName: 'nope', revision: s3('x.zip') }))),
        cliRefused('RevisionDoesNotExistException', 'get-application-revision', '--application-name', 'rev-app', '--s3-location', 'bucket=releases,key=none.zip,bundleType=zip'),
        sdkRefused('RevisionDoesNotExistException', sdk.send(new GetApplicationRevisionCommand({ applicationName: 'rev-app', revision: s3('none.zip') }))),
        cliRefused('BatchLimitExceededException', 'batch-get-application-revisions', '--application-name', 'rev-app', '--revisions', JSON.stringify(Array.from({ length: 26 }, (_, i) => s3(`${i}.zip`)))),
        sdkRefused('RevisionRequiredException', sdk.send(new BatchGetApplicationRevisionsCommand({ applicationName: 'rev-app', revisions: [] }))),
        cliRefused('BucketNameFilterRequiredException', 'list-application-revisions', '--application-name', 'rev-app', '--s3-key-prefix', 'web/'),
        sdkRefused('InvalidSortByException', sdk.send(new ListApplicationRevisionsCommand({ applicationName: 'rev-app', sortBy: 'size' as never }))),
      ]);
      expect(h.store.listRevisions('rev-app')).toEqual(before);
    });
  });
});
