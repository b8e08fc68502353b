/**
 * The stock AWS CLI and @aws-sdk/client-codedeploy against the coordinator's CodeDeploy API for the
 * operations test/api-resources.test.ts leaves out: applications, deployments with their targets and
 * instances, GitHub revisions, resource tags, GitHub connections, and the blue/green and Lambda/ECS
 * operations that in-place Server deployments refuse. Each operation: its happy path (for the ones
 * AWS itself refuses for in-place deployments, that refusal) and at least one error, through both
 * clients. The last test checks that, with api-resources.test.ts, every operation the coordinator
 * serves is covered.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as sdkCommands from '@aws-sdk/client-codedeploy';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { ApiHarness } from '../../packages/coordinator/src/testing/api-harness.js';
import { startApiHarness } from '../../packages/coordinator/src/testing/api-harness.js';
import type { GitHubArchiveServer } from '../../packages/coordinator/src/testing/github-archive-server.js';
import { startGitHubArchiveServer } from '../../packages/coordinator/src/testing/github-archive-server.js';
import { operations } from '../../packages/coordinator/src/api/operations/index.js';
import { aws, codeDeployClient } from '../harness/aws-cli.js';
import { describeWithTools } from '../harness/system-tools.js';

describeWithTools(['aws'], 'deployments and tags with the stock AWS CLI', () => {
  const {
    BatchGetApplicationsCommand, BatchGetDeploymentInstancesCommand, BatchGetDeploymentTargetsCommand, BatchGetDeploymentsCommand,
    ContinueDeploymentCommand, CreateApplicationCommand, CreateDeploymentCommand, CreateDeploymentGroupCommand, DeleteApplicationCommand,
    DeleteGitHubAccountTokenCommand, DeleteResourcesByExternalIdCommand, GetApplicationCommand, GetDeploymentCommand, GetDeploymentInstanceCommand,
    GetDeploymentTargetCommand, ListApplicationsCommand, ListDeploymentInstancesCommand, ListDeploymentTargetsCommand, ListDeploymentsCommand,
    ListGitHubAccountTokenNamesCommand, ListTagsForResourceCommand, PutLifecycleEventHookExecutionStatusCommand, RegisterOnPremisesInstanceCommand,
    SkipWaitTimeForInstanceTerminationCommand, StopDeploymentCommand, TagResourceCommand, UntagResourceCommand, UpdateApplicationCommand,
  } = sdkCommands;

  const ROLE = 'arn:aws:iam::123456789012:role/CodeDeployServiceRole';
  const PREFIX = 'arn:aws:codedeploy:us-east-1:000000000000';
  const COMMIT = '0123abcd45';

  let h: ApiHarness;
  let sdk: CodeDeployClient;
  let gh: GitHubArchiveServer;
  /** Operations called through the CLI and through the SDK in this file. */
  const viaCli = new Set<string>();
  const viaSdk = new Set<string>();

  beforeAll(async () => {
    gh = await startGitHubArchiveServer();
    await gh.commit('acme/web', COMMIT, { 'appspec.yml': 'version: 0.0\nos: linux\n', 'index.html': '<h1>web</h1>\n' });
    h = await startApiHarness({ githubArchiveUrl: gh.template });
    sdk = codeDeployClient(h.endpoint);
  });
  afterAll(async () => {
    sdk.destroy();
    await h.close();
    await gh.close();
  });

  /** cliOp is the operation a CLI command calls: list-git-hub-account-token-names → ListGitHubAccountTokenNames. */
  const cliOp = (command: string): string => command.split('-').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('').replace('GitHub', 'GitHub');

  /** cli runs `aws deploy <args>` and returns its JSON output, failing on a non-zero exit. */
  async function cli(...args: string[]) {
    viaCli.add(cliOp(args[0]!));
    const r = await aws(h.endpoint, ['deploy', ...args]);
    if (r.code !== 0) throw new Error(`aws deploy ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.json;
  }

  /** cliRefused runs `aws deploy <args>` and expects it to fail with CodeDeploy exception `type`. */
  async function cliRefused(type: string, ...args: string[]): Promise<string> {
    viaCli.add(cliOp(args[0]!));
    const r = await aws(h.endpoint, ['deploy', ...args]);
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.stderr).toContain(`(${type})`);
    return r.stderr;
  }

  /** send runs an SDK command and notes its operation (from the command's class name). */
  function send<T = unknown>(command: object): Promise<T> {
    viaSdk.add(command.constructor.name.replace(/Command$/, ''));
    return (sdk.send as (c: object) => Promise<unknown>).call(sdk, command) as Promise<T>;
  }

  /** sdkRefused expects an SDK call to reject with exception `type`. */
  async function sdkRefused(type: string, call: Promise<unknown>): Promise<void> {
    await expect(call).rejects.toMatchObject({ name: type });
  }

  describe('applications through the AWS CLI and the SDK', { timeout: 120_000 }, () => {
    it('creates (with tags), gets, batch-gets, lists, renames and deletes', async () => {
      const [cliOut, sdkOut] = await Promise.all([
        cli('create-application', '--application-name', 'cli-app', '--tags', 'Key=team,Value=web'),
        send<{ applicationId: string }>(new CreateApplicationCommand({ applicationName: 'sdk-app', computePlatform: 'Server', tags: [{ Key: 'team', Value: 'api' }] })),
      ]);
      expect(cliOut.applicationId).toMatch(/^[0-9a-f-]{36}$/);
      const [cliGet, sdkGet, cliBatch, sdkBatch, cliList, sdkList] = await Promise.all([
        cli('get-application', '--application-name', 'cli-app'),
        send<sdkCommands.GetApplicationCommandOutput>(new GetApplicationCommand({ applicationName: 'sdk-app' })),
        cli('batch-get-applications', '--application-names', 'cli-app', 'sdk-app'),
        send<sdkCommands.BatchGetApplicationsCommandOutput>(new BatchGetApplicationsCommand({ applicationNames: ['sdk-app'] })),
        cli('list-applications'),
        send<sdkCommands.ListApplicationsCommandOutput>(new ListApplicationsCommand({})),
      ]);
      expect(cliGet.application).toMatchObject({ applicationId: cliOut.applicationId, applicationName: 'cli-app', computePlatform: 'Server', linkedToGitHub: false });
      expect(sdkGet.application?.applicationId).toBe(sdkOut.applicationId);
      expect(cliBatch.applicationsInfo.map((a: { applicationName: string }) => a.applicationName)).toEqual(['cli-app', 'sdk-app']);
      expect(sdkBatch.applicationsInfo).toHaveLength(1);
      expect(cliList.applications).toEqual(expect.arrayContaining(['cli-app', 'sdk-app']));
      expect(sdkList.applications).toEqual(expect.arrayContaining(['cli-app', 'sdk-app']));

      await Promise.all([
        cli('update-application', '--application-name', 'cli-app', '--new-application-name', 'cli-app2'),
        send(new UpdateApplicationCommand({ applicationName: 'sdk-app', newApplicationName: 'sdk-app2' })),
      ]);
      expect(h.store.getApplication('cli-app2')?.applicationId).toBe(cliOut.applicationId);
      expect(h.store.getResourceTags(cliOut.applicationId)).toEqual([{ Key: 'team', Value: 'web' }]);
      await Promise.all([cli('delete-application', '--application-name', 'cli-app2'), send(new DeleteApplicationCommand({ applicationName: 'sdk-app2' }))]);
      expect(h.store.getApplication('cli-app2')).toBeUndefined();
      expect(h.store.getApplication('sdk-app2')).toBeUndefined();
    });

    it('refuses with CodeDeploy exception names and changes nothing', async () => {
      await send(new CreateApplicationCommand({ applicationName: 'kept' }));
      const before = h.store.listApplications();
      await Promise.all([
        cliRefused('ApplicationAlreadyExistsException', 'create-application', '--application-name', 'kept'),
        sdkRefused('InvalidComputePlatformException', send(new CreateApplicationCommand({ applicationName: 'x', computePlatform: 'Mainframe' as never }))),
        sdkRefused('InvalidTagsToAddException', send(new CreateApplicationCommand({ applicationName: 'x', tags: [{ Key: 'aws:x', Value: 'y' }] }))),
        cliRefused('ApplicationDoesNotExistException', 'get-application', '--application-name', 'nope'),
        sdkRefused('InvalidApplicationNameException', send(new GetApplicationCommand({ applicationName: 'bad name' }))),
        cliRefused('ApplicationDoesNotExistException', 'batch-get-applications', '--application-names', 'kept', 'nope'),
        sdkRefused('BatchLimitExceededException', send(new BatchGetApplicationsCommand({ applicationNames: Array.from({ length: 101 }, (_, i) => `a${i}`) }))),
        cliRefused('InvalidNextTokenException', 'list-applications', '--starting-token', 'garbage'),
        sdkRefused('InvalidNextTokenException', send(new ListApplicationsCommand({ nextToken: 'garbage' }))),
        cliRefused('ApplicationDoesNotExistException', 'update-application', '--application-name', 'nope', '--new-application-name', 'x'),
        sdkRefused('ApplicationNameRequiredException', send(new UpdateApplicationCommand({}))),
        cliRefused('InvalidApplicationNameException', 'delete-application', '--application-name', 'bad name'),
        sdkRefused('ApplicationNameRequiredException', send(new DeleteApplicationCommand({ applicationName: '' }))),
      ]);
      expect(h.store.listApplications()).toEqual(before);
    });
  });

  describe('deployments, their targets and instances through the AWS CLI and the SDK', { timeout: 120_000 }, () => {
    let cliId: string;
    let sdkId: string;
    beforeAll(async () => {
      await send(new CreateApplicationCommand({ applicationName: 'web' }));
      await Promise.all(['h1', 'h2'].map((n) => send(new RegisterOnPremisesInstanceCommand({ instanceName: n, iamUserArn: `arn:aws:iam::123456789012:user/${n}` }))));
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['h1', 'h2'], tags: [{ Key: 'env', Value: 'prod' }] });
      const onProd = [{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' as const }];
      await send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'cli-g', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: onProd }));
      await send(new CreateDeploymentGroupCommand({ applicationName: 'web', deploymentGroupName: 'sdk-g', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: onProd, tags: [{ Key: 'env', Value: 'prod' }] }));
      await h.ctx.buckets.createBucket('releases', 0);
      const blob = await h.ctx.blobs.put(Readable.from([Buffer.from('bundle bytes: the engine is not running here')]));
      await h.ctx.buckets.putObject({ bucket: 'releases', key: 'web.zip', sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, 0);
    });

    it('creates (S3 and GitHub revisions), gets, batch-gets, lists and stops deployments', async () => {
      const [cliOut, sdkOut] = await Promise.all([
        cli('create-deployment', '--application-name', 'web', '--deployment-group-name', 'cli-g', '--github-location', `repository=acme/web,commitId=${COMMIT}`, '--description', 'from GitHub'),
        send<{ deploymentId: string }>(new CreateDeploymentCommand({ applicationName: 'web', deploymentGroupName: 'sdk-g', revision: { revisionType: 'S3', s3Location: { bucket: 'releases', key: 'web.zip', bundleType: 'zip' } } })),
      ]);
      cliId = cliOut.deploymentId;
      sdkId = sdkOut.deploymentId;
      expect(h.store.getDeployment(cliId)?.bundle?.bundleType).toBe('tar');
      expect(gh.requests.map((r) => r.path)).toEqual([`/acme/web/tar.gz/${COMMIT}`]);
      const [cliGet, sdkGet, cliBatch, sdkBatch, cliList, sdkList] = await Promise.all([
        cli('get-deployment', '--deployment-id', cliId),
        send<sdkCommands.GetDeploymentCommandOutput>(new GetDeploymentCommand({ deploymentId: sdkId })),
        cli('batch-get-deployments', '--deployment-ids', cliId, sdkId),
        send<sdkCommands.BatchGetDeploymentsCommandOutput>(new BatchGetDeploymentsCommand({ deploymentIds: [sdkId] })),
        cli('list-deployments', '--application-name', 'web', '--deployment-group-name', 'cli-g', '--include-only-statuses', 'Created'),
        send<sdkCommands.ListDeploymentsCommandOutput>(new ListDeploymentsCommand({})),
      ]);
      expect(cliGet.deploymentInfo).toMatchObject({ deploymentId: cliId, status: 'Created', description: 'from GitHub', revision: { revisionType: 'GitHub', gitHubLocation: { repository: 'acme/web', commitId: COMMIT } } });
      expect(sdkGet.deploymentInfo?.revision?.s3Location?.key).toBe('web.zip');
      expect(cliBatch.deploymentsInfo).toHaveLength(2);
      expect(sdkBatch.deploymentsInfo?.[0]?.deploymentGroupName).toBe('sdk-g');
      expect(cliList.deployments).toEqual([cliId]);
      expect([...(sdkList.deployments ?? [])].sort()).toEqual([sdkId, cliId].sort());

      const [cliStop, sdkStop] = await Promise.all([
        cli('stop-deployment', '--deployment-id', cliId),
        send<sdkCommands.StopDeploymentCommandOutput>(new StopDeploymentCommand({ deploymentId: sdkId, autoRollbackEnabled: false })),
      ]);
      expect(cliStop.status).toBe('Pending');
      expect(sdkStop.status).toBe('Pending');
      expect(h.engine.count('stopRequested')).toBe(2);
    });

    it('lists, gets and batch-gets targets and (deprecated) instances', async () => {
      const [cliTargets, sdkTargets, cliTarget, sdkTarget, cliBatch, sdkBatch] = await Promise.all([
        cli('list-deployment-targets', '--deployment-id', cliId, '--target-filters', 'TargetStatus=Pending'),
        send<sdkCommands.ListDeploymentTargetsCommandOutput>(new ListDeploymentTargetsCommand({ deploymentId: sdkId })),
        cli('get-deployment-target', '--deployment-id', cliId, '--target-id', 'h1'),
        send<sdkCommands.GetDeploymentTargetCommandOutput>(new GetDeploymentTargetCommand({ deploymentId: sdkId, targetId: 'h2' })),
        cli('batch-get-deployment-targets', '--deployment-id', cliId, '--target-ids', 'h1', 'h2'),
        send<sdkCommands.BatchGetDeploymentTargetsCommandOutput>(new BatchGetDeploymentTargetsCommand({ deploymentId: sdkId, targetIds: ['h1'] })),
      ]);
      expect(cliTargets.targetIds).toEqual(['h1', 'h2']);
      expect(sdkTargets.targetIds).toEqual(['h1', 'h2']);
      expect(cliTarget.deploymentTarget).toMatchObject({ deploymentTargetType: 'InstanceTarget', instanceTarget: { targetId: 'h1', status: 'Pending', targetArn: `${PREFIX}:instance/h1` } });
      expect(sdkTarget.deploymentTarget?.instanceTarget?.lifecycleEvents?.[0]?.lifecycleEventName).toBe('ApplicationStop');
      expect(cliBatch.deploymentTargets).toHaveLength(2);
      expect(sdkBatch.deploymentTargets).toHaveLength(1);

      const [cliInstances, sdkInstances, cliInstance, sdkInstance, cliInstBatch, sdkInstBatch] = await Promise.all([
        cli('list-deployment-instances', '--deployment-id', cliId, '--instance-status-filter', 'Pending'),
        send<sdkCommands.ListDeploymentInstancesCommandOutput>(new ListDeploymentInstancesCommand({ deploymentId: sdkId })),
        cli('get-deployment-instance', '--deployment-id', cliId, '--instance-id', 'h2'),
        send<sdkCommands.GetDeploymentInstanceCommandOutput>(new GetDeploymentInstanceCommand({ deploymentId: sdkId, instanceId: 'h1' })),
        cli('batch-get-deployment-instances', '--deployment-id', cliId, '--instance-ids', 'h1', 'h2'),
        send<sdkCommands.BatchGetDeploymentInstancesCommandOutput>(new BatchGetDeploymentInstancesCommand({ deploymentId: sdkId, instanceIds: ['h2'] })),
      ]);
      expect(cliInstances.instancesList).toEqual(['h1', 'h2']);
      expect(sdkInstances.instancesList).toEqual(['h1', 'h2']);
      expect(cliInstance.instanceSummary).toMatchObject({ deploymentId: cliId, instanceId: `${PREFIX}:instance/h2`, status: 'Pending' });
      expect(sdkInstance.instanceSummary?.status).toBe('Pending');
      expect(cliInstBatch.instancesSummary).toHaveLength(2);
      expect(sdkInstBatch.instancesSummary).toHaveLength(1);
    });

    it('refuses with CodeDeploy exception names and changes nothing', async () => {
      const before = h.store.listDeploymentIds({});
      gh.respond('acme/web', 'deadbee', 404, 'Not Found');
      await Promise.all([
        cliRefused('RevisionDoesNotExistException', 'create-deployment', '--application-name', 'web', '--deployment-group-name', 'cli-g', '--s3-location', 'bucket=releases,key=none.zip,bundleType=zip'),
        cliRefused('RevisionDoesNotExistException', 'create-deployment', '--application-name', 'web', '--deployment-group-name', 'cli-g', '--github-location', 'repository=acme/web,commitId=deadbee'),
        sdkRefused('DeploymentGroupDoesNotExistException', send(new CreateDeploymentCommand({ applicationName: 'web', deploymentGroupName: 'nope', revision: { revisionType: 'S3', s3Location: { bucket: 'releases', key: 'web.zip', bundleType: 'zip' } } }))),
        cliRefused('DeploymentDoesNotExistException', 'get-deployment', '--deployment-id', 'd-NOPE00000'),
        sdkRefused('DeploymentIdRequiredException', send(new GetDeploymentCommand({ deploymentId: '' }))),
        cliRefused('BatchLimitExceededException', 'batch-get-deployments', '--deployment-ids', ...Array.from({ length: 26 }, (_, i) => `d-${i}`)),
        sdkRefused('DeploymentIdRequiredException', send(new BatchGetDeploymentsCommand({} as never))),
        cliRefused('DeploymentGroupNameRequiredException', 'list-deployments', '--application-name', 'web'),
        sdkRefused('InvalidDeploymentStatusException', send(new ListDeploymentsCommand({ includeOnlyStatuses: ['Done' as never] }))),
        cliRefused('DeploymentDoesNotExistException', 'stop-deployment', '--deployment-id', 'd-NOPE00000'),
        sdkRefused('DeploymentIdRequiredException', send(new StopDeploymentCommand({ deploymentId: '' }))),
        cliRefused('InvalidDeploymentInstanceTypeException', 'list-deployment-targets', '--deployment-id', cliId, '--target-filters', 'ServerInstanceLabel=Green'),
        sdkRefused('DeploymentDoesNotExistException', send(new ListDeploymentTargetsCommand({ deploymentId: 'd-NOPE00000' }))),
        cliRefused('DeploymentTargetDoesNotExistException', 'get-deployment-target', '--deployment-id', cliId, '--target-id', 'h9'),
        sdkRefused('DeploymentTargetIdRequiredException', send(new GetDeploymentTargetCommand({ deploymentId: sdkId } as never))),
        cliRefused('DeploymentTargetListSizeExceededException', 'batch-get-deployment-targets', '--deployment-id', cliId, '--target-ids', ...Array.from({ length: 26 }, () => 'h1')),
        sdkRefused('DeploymentTargetDoesNotExistException', send(new BatchGetDeploymentTargetsCommand({ deploymentId: sdkId, targetIds: ['h9'] }))),
        cliRefused('InvalidInstanceStatusException', 'list-deployment-instances', '--deployment-id', cliId, '--instance-status-filter', 'Done'),
        sdkRefused('InvalidDeploymentInstanceTypeException', send(new ListDeploymentInstancesCommand({ deploymentId: sdkId, instanceTypeFilter: ['Blue'] }))),
        cliRefused('InstanceDoesNotExistException', 'get-deployment-instance', '--deployment-id', cliId, '--instance-id', 'h9'),
        sdkRefused('InstanceIdRequiredException', send(new GetDeploymentInstanceCommand({ deploymentId: sdkId, instanceId: '' }))),
        cliRefused('BatchLimitExceededException', 'batch-get-deployment-instances', '--deployment-id', cliId, '--instance-ids', ...Array.from({ length: 26 }, () => 'h1')),
        sdkRefused('InstanceIdRequiredException', send(new BatchGetDeploymentInstancesCommand({ deploymentId: sdkId, instanceIds: [] }))),
      ]);
      expect(h.store.listDeploymentIds({})).toEqual(before);
    });

    it('refuses blue/green and Lambda/ECS actions on in-place Server deployments, as CodeDeploy does', async () => {
      await Promise.all([
        cliRefused('UnsupportedActionForDeploymentTypeException', 'continue-deployment', '--deployment-id', cliId),
        sdkRefused('UnsupportedActionForDeploymentTypeException', send(new ContinueDeploymentCommand({ deploymentId: sdkId, deploymentWaitType: 'TERMINATION_WAIT' }))),
        cliRefused('DeploymentDoesNotExistException', 'continue-deployment', '--deployment-id', 'd-NOPE00000'),
        sdkRefused('InvalidDeploymentWaitTypeException', send(new ContinueDeploymentCommand({ deploymentId: sdkId, deploymentWaitType: 'SOON' as never }))),
        cliRefused('UnsupportedActionForDeploymentTypeException', 'skip-wait-time-for-instance-termination', '--deployment-id', cliId),
        sdkRefused('DeploymentDoesNotExistException', send(new SkipWaitTimeForInstanceTerminationCommand({ deploymentId: 'd-NOPE00000' }))),
        sdkRefused('UnsupportedActionForDeploymentTypeException', send(new SkipWaitTimeForInstanceTerminationCommand({ deploymentId: sdkId }))),
        cliRefused('UnsupportedActionForDeploymentTypeException', 'put-lifecycle-event-hook-execution-status', '--deployment-id', cliId, '--lifecycle-event-hook-execution-id', 'x', '--status', 'Succeeded'),
        sdkRefused('InvalidLifecycleEventHookExecutionStatusException', send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: sdkId, lifecycleEventHookExecutionId: 'x', status: 'Pending' }))),
        sdkRefused('UnsupportedActionForDeploymentTypeException', send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: sdkId, lifecycleEventHookExecutionId: 'x', status: 'Failed' }))),
        cliRefused('DeploymentDoesNotExistException', 'put-lifecycle-event-hook-execution-status', '--deployment-id', 'd-NOPE00000', '--lifecycle-event-hook-execution-id', 'x', '--status', 'Failed'),
      ]);
      expect(h.store.getDeployment(cliId)?.status).toBe('Created');
    });

    it('DeleteResourcesByExternalId has nothing to delete', async () => {
      const [cliOut, sdkOut] = await Promise.all([
        cli('delete-resources-by-external-id', '--external-id', 'stack-1'),
        send<sdkCommands.DeleteResourcesByExternalIdCommandOutput>(new DeleteResourcesByExternalIdCommand({ externalId: 'stack-2' })),
      ]);
      expect(cliOut ?? {}).toEqual({});
      expect(sdkOut.$metadata.httpStatusCode).toBe(200);
      await Promise.all([
        cliRefused('InvalidExternalIdException', 'delete-resources-by-external-id', '--external-id', 'x'.repeat(201)),
        sdkRefused('InvalidExternalIdException', send(new DeleteResourcesByExternalIdCommand({ externalId: 'x'.repeat(201) }))),
      ]);
    });
  });

  describe('resource tags through the AWS CLI and the SDK', { timeout: 120_000 }, () => {
    const app = `${PREFIX}:application:tagged`;
    const group = `${PREFIX}:deploymentgroup:tagged/g`;
    beforeAll(async () => {
      await send(new CreateApplicationCommand({ applicationName: 'tagged' }));
      await send(new CreateDeploymentGroupCommand({ applicationName: 'tagged', deploymentGroupName: 'g', serviceRoleArn: ROLE, tags: [{ Key: 'env', Value: 'prod' }] }));
    });

    it('tags, lists and untags applications and deployment groups', async () => {
      await Promise.all([
        cli('tag-resource', '--resource-arn', app, '--tags', 'Key=team,Value=web', 'Key=cost,Value=42'),
        send(new TagResourceCommand({ ResourceArn: group, Tags: [{ Key: 'tier', Value: 'front' }] })),
      ]);
      const [cliList, sdkList] = await Promise.all([
        cli('list-tags-for-resource', '--resource-arn', app),
        send<sdkCommands.ListTagsForResourceCommandOutput>(new ListTagsForResourceCommand({ ResourceArn: group })),
      ]);
      expect(cliList.Tags).toEqual([{ Key: 'team', Value: 'web' }, { Key: 'cost', Value: '42' }]);
      expect(sdkList.Tags).toEqual([{ Key: 'env', Value: 'prod' }, { Key: 'tier', Value: 'front' }]);
      await Promise.all([
        cli('untag-resource', '--resource-arn', app, '--tag-keys', 'cost'),
        send(new UntagResourceCommand({ ResourceArn: group, TagKeys: ['env', 'tier'] })),
      ]);
      expect((await cli('list-tags-for-resource', '--resource-arn', app)).Tags).toEqual([{ Key: 'team', Value: 'web' }]);
      expect((await send<sdkCommands.ListTagsForResourceCommandOutput>(new ListTagsForResourceCommand({ ResourceArn: group }))).Tags).toEqual([]);
    });

    it('refuses with CodeDeploy exception names and changes nothing', async () => {
      await Promise.all([
        cliRefused('ArnNotSupportedException', 'tag-resource', '--resource-arn', `${PREFIX}:deploymentconfig:CodeDeployDefault.OneAtATime`, '--tags', 'Key=a,Value=b'),
        sdkRefused('InvalidTagsToAddException', send(new TagResourceCommand({ ResourceArn: app, Tags: [{ Key: 'aws:name', Value: 'x' }] }))),
        sdkRefused('TagRequiredException', send(new TagResourceCommand({ ResourceArn: app, Tags: [] }))),
        cliRefused('DeploymentGroupDoesNotExistException', 'untag-resource', '--resource-arn', `${PREFIX}:deploymentgroup:tagged/nope`, '--tag-keys', 'team'),
        sdkRefused('InvalidArnException', send(new UntagResourceCommand({ ResourceArn: 'not-an-arn', TagKeys: ['team'] }))),
        cliRefused('ApplicationDoesNotExistException', 'list-tags-for-resource', '--resource-arn', `${PREFIX}:application:nope`),
        sdkRefused('InvalidArnException', send(new ListTagsForResourceCommand({ ResourceArn: 'arn:aws:codedeploy:eu-west-1:000000000000:application:tagged' }))),
      ]);
      expect((await send<sdkCommands.ListTagsForResourceCommandOutput>(new ListTagsForResourceCommand({ ResourceArn: app }))).Tags).toEqual([{ Key: 'team', Value: 'web' }]);
    });
  });

  describe('GitHub connections through the AWS CLI and the SDK', { timeout: 120_000 }, () => {
    it('lists none without a github_token, and deletes none', async () => {
      const [cliOut, sdkOut] = await Promise.all([cli('list-git-hub-account-token-names'), send<sdkCommands.ListGitHubAccountTokenNamesCommandOutput>(new ListGitHubAccountTokenNamesCommand({}))]);
      expect(cliOut.tokenNameList).toEqual([]);
      expect(sdkOut.tokenNameList).toEqual([]);
      await Promise.all([
        cliRefused('InvalidNextTokenException', 'list-git-hub-account-token-names', '--starting-token', 'garbage'),
        sdkRefused('InvalidNextTokenException', send(new ListGitHubAccountTokenNamesCommand({ nextToken: 'garbage' }))),
        cliRefused('GitHubAccountTokenDoesNotExistException', 'delete-git-hub-account-token', '--token-name', 'mine'),
        sdkRefused('GitHubAccountTokenNameRequiredException', send(new DeleteGitHubAccountTokenCommand({}))),
      ]);
    });

    it('cannot delete the configured github_token through the API', async () => {
      const withToken = await startApiHarness({ githubToken: 'ghp_test' });
      const client = codeDeployClient(withToken.endpoint);
      try {
        expect((await aws(withToken.endpoint, ['deploy', 'list-git-hub-account-token-names'])).json.tokenNameList).toEqual(['github_token']);
        viaSdk.add('DeleteGitHubAccountToken');
        await sdkRefused('OperationNotSupportedException', client.send(new DeleteGitHubAccountTokenCommand({ tokenName: 'github_token' })));
      } finally {
        client.destroy();
        await withToken.close();
      }
    });
  });

  describe('coverage', { timeout: 120_000 }, () => {
    // api-resources.test.ts calls these through both clients.
    const elsewhere = [
      'RegisterOnPremisesInstance', 'DeregisterOnPremisesInstance', 'GetOnPremisesInstance', 'BatchGetOnPremisesInstances', 'ListOnPremisesInstances',
      'AddTagsToOnPremisesInstances', 'RemoveTagsFromOnPremisesInstances', 'CreateDeploymentConfig', 'GetDeploymentConfig', 'ListDeploymentConfigs',
      'DeleteDeploymentConfig', 'CreateDeploymentGroup', 'GetDeploymentGroup', 'BatchGetDeploymentGroups', 'ListDeploymentGroups', 'UpdateDeploymentGroup',
      'DeleteDeploymentGroup', 'RegisterApplicationRevision', 'GetApplicationRevision', 'BatchGetApplicationRevisions', 'ListApplicationRevisions',
    ];

    it('every operation the coordinator serves is called through the CLI and through the SDK', () => {
      const served = Object.keys(operations).sort();
      expect(served.filter((op) => !viaCli.has(op) && !elsewhere.includes(op))).toEqual([]);
      expect(served.filter((op) => !viaSdk.has(op) && !elsewhere.includes(op))).toEqual([]);
      expect([...viaCli].filter((op) => !served.includes(op))).toEqual([]); // the CLI command names map back to operations
    });
  });
});
