/**
 * Guided failure and the OnFailure hook with real processes: a coordinator, three enrolled agents,
 * the built `fleetdeploy` CLI and the AWS CLI. A revision's AfterInstall fails on one host (its script
 * reads a marker file); the deployment waits for an operator, across a coordinator restart, while the
 * host's OnFailure hook has cleaned up; once the marker is gone, `fleetdeploy resolve --retry` makes
 * the deployment succeed without deploying to the other hosts again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { CodeDeployClient, GetDeploymentInstanceCommand } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { startAgent } from './harness/agents.js';
import type { AgentProcess } from './harness/agents.js';
import { expectOneErrorLine, runCli, userEnvironment, watchUntil } from './harness/cli.js';
import type { CliRun } from './harness/cli.js';
import { aws } from './harness/aws-cli.js';
import { eventually } from './harness/eventually.js';
import { describeWithTools } from './harness/system-tools.js';

const HOSTS = ['web-1', 'web-2', 'web-3'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-guided-'));
const journal = path.join(dir, 'journal');
let coordinator: CoordinatorProcess;
let env: NodeJS.ProcessEnv;
const agents: AgentProcess[] = [];
/** SLOW is a test's time limit: each CLI run starts Node and the SDK, and three hosts deploy one at a time. */
const SLOW = 180_000;

const fleetdeploy = (...args: string[]): Promise<CliRun> => runCli(args, env, dir);
async function ok(...args: string[]): Promise<CliRun> {
  const r = await fleetdeploy(...args);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r;
}
const sdk = (): CodeDeployClient => new CodeDeployClient({ endpoint: coordinator.apiUrl, region: 'us-east-1', credentials: coordinator.credentials, maxAttempts: 1 });
const agentOf = (name: string): AgentProcess => agents.find((a) => a.name === name)!;
/** runs counts how often each host ran AfterInstall, from the scripts' journal. */
function runs(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of fs.existsSync(journal) ? fs.readFileSync(journal, 'utf8').trim().split('\n') : []) counts[l] = (counts[l] ?? 0) + 1;
  return counts;
}

beforeAll(async () => {
  coordinator = await startCoordinator();
  env = userEnvironment(coordinator, dir);
  await ok('app', 'create', 'shop');
  for (const h of HOSTS) {
    await ok('instance', 'register', h, '--tag', 'role=web');
    agents.push(await startAgent(h, coordinator, dir));
  }
  const site = path.join(dir, 'site');
  fs.mkdirSync(path.join(site, 'hooks'), { recursive: true });
  fs.mkdirSync(path.join(site, 'www'), { recursive: true });
  fs.writeFileSync(path.join(site, 'www/index.html'), 'shop\n');
  fs.writeFileSync(path.join(site, 'appspec.yml'), [
    'version: 0.0', 'os: linux',
    'files:', '  - source: www', '    destination: /srv/shop',
    'hooks:',
    '  AfterInstall:', '    - location: hooks/check.sh', '      timeout: 30',
    '  OnFailure:', '    - location: hooks/cleanup.sh', '      timeout: 30', '',
  ].join('\n'));
  // The host is named by its destination root (<dir>/<host>/files); the marker file breaks it.
  fs.writeFileSync(path.join(site, 'hooks/check.sh'), [
    '#!/bin/sh',
    'host=$(basename "$(dirname "$FLEETDEPLOY_DESTINATION_ROOT")")',
    `echo "$host" >> ${journal}`,
    'if [ -f "$FLEETDEPLOY_DESTINATION_ROOT/broken" ]; then echo "settings missing on $host" >&2; exit 3; fi', '',
  ].join('\n'), { mode: 0o755 });
  fs.writeFileSync(path.join(site, 'hooks/cleanup.sh'), '#!/bin/sh\necho "$LIFECYCLE_EVENT after $FLEETDEPLOY_FAILED_EVENT ($FLEETDEPLOY_FAILED_ERROR_CODE)" >> "$FLEETDEPLOY_DESTINATION_ROOT/cleanup.log"\n', { mode: 0o755 });
}, SLOW);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await coordinator?.stop('SIGKILL');
});

describeWithTools(['aws'], 'guided failure', () => {
  it('the AWS CLI refuses onInstanceFailure itself (it validates CodeDeploy\'s fields), so fleetdeploy group sets it', async () => {
    await ok('group', 'create', '-a', 'shop', 'web', '--tag', 'role=web');
    const refused = await aws(coordinator, ['deploy', 'update-deployment-group', '--cli-input-json', JSON.stringify({ applicationName: 'shop', currentDeploymentGroupName: 'web', onInstanceFailure: 'guided' })]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Unknown parameter in input: "onInstanceFailure"');
    expectOneErrorLine(await fleetdeploy('group', 'on-failure', '-a', 'shop', 'web', 'pause'), /^ERROR: the mode is guided or fail, got "pause"$/);
    const set = await ok('group', 'on-failure', '-a', 'shop', 'web', 'guided');
    expect(set.stdout).toBe('shop/web: onInstanceFailure guided: an in-place deployment that has an instance fail waits for fleetdeploy resolve DEPLOYMENT INSTANCE --retry|--skip|--fail\n');
    const shown = JSON.parse((await aws(coordinator, ['deploy', 'get-deployment-group', '--application-name', 'shop', '--deployment-group-name', 'web', '--output', 'json'])).stdout) as { deploymentGroupInfo: { deploymentGroupName: string } };
    expect(shown.deploymentGroupInfo.deploymentGroupName).toBe('web'); // the AWS CLI still reads the group
  }, SLOW);

  it('waits at the failed host (after its OnFailure cleanup), across a restart; retry after the fix succeeds without redeploying the others', async () => {
    fs.writeFileSync(path.join(agentOf('web-2').filesDir, 'broken'), '');
    const created = await ok('deploy', '-a', 'shop', '-g', 'web', '--bundle', path.join(dir, 'site'));
    const id = /Created deployment (d-[A-Z0-9]+)/.exec(created.stdout)?.[1];
    expect(id, created.stdout).toBeDefined();
    const watch = watchUntil(['status', id!, '--watch'], env, dir, 'waiting for an operator');
    await watch.reached;

    // Held at web-2: web-1 done, web-3 not started; status and the AWS CLI both say so and how to answer.
    const held = `guided failure: web-2 failed in AfterInstall (ScriptFailed); waiting for an operator: fleetdeploy resolve ${id} web-2 --retry|--skip|--fail`;
    await eventually(async () => expect((await ok('status', id!)).stdout).toContain(held), 30_000);
    const viaAws = JSON.parse((await aws(coordinator, ['deploy', 'get-deployment', '--deployment-id', id!, '--output', 'json'])).stdout) as { deploymentInfo: { status: string; deploymentStatusMessages: string[] } };
    expect(viaAws.deploymentInfo.status).toBe('InProgress');
    expect(viaAws.deploymentInfo.deploymentStatusMessages).toContain(held);
    expect(runs()).toEqual({ 'web-1': 1, 'web-2': 1 });
    // The OnFailure hook ran on web-2 and is reported beside the failure, which stays what ended it.
    expect(fs.readFileSync(path.join(agentOf('web-2').filesDir, 'cleanup.log'), 'utf8')).toBe('OnFailure after AfterInstall (ScriptFailed)\n');
    const client = sdk();
    const failed = (await client.send(new GetDeploymentInstanceCommand({ deploymentId: id!, instanceId: 'web-2' }))).instanceSummary!;
    expect(failed.status).toBe('Failed');
    expect(failed.lifecycleEvents!.map((e) => `${e.lifecycleEventName}:${e.status}`).slice(-4)).toEqual(['AfterInstall:Failed', 'ApplicationStart:Skipped', 'ValidateService:Skipped', 'OnFailure:Succeeded']);
    client.destroy();

    // The pause is in the store: a restarted coordinator still waits, and nothing has moved meanwhile.
    const apiPort = Number(new URL(coordinator.apiUrl).port);
    const agentPort = Number(coordinator.agentAddress.split(':').at(-1));
    // its own enrolment port too: the default (next to the agents' port) may be some connection's ephemeral port
    const enrolPort = coordinator.enrolAddress.split(':').at(-1)!;
    await coordinator.stop('SIGTERM');
    coordinator = await startCoordinator({ dataDir: coordinator.dataDir, apiPort, agentPort, args: ['--enrol-port', enrolPort] });
    expect((await ok('status', id!)).stdout).toContain(held);
    expect(runs()).toEqual({ 'web-1': 1, 'web-2': 1 });

    // Mistakes are refused with what is wrong: no action, the wrong host, a read-only key.
    expectOneErrorLine(await fleetdeploy('resolve', id!, 'web-2'), /^ERROR: say what to do with the failed instance: --retry, --skip or --fail$/);
    expectOneErrorLine(await fleetdeploy('resolve', id!, 'web-1', '--retry'), new RegExp(`^ERROR: ResolveInstanceFailure: InstanceNotWaitingException: deployment ${id} is not waiting on instance web-1 \\(it waits on web-2\\)$`));
    const readOnly = await createKey('read-only');
    const readOnlyEnv = { ...env, AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'read-only-credentials') };
    fs.writeFileSync(readOnlyEnv.AWS_SHARED_CREDENTIALS_FILE, `[default]\naws_access_key_id = ${readOnly.id}\naws_secret_access_key = ${readOnly.secret}\n`);
    expectOneErrorLine(await runCli(['resolve', id!, 'web-2', '--retry'], readOnlyEnv, dir), /AccessDeniedException: The access key \S+ \(role read-only\) is not authorized to perform: codedeploy:ResolveInstanceFailure/);
    expect((await ok('status', id!)).stdout).toContain(held);

    // The fix, then retry: web-2 runs again from the start, web-3 follows, web-1 is left alone.
    fs.rmSync(path.join(agentOf('web-2').filesDir, 'broken'));
    const resolved = await ok('resolve', id!, 'web-2', '--retry');
    expect(resolved.stdout).toBe(`Resolved ${id}: web-2 runs its lifecycle again from the start (a new attempt; the other instances are left as they are); fleetdeploy status ${id} --watch follows it\n`);
    const finished = await ok('status', id!, '--watch');
    expect(finished.stdout).toMatch(new RegExp(`Deployment ${id} Succeeded: 3 succeeded, 0 failed, 0 skipped`));
    expect(runs()).toEqual({ 'web-1': 1, 'web-2': 2, 'web-3': 1 });
    for (const h of HOSTS) expect(fs.readFileSync(path.join(agentOf(h).filesDir, 'srv/shop/index.html'), 'utf8')).toBe('shop\n');
    const after = sdk();
    const retried = (await after.send(new GetDeploymentInstanceCommand({ deploymentId: id!, instanceId: 'web-2' }))).instanceSummary!;
    expect(retried.status).toBe('Succeeded');
    expect(retried.lifecycleEvents!.map((e) => e.status)).toEqual(Array(7).fill('Succeeded')); // the new attempt's events
    after.destroy();
    expectOneErrorLine(await fleetdeploy('resolve', id!, 'web-2', '--skip'), new RegExp(`InstanceNotWaitingException: deployment ${id} has ended \\(Succeeded\\); it waits on no instance$`));
    await watch.done;
  }, SLOW);
});

/** createKey runs `fleetdeploy-coordinator keys create --role ROLE` and reads the new key. */
function createKey(role: string): Promise<{ id: string; secret: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [COORDINATOR_BIN, 'keys', 'create', '--role', role, '--data-dir', coordinator.dataDir], (err, stdout, stderr) => {
      const id = /^aws_access_key_id = (\S+)$/m.exec(stdout)?.[1];
      const secret = /^aws_secret_access_key = (\S+)$/m.exec(stdout)?.[1];
      if (err || id === undefined || secret === undefined) reject(new Error(`keys create exited: ${stderr}`));
      else resolve({ id, secret });
    });
  });
}
