/**
 * `fleetdeploy simulate --local-aws` and `npm run demo:lambda` as a user runs them: the built command
 * as a child process, moto_server as the local Lambda and CloudWatch endpoint, a real coordinator,
 * and hook functions played by the simulation's hook runner. Without moto_server both say in one
 * line what to install.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { CodeDeployClient, CreateApplicationCommand, CreateDeploymentCommand, CreateDeploymentGroupCommand, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { CreateAliasCommand, CreateFunctionCommand, GetAliasCommand, LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { CreateClusterCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeWithTools } from '../harness/system-tools.js';
import { eventually } from '../harness/eventually.js';
import { trustingCa } from '../harness/aws-cli.js';
import { lambdaAppSpec } from './lambda-world.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(REPO, 'packages/cli/bin/fleetdeploy.js');
const DEMO = path.join(REPO, 'scripts/demo-lambda.mjs');
/** NO_MOTO_PATH is a PATH with node and the usual system folders but no moto_server. */
const NO_MOTO_PATH = [path.dirname(process.execPath), '/usr/bin', '/bin'].filter((d) => !fs.existsSync(path.join(d, 'moto_server'))).join(path.delimiter);

interface Run {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

const running: ChildProcess[] = [];
/** run starts `node script args`; unless `outlivesTest`, the child is stopped after the test. */
function run(script: string, args: string[], env: NodeJS.ProcessEnv = process.env, outlivesTest = false): Run {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  if (!outlivesTest) running.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  return { child, stdout: () => out, stderr: () => err, exited: new Promise((resolve) => child.once('close', (code) => resolve(code))) };
}
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      await new Promise((r) => child.once('exit', r));
    }
  }
});

describe('without moto_server', () => {
  it('simulate --local-aws prints one ERROR line naming what to install and exits 1', async () => {
    const r = run(CLI, ['simulate', '--local-aws', '--port', '0'], { ...process.env, PATH: NO_MOTO_PATH });
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toBe('ERROR: moto_server is not on PATH: --local-aws needs the Python package moto[server] (pip install "moto[server]")\n');
  }, 30_000);

  it('npm run demo:lambda prints one ERROR line naming what to install and exits 1', async () => {
    const r = run(DEMO, [], { ...process.env, PATH: NO_MOTO_PATH });
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toMatch(/^ERROR: moto_server is not on PATH: --local-aws needs the Python package moto\[server\] \(pip install "moto\[server\]"\); npm run demo:lambda uses it as the local Lambda and CloudWatch endpoint\n$/);
    expect(r.stdout()).toBe('');
  }, 30_000);

  it('--lambda-hooks without --local-aws is a usage error', async () => {
    const r = run(CLI, ['simulate', '--lambda-hooks', 'hooks.json']);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toBe('ERROR: --lambda-hooks: the hook functions are played by the local AWS endpoint; give --local-aws too\n');
  });
});

describeWithTools(['moto_server'], 'npm run demo:lambda', () => {
  it('runs the walkthrough: a canary that succeeds, then an alarm that stops the next deployment and puts the alias back', async () => {
    const demo = run(DEMO, []);
    const code = await demo.exited;
    const out = demo.stdout();
    expect(code, `${out}\n${demo.stderr()}`).toBe(0);
    // the weights as they moved: 10 % on version 2, then all of it; 10 % on version 3, then back
    // (each deployment's follow starts by printing the alias, so a repeat between the two is dropped)
    const aliasLines = out.split('\n').filter((l) => /alias live:/.test(l)).map((l) => l.replace(/^.*alias live: /, '')).filter((l, i, all) => l !== all[i - 1]);
    expect(aliasLines).toEqual(['version 1 100 %', 'version 1 90 %, version 2 10 %', 'version 2 100 %', 'version 2 90 %, version 3 10 %', 'version 2 100 %']);
    expect(out).toMatch(/hook my-function-before-traffic: my-function version 2 is Active .* → Succeeded/);
    expect(out).toMatch(/deployment d-[A-Z0-9]{9} Stopped \(ALARM_ACTIVE: Stopped by alarm monitoring: CloudWatch reports alarm my-function-errors in the ALARM state\)/);
    // and fleetdeploy status shows each deployment's target, hooks and weight
    expect(out).toMatch(/^ {2}target: my-function:live {2}Succeeded {2}version 1 → 2 {2}█{20} {2}100 % on version 2$/m);
    expect(out).toMatch(/^ {2}target: my-function:live {2}Failed {2}version 2 → 3 {2}░{20} {2}100 % on version 2$/m);
    expect(out).toMatch(/: Succeeded; alias live on version 2 \(as expected\)/);
    expect(out).toMatch(/: Stopped ALARM_ACTIVE; alias live back on version 2 \(as expected\)/);
  }, 120_000);
});

describeWithTools(['moto_server'], 'fleetdeploy simulate --local-aws', () => {
  let sim: Run;
  let work: string;
  let lambda: LambdaClient;
  let codedeploy: CodeDeployClient;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-local-aws-'));
    fs.writeFileSync(path.join(work, 'hooks.json'), JSON.stringify({ checker: 'Failed', script: { run: 'test "$FUNCTION_NAME" = script' } }));
    sim = run(CLI, ['simulate', '--local-aws', '--agents', '1', '--port', '0', '--data-dir', path.join(work, 'sim'), '--lambda-hooks', path.join(work, 'hooks.json')], process.env, true);
    const printed = await eventually(() => {
      const out = sim.stdout();
      const m = /export AWS_ENDPOINT_URL_LAMBDA=(\S+) .*\n.*export AWS_ENDPOINT_URL_ECS=\S+ AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2=\S+ .*\n.*export AWS_ENDPOINT_URL_CODEDEPLOY=(\S+)/.exec(out);
      const key = /export AWS_ACCESS_KEY_ID=(\S+)/.exec(out)?.[1];
      const secret = /export AWS_SECRET_ACCESS_KEY=(\S+)/.exec(out)?.[1];
      const caFile = /export AWS_CA_BUNDLE=(\S+)/.exec(out)?.[1];
      if (m === null || key === undefined || secret === undefined || caFile === undefined) throw new Error(`no export lines yet:\n${out}\n${sim.stderr()}`);
      return { lambdaUrl: m[1]!, apiUrl: m[2]!, key, secret, caFile };
    }, 60_000, 100);
    // The same endpoint serves ECS (through the front, to moto), for the ECS walkthrough
    const ecs = new ECSClient({ region: 'us-east-1', endpoint: /export AWS_ENDPOINT_URL_ECS=(\S+)/.exec(sim.stdout())![1]!, credentials: { accessKeyId: printed.key, secretAccessKey: printed.secret }, maxAttempts: 1 });
    expect((await ecs.send(new CreateClusterCommand({ clusterName: 'sim' }))).cluster?.clusterName).toBe('sim');
    ecs.destroy();
    expect(sim.stdout()).toMatch(/^local AWS \(moto_server; Lambda, ECS, ELBv2, CloudWatch, SNS, IAM\): http:\/\/127\.0\.0\.1:\d+ {3}\(its log: .*moto\.log\)$/m);
    const credentials = { accessKeyId: printed.key, secretAccessKey: printed.secret };
    lambda = new LambdaClient({ region: 'us-east-1', endpoint: printed.lambdaUrl, credentials, maxAttempts: 1 });
    codedeploy = new CodeDeployClient({ region: 'us-east-1', endpoint: printed.apiUrl, credentials, maxAttempts: 1, ...trustingCa(printed.caFile) });
    // a function with versions 1 and 2 and the alias live on 1, made through the printed endpoint
    const role = await fetch(`${printed.lambdaUrl}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0' },
      body: 'Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument=%7B%7D',
    });
    expect(role.ok).toBe(true);
    const code = (v: string): Uint8Array => {
      const zip = new AdmZip();
      zip.addFile('index.py', Buffer.from(`def handler(e, c):\n    return "${v}"\n`));
      return zip.toBuffer();
    };
    await lambda.send(new CreateFunctionCommand({ FunctionName: 'fn', Runtime: 'python3.11', Role: 'arn:aws:iam::123456789012:role/r', Handler: 'index.handler', Code: { ZipFile: code('1') } }));
    await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'fn', ZipFile: code('2') }));
    await lambda.send(new PublishVersionCommand({ FunctionName: 'fn' }));
    await lambda.send(new CreateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: '1' }));
    await codedeploy.send(new CreateApplicationCommand({ applicationName: 'fn', computePlatform: 'Lambda' }));
    await codedeploy.send(new CreateDeploymentGroupCommand({ applicationName: 'fn', deploymentGroupName: 'live', serviceRoleArn: 'arn:aws:iam::123456789012:role/cd', deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' }));
  }, 120_000);
  afterAll(async () => {
    lambda?.destroy();
    codedeploy?.destroy();
    if (sim !== undefined && sim.child.exitCode === null) {
      sim.child.kill('SIGINT');
      await sim.exited;
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  async function finished(deploymentId: string): Promise<DeploymentInfo> {
    return eventually(async () => {
      const d = (await codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;
      if (!['Succeeded', 'Failed', 'Stopped'].includes(d.status ?? '')) throw new Error(`${deploymentId} is ${d.status}`);
      return d;
    }, 30_000, 100);
  }
  const deploy = async (spec: string): Promise<string> =>
    (await codedeploy.send(new CreateDeploymentCommand({ applicationName: 'fn', deploymentGroupName: 'live', revision: { revisionType: 'AppSpecContent', appSpecContent: { content: spec } } }))).deploymentId!;

  it('plays hook functions: one named in the hooks file as Failed fails the deployment, and the alias stays', async () => {
    const d = await finished(await deploy(lambdaAppSpec('fn', { before: 'checker' })));
    expect(d).toMatchObject({ status: 'Failed', errorInformation: { code: 'HOOK_EXECUTION_FAILURE' } });
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    expect([alias.FunctionVersion, alias.RoutingConfig?.AdditionalVersionWeights ?? {}]).toEqual(['1', {}]);
  }, 60_000);

  it('plays hook functions: a name ending in -fail fails; a command that exits 0 and any other name succeed, and the alias moves', async () => {
    const failing = await finished(await deploy(lambdaAppSpec('fn', { before: 'pre', after: 'post-fail' })));
    expect(failing).toMatchObject({ status: 'Failed', errorInformation: { code: 'HOOK_EXECUTION_FAILURE' } });
    // (BeforeAllowTraffic is played by the hooks file's command, which checks what it was given)
    const ok = await finished(await deploy(lambdaAppSpec('fn', { before: 'script', after: 'post' })));
    expect(ok.status).toBe('Succeeded');
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }));
    expect([alias.FunctionVersion, alias.RoutingConfig?.AdditionalVersionWeights ?? {}]).toEqual(['2', {}]);
  }, 60_000);

  it('stops moto_server with the simulation on Ctrl-C', async () => {
    const motoLog = path.join(work, 'sim', 'moto.log');
    expect(fs.existsSync(motoLog)).toBe(true);
    const url = /^local AWS .*: (\S+)/m.exec(sim.stdout())![1]!;
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
    await expect(fetch(`${url}/moto-api/data.json`)).rejects.toThrow();
  }, 30_000);
});

describeWithTools(['moto_server'], 'simulate --local-aws killed outright', () => {
  it('leaves no moto_server behind when it is killed with SIGKILL', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-local-aws-kill-'));
    const sim = run(CLI, ['simulate', '--local-aws', '--agents', '1', '--port', '0', '--data-dir', dataDir]);
    await eventually(() => {
      if (!/^local AWS /m.test(sim.stdout())) throw new Error(`not yet:\n${sim.stdout()}${sim.stderr()}`);
    }, 60_000, 100);
    // moto's own address, from its log (the printed endpoint is the front, inside the simulation)
    const motoUrl = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(fs.readFileSync(path.join(dataDir, 'moto.log'), 'utf8'))![1]!;
    expect((await fetch(`${motoUrl}/moto-api/data.json`)).ok).toBe(true);
    sim.child.kill('SIGKILL');
    await eventually(async () => {
      const alive = await fetch(`${motoUrl}/moto-api/data.json`).then(() => true, () => false);
      if (alive) throw new Error('moto_server still answers');
    }, 20_000, 200);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 90_000);
});
