/**
 * The operator's resource commands of `fleetdeploy` (app, group, instance register, revisions, and
 * `--output json` on the reads) against a real coordinator, run as the built program with only the
 * environment a user has. The instance's agent is enrolled with the very command `instance register`
 * prints, then takes a deployment to the group that the CLI created.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CodeDeployClient, GetDeploymentGroupCommand, GetOnPremisesInstanceCommand, UpdateDeploymentGroupCommand } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { AGENT_BIN, startAgent, writeAgentConfig } from './harness/agents.js';
import type { AgentProcess } from './harness/agents.js';
import { probeBundle } from './harness/bundles.js';
import { expectOneErrorLine, runCli, userEnvironment } from './harness/cli.js';
import type { CliRun } from './harness/cli.js';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:deploys';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-operator-'));
let coordinator: CoordinatorProcess;
let env: NodeJS.ProcessEnv;
let sdk: CodeDeployClient;
const agents: AgentProcess[] = [];

const fleetdeploy = (...args: string[]): Promise<CliRun> => runCli(args, env, dir);

/** SLOW is a test's time limit: each CLI run starts Node and the SDK (1-3 s on a busy machine), and a test makes up to ten. */
const SLOW = 120_000;

/** ok runs the CLI and expects exit 0 with nothing on standard error. */
async function ok(...args: string[]): Promise<CliRun> {
  const r = await fleetdeploy(...args);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return r;
}

/** json runs a read command with --output json and parses its one document. */
async function json<T>(...args: string[]): Promise<T> {
  return JSON.parse((await ok(...args, '--output', 'json')).stdout) as T;
}

/** run is a finished program (the agent's enrol). */
function run(file: string, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  coordinator = await startCoordinator();
  env = userEnvironment(coordinator, dir);
  sdk = new CodeDeployClient({ endpoint: coordinator.apiUrl, region: 'us-east-1', credentials: coordinator.credentials, maxAttempts: 1 });
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await coordinator?.stop('SIGKILL');
  sdk?.destroy();
});

describe('app', () => {
  it('creates applications (Server unless told), lists them as a table or JSON, and deletes one with its groups', async () => {
    const created = await ok('app', 'create', 'shop');
    expect(created.stdout).toMatch(/^Created application shop \(Server, id [0-9a-f-]{36}\)\.\nNext: fleetdeploy group create -a shop GROUP --tag KEY=VALUE\n$/);
    await ok('app', 'create', 'containers', '--compute-platform', 'ecs');
    await ok('app', 'create', 'scratch');
    await ok('group', 'create', '-a', 'scratch', 'one');
    await ok('group', 'create', '-a', 'scratch', 'two');

    const table = (await ok('app', 'list')).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^NAME\s+PLATFORM\s+CREATED$/);
    expect(table.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([['containers', 'ECS'], ['scratch', 'Server'], ['shop', 'Server']]);
    expect(table[1]).toMatch(/ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const listed = await json<{ applications: { applicationName: string; computePlatform: string; createTime: string }[] }>('app', 'list');
    expect(listed.applications.map((a) => [a.applicationName, a.computePlatform])).toEqual([['containers', 'ECS'], ['scratch', 'Server'], ['shop', 'Server']]);
    expect(Date.parse(listed.applications[0]!.createTime)).toBeGreaterThan(Date.now() - 60_000);

    expect((await ok('app', 'delete', 'scratch')).stdout).toBe('Deleted application scratch and its deployment groups one, two.\n');
    expect((await json<{ applications: unknown[] }>('app', 'list')).applications).toHaveLength(2);
  }, SLOW);

  it('says no applications exist yet instead of printing an empty table', async () => {
    const other = await startCoordinator();
    try {
      const r = await runCli(['app', 'list'], userEnvironment(other, fs.mkdtempSync(path.join(os.tmpdir(), 'fd-operator-empty-'))), dir);
      expect(r.stdout).toBe('No applications yet: create one with fleetdeploy app create NAME\n');
    } finally {
      await other.stop('SIGKILL');
    }
  }, SLOW);

  it('errors: an existing name, an unknown platform, deleting an unknown application', async () => {
    expectOneErrorLine(await fleetdeploy('app', 'create', 'shop'), /^ERROR: CreateApplication shop: ApplicationAlreadyExistsException: shop already exists$/);
    expectOneErrorLine(await fleetdeploy('app', 'create', 'x', '--compute-platform', 'EC2'), /^ERROR: --compute-platform "EC2": use ECS, Lambda, Server$/);
    expectOneErrorLine(await fleetdeploy('app', 'delete', 'no-such-app'), /^ERROR: GetApplication no-such-app: ApplicationDoesNotExistException: No application found for name: no-such-app$/);
    expectOneErrorLine(await fleetdeploy('app', 'list', '--output', 'yaml'), /argument 'yaml' is invalid\. Allowed choices are text, json/);
  }, SLOW);
});

describe('group', () => {
  it('creates a group from flags, filling in the service role, and shows it as the coordinator stored it', async () => {
    const r = await ok(
      'group', 'create', '-a', 'shop', 'web',
      '--tag', 'role=web', '--tag', 'canary', '--tag', '=blue',
      '--config', 'CodeDeployDefault.AllAtOnce',
      '--auto-rollback', 'DEPLOYMENT_FAILURE,deployment_stop_on_request',
      '--alarm', 'cpu-high', '--alarm', 'errors-5xx',
      '--trigger', `name=ops,target=${TOPIC},events=DeploymentFailure,DeploymentStop`,
    );
    expect(r.stdout.split('\n')).toEqual([
      expect.stringMatching(/^Created deployment group web in shop \(id [0-9a-f-]{36}\)\.$/),
      '  instances:  tagged role=web|canary|=blue',
      '  config:     CodeDeployDefault.AllAtOnce',
      '  rollback:   on DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_REQUEST',
      '  alarms:     cpu-high,errors-5xx',
      `  trigger:    ops → ${TOPIC} on DeploymentFailure, DeploymentStop`,
      'Deploy to it: fleetdeploy deploy -a shop -g web --bundle DIR --watch',
      '',
    ]);
    const { deploymentGroupInfo: g } = await sdk.send(new GetDeploymentGroupCommand({ applicationName: 'shop', deploymentGroupName: 'web' }));
    expect(g?.serviceRoleArn).toBe('arn:aws:iam::000000000000:role/fleetdeploy');
    expect(g?.onPremisesInstanceTagFilters).toEqual([
      { Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' },
      { Key: 'canary', Type: 'KEY_ONLY' },
      { Value: 'blue', Type: 'VALUE_ONLY' },
    ]);
    expect(g?.autoRollbackConfiguration).toEqual({ enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] });
    expect(g?.alarmConfiguration).toEqual({ enabled: true, ignorePollAlarmFailure: false, alarms: [{ name: 'cpu-high' }, { name: 'errors-5xx' }] });
    expect(g?.triggerConfigurations).toEqual([{ triggerName: 'ops', triggerTargetArn: TOPIC, triggerEvents: ['DeploymentFailure', 'DeploymentStop'] }]);

    const bare = await ok('group', 'create', '-a', 'shop', 'empty', '--service-role-arn', 'arn:aws:iam::123456789012:role/mine');
    expect(bare.stdout).toContain('  instances:  none (no --tag given)\n  config:     CodeDeployDefault.OneAtATime\n  rollback:   off\nDeploy to it:');
    expect((await sdk.send(new GetDeploymentGroupCommand({ applicationName: 'shop', deploymentGroupName: 'empty' }))).deploymentGroupInfo?.serviceRoleArn).toBe('arn:aws:iam::123456789012:role/mine');
  }, SLOW);

  it('lists an application\'s groups as a table or JSON', async () => {
    const table = (await ok('group', 'list', '-a', 'shop')).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^NAME\s+CONFIG\s+INSTANCES\s+ROLLBACK\s+ALARMS\s+TRIGGERS\s+LAST DEPLOYMENT$/);
    expect(table.slice(1).map((l) => l.split(/\s+/))).toEqual([
      ['empty', 'CodeDeployDefault.OneAtATime', '-', '-', '-', '-', '-'],
      ['web', 'CodeDeployDefault.AllAtOnce', 'role=web|canary|=blue', 'DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_REQUEST', 'cpu-high,errors-5xx', 'ops', '-'],
    ]);
    const listed = await json<{ applicationName: string; deploymentGroups: { deploymentGroupName: string; deploymentConfigName: string }[] }>('group', 'list', '-a', 'shop');
    expect(listed.applicationName).toBe('shop');
    expect(listed.deploymentGroups.map((g) => [g.deploymentGroupName, g.deploymentConfigName])).toEqual([['empty', 'CodeDeployDefault.OneAtATime'], ['web', 'CodeDeployDefault.AllAtOnce']]);
    expect((await ok('group', 'list', '-a', 'containers')).stdout).toBe('No deployment groups in containers yet: create one with fleetdeploy group create -a containers NAME --tag KEY=VALUE\n');
  }, SLOW);

  it('errors: each bad flag named, an unknown application or configuration, a group that exists', async () => {
    const create = (...flags: string[]): Promise<CliRun> => fleetdeploy('group', 'create', '-a', 'shop', 'bad', ...flags);
    expectOneErrorLine(await create('--tag', 'role='), /^ERROR: --tag "role=": the value is empty: give role=VALUE, or role alone to match any value$/);
    expectOneErrorLine(await create('--tag', '='), /^ERROR: --tag "=": give KEY=VALUE, KEY \(any value\) or =VALUE \(any key\)$/);
    expectOneErrorLine(await create('--auto-rollback', 'DEPLOYMENT_FAILURE,ON_FAILURE'), /^ERROR: --auto-rollback: "ON_FAILURE" is not one of DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST$/);
    expectOneErrorLine(await create('--trigger', 'name=ops,events=DeploymentFailure'), /^ERROR: --trigger "name=ops,events=DeploymentFailure": target= is missing/);
    expectOneErrorLine(await create('--trigger', `name=ops,target=${TOPIC},events=Failure`), /"Failure" is not a trigger event; use DeploymentFailure, /);
    expectOneErrorLine(await create('--config', 'CodeDeployDefault.Nope'), /^ERROR: CreateDeploymentGroup shop\/bad: DeploymentConfigDoesNotExistException: /);
    expectOneErrorLine(await fleetdeploy('group', 'create', '-a', 'no-such-app', 'web'), /^ERROR: CreateDeploymentGroup no-such-app\/web: ApplicationDoesNotExistException: No application found for name: no-such-app$/);
    expectOneErrorLine(await fleetdeploy('group', 'create', '-a', 'shop', 'web'), /DeploymentGroupAlreadyExistsException: A deployment group named web already exists in application shop$/);
    expectOneErrorLine(await fleetdeploy('group', 'create', 'web'), /required option '-a, --application <name>' not specified/);
    expectOneErrorLine(await fleetdeploy('group', 'list', '-a', 'no-such-app'), /^ERROR: ListDeploymentGroups no-such-app: ApplicationDoesNotExistException: /);
    // nothing was created by the refused commands
    expect((await json<{ deploymentGroups: unknown[] }>('group', 'list', '-a', 'shop')).deploymentGroups).toHaveLength(2);
  }, SLOW);
});

describe('instance register, enrol with the printed command, deploy, revisions', () => {
  let enrolLine: string;
  let registered: CliRun;

  beforeAll(async () => {
    registered = await ok('instance', 'register', 'web-01', '--tag', 'role=web', '--tag', 'env=prod', '--agent-config', path.join(dir, 'web-01', 'agent.yml'));
    enrolLine = registered.stdout.split('\n').find((l) => l.startsWith('  fleetdeploy-agent enrol '))?.trim() ?? '';
  }, SLOW);

  it('registers and tags the instance and prints the commands to run on it, with the token and the enrolment port', async () => {
    const lines = registered.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Registered on-premises instance web-01 with tags role=web, env=prod.');
    const config = path.join(dir, 'web-01', 'agent.yml');
    expect(lines[1]).toBe(`On web-01, with the agent installed and ${config} naming instance_name: web-01 and coordinator: <this host>:<agents' port>, run:`);
    expect(lines[2]).toBe(`  fleetdeploy-agent enrol --coordinator ${coordinator.enrolAddress} --token ${/--token (\S+)/.exec(lines[2]!)?.[1]} --config ${config}`);
    expect(lines[2]).toMatch(/--token fde1\.[\w-]+\.[\w-]+\.[\w-]+ /);
    expect(lines[3]).toBe(`  fleetdeploy-agent run --config ${config}`);
    // the printed token is the one the coordinator wrote for the host
    expect(fs.readFileSync(path.join(coordinator.dataDir, 'enrolment', 'web-01.token'), 'utf8').trim()).toBe(/--token (\S+)/.exec(lines[2]!)?.[1]);
    const { instanceInfo } = await sdk.send(new GetOnPremisesInstanceCommand({ instanceName: 'web-01' }));
    expect(instanceInfo?.iamUserArn).toBe('arn:aws:iam::000000000000:user/web-01');
    expect(instanceInfo?.tags).toEqual([{ Key: 'role', Value: 'web' }, { Key: 'env', Value: 'prod' }]);
  }, SLOW);

  it('the printed enrol command enrols the agent, which then takes a deployment to the group', async () => {
    const { configFile } = writeAgentConfig('web-01', coordinator.agentAddress, dir);
    const args = enrolLine.split(' ').slice(1); // what the operator pastes, with our agent program
    const enrolled = await run(AGENT_BIN, args);
    expect(enrolled.code, enrolled.stdout + enrolled.stderr).toBe(0);
    expect(args.at(-1)).toBe(configFile);
    agents.push(await startAgent('web-01', coordinator, dir, { enrol: false }));

    const site = path.join(dir, 'site');
    for (const [rel, content] of Object.entries(probeBundle(path.join(dir, 'journal'), { sleepSeconds: 0, destination: '/srv/shop' }))) {
      fs.mkdirSync(path.dirname(path.join(site, rel)), { recursive: true });
      fs.writeFileSync(path.join(site, rel), content, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
    }
    // The group names alarms that no CloudWatch here can answer for, and a deployment whose alarms
    // cannot be read stops (test/fleet/alarms.test.ts pins that); this test is about enrolment.
    await sdk.send(new UpdateDeploymentGroupCommand({ applicationName: 'shop', currentDeploymentGroupName: 'web', alarmConfiguration: { enabled: false, alarms: [] } }));
    const deployed = await fleetdeploy('deploy', '-a', 'shop', '-g', 'web', '--bundle', site, '--description', 'first cut', '--watch');
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stdout).toMatch(/Succeeded: 1 succeeded, 0 failed, 0 skipped/);
    expect(fs.readFileSync(path.join(agents[0]!.filesDir, 'srv/shop/index.html'), 'utf8')).toContain('probe');
  }, SLOW);

  it('revisions lists the deployed revision with its times, groups and description, as a table or JSON', async () => {
    const table = (await ok('revisions', '-a', 'shop')).stdout.trimEnd().split('\n');
    expect(table[0]).toMatch(/^LOCATION\s+REGISTERED\s+FIRST USED\s+LAST USED\s+GROUPS\s+DESCRIPTION$/);
    expect(table).toHaveLength(2);
    const time = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ';
    expect(table[1]).toMatch(new RegExp(`^s3://fleetdeploy-revisions/shop/site-\\d{8}T\\d{6}Z\\.zip \\(zip, ETag [0-9a-f]+\\)\\s+${time}\\s+${time}\\s+${time}\\s+web\\s+first cut$`));
    const listed = await json<{ applicationName: string; revisions: { revisionLocation: { s3Location: { bucket: string } }; genericRevisionInfo: { description: string; deploymentGroups: string[]; firstUsedTime: string } }[] }>('revisions', '-a', 'shop');
    expect(listed.revisions).toHaveLength(1);
    expect(listed.revisions[0]!.revisionLocation.s3Location.bucket).toBe('fleetdeploy-revisions');
    expect(listed.revisions[0]!.genericRevisionInfo).toMatchObject({ description: 'first cut', deploymentGroups: ['web'] });
    expect(Number.isNaN(Date.parse(listed.revisions[0]!.genericRevisionInfo.firstUsedTime))).toBe(false);

    expect((await ok('revisions', '-a', 'containers')).stdout).toBe('No revisions registered with containers yet: fleetdeploy push -a containers -s DIR --s3-location s3://BUCKET/KEY registers one\n');
    expectOneErrorLine(await fleetdeploy('revisions', '-a', 'no-such-app'), /^ERROR: ListApplicationRevisions no-such-app: ApplicationDoesNotExistException: /);
  }, SLOW);

  it('status --output json: one deployment with its instances, or the latest of an application', async () => {
    const latest = await json<{ deployments: { deploymentId: string; status: string; description: string }[] }>('status', '-a', 'shop');
    expect(latest.deployments).toHaveLength(1);
    const d = latest.deployments[0]!;
    expect(d).toMatchObject({ status: 'Succeeded', description: 'first cut' });
    const one = await json<{ deployment: { deploymentId: string; status: string }; instances: { targetId: string; status: string; lifecycleEvents: unknown[] }[] }>('status', d.deploymentId);
    expect(one.deployment).toMatchObject({ deploymentId: d.deploymentId, status: 'Succeeded' });
    expect(one.instances.map((i) => [i.targetId, i.status, i.lifecycleEvents.length])).toEqual([['web-01', 'Succeeded', 7]]);
    expectOneErrorLine(await fleetdeploy('status', d.deploymentId, '--watch', '--output', 'json'), /^ERROR: --output json shows a deployment once and --watch follows it as text: give one of them$/);
  }, SLOW);

  it('errors: a bad --tag before anything is registered, a name already registered', async () => {
    expectOneErrorLine(await fleetdeploy('instance', 'register', 'web-02', '--tag', 'role'), /^ERROR: --tag "role": an instance tag is KEY=VALUE, both non-empty, e.g\. role=web$/);
    await expect(sdk.send(new GetOnPremisesInstanceCommand({ instanceName: 'web-02' }))).rejects.toThrow(/not registered/);
    expectOneErrorLine(
      await fleetdeploy('instance', 'register', 'web-01'),
      /^ERROR: RegisterOnPremisesInstance web-01: InstanceNameAlreadyRegisteredException: .*; for a new enrolment token run fleetdeploy-coordinator enrol-token --instance web-01 --data-dir DATA_DIR on the coordinator's host, or deregister it first/,
    );
    expectOneErrorLine(await fleetdeploy('instance', 'register', 'bad name'), /^ERROR: RegisterOnPremisesInstance bad name: InvalidInstanceNameException: /);
  }, SLOW);
});
