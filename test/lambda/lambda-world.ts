/**
 * LambdaWorld: a real coordinator whose Lambda endpoint (AWS_ENDPOINT_URL_LAMBDA) is a recording
 * proxy in front of moto_server, and the SDK clients a test needs: CodeDeploy (the coordinator),
 * Lambda and CloudWatch (moto). Functions get two published versions and an alias `live` on version
 * 1; the test plays the hook functions by answering the invocations the proxy recorded.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { CodeDeployClient, CreateApplicationCommand, CreateDeploymentCommand, CreateDeploymentGroupCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { CreateAliasCommand, CreateFunctionCommand, GetAliasCommand, LambdaClient, PublishVersionCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import type { CoordinatorProcess } from '../harness/coordinator.js';
import { startCoordinator } from '../harness/coordinator.js';
import { eventually } from '../harness/eventually.js';
import type { LambdaFront, RecordedInvoke } from '../../packages/cli/src/simulate/lambda-front.js';
import { startLambdaFront } from '../../packages/cli/src/simulate/lambda-front.js';
import type { MotoServer } from '../../packages/coordinator/src/testing/moto-server.js';
import { startMotoServer } from '../../packages/coordinator/src/testing/moto-server.js';

const FAKE_AWS = { region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1 };

/** WorldOptions are the coordinator's test settings. */
export interface WorldOptions {
  /** test_only_minute_ms: one CodeDeploy minute. */
  minuteMs: number;
  hookTimeoutSeconds: number;
}

/** lambdaAppSpec is the AppSpec of AWS's walkthrough: one function, alias live, 1 → 2, and the hooks given. */
export function lambdaAppSpec(fn: string, hooks: { before?: string; after?: string } = {}, versions = { current: '1', target: '2' }): string {
  const lines = [
    'version: 0.0',
    'Resources:',
    '  - myLambdaFunction:',
    '      Type: AWS::Lambda::Function',
    '      Properties:',
    `        Name: ${fn}`,
    '        Alias: live',
    `        CurrentVersion: "${versions.current}"`,
    `        TargetVersion: "${versions.target}"`,
  ];
  if (hooks.before !== undefined || hooks.after !== undefined) {
    lines.push('Hooks:');
    if (hooks.before !== undefined) lines.push(`  - BeforeAllowTraffic: ${hooks.before}`);
    if (hooks.after !== undefined) lines.push(`  - AfterAllowTraffic: ${hooks.after}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * makeAliasedFunction makes function `name` in moto (at `motoUrl`) with versions 1 and 2 and the
 * alias `live` on version 1; `withRole` first makes the role functions run as (once per moto).
 */
export async function makeAliasedFunction(motoUrl: string, lambda: LambdaClient, name: string, withRole: boolean): Promise<void> {
  if (withRole) {
    // IAM's query API, unsigned: moto routes it by the credential scope and checks no signature.
    const res = await fetch(`${motoUrl}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0' },
      body: 'Action=CreateRole&Version=2010-05-08&RoleName=lambda-role&AssumeRolePolicyDocument=%7B%7D',
    });
    if (!res.ok) throw new Error(`moto CreateRole: ${res.status} ${await res.text()}`);
  }
  const code = (version: string): Uint8Array => {
    const zip = new AdmZip();
    zip.addFile('index.py', Buffer.from(`def handler(event, context):\n    return "${version}"\n`));
    return zip.toBuffer();
  };
  await lambda.send(new CreateFunctionCommand({ FunctionName: name, Runtime: 'python3.11', Role: 'arn:aws:iam::123456789012:role/lambda-role', Handler: 'index.handler', Code: { ZipFile: code('v1') } }));
  await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: code('v2') }));
  await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
}

export class LambdaWorld {
  moto!: MotoServer;
  proxy!: LambdaFront;
  coordinator!: CoordinatorProcess;
  codedeploy!: CodeDeployClient;
  lambda!: LambdaClient;
  private env: Record<string, string> = {};
  private configFile = '';
  private roleMade = false;

  /** With startReplicas: every replica, the first one also `coordinator` (the clients' default). */
  replicas: CoordinatorProcess[] = [];

  async start(opts: WorldOptions): Promise<void> {
    await this.startAws(opts);
    this.coordinator = await startCoordinator({ args: ['--config', this.configFile], env: this.env });
    this.codedeploy = new CodeDeployClient({ region: 'us-east-1', endpoint: this.coordinator.apiUrl, credentials: this.coordinator.credentials, maxAttempts: 1 });
  }

  /**
   * startReplicas starts `count` coordinators on one PostgreSQL database (`database`, a fresh one)
   * and a shared blob directory, with `args` (a short --deployment-lease-seconds): the first alone
   * (it makes the CA and the admin key), then the rest.
   */
  async startReplicas(opts: WorldOptions, database: string, count: number, args: string[] = []): Promise<void> {
    await this.startAws(opts);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-lambda-replicas-'));
    const start = (k: number, credentials?: CoordinatorProcess['credentials']): Promise<CoordinatorProcess> =>
      startCoordinator({ dataDir: path.join(dir, `replica-${k}`), args: ['--config', this.configFile, '--database', database, '--blob-dir', path.join(dir, 'blobs'), ...args], env: this.env, ...(credentials === undefined ? {} : { credentials }) });
    this.coordinator = await start(1);
    this.replicas = [this.coordinator];
    for (let k = 2; k <= count; k++) this.replicas.push(await start(k, this.coordinator.credentials));
    this.codedeploy = this.clientOf(this.coordinator);
    this.startReplica = async (index) => {
      const credentials = this.coordinator.credentials;
      await this.replicas[index]!.stop('SIGKILL');
      this.replicas[index] = await start(index + 1, credentials);
      if (index > 0) return;
      this.coordinator = this.replicas[0]!;
      this.codedeploy = this.clientOf(this.coordinator);
    };
  }

  /** replaceReplica SIGKILLs replica `index` (from 0) if it runs and starts a new one on its data directory. */
  async replaceReplica(index: number): Promise<void> {
    await this.startReplica(index);
  }

  private startReplica: (index: number) => Promise<void> = () => Promise.reject(new Error('no replicas: call startReplicas first'));

  /** clientOf is a CodeDeploy client of one replica's API. */
  clientOf(replica: CoordinatorProcess): CodeDeployClient {
    return new CodeDeployClient({ region: 'us-east-1', endpoint: replica.apiUrl, credentials: this.coordinator.credentials, maxAttempts: 1 });
  }

  /** startAws starts moto, the recording Lambda proxy in front of it, and writes the coordinators' config file. */
  private async startAws(opts: WorldOptions): Promise<void> {
    this.moto = await startMotoServer();
    this.proxy = await startLambdaFront(this.moto.url);
    this.lambda = new LambdaClient({ ...FAKE_AWS, endpoint: this.moto.url });
    this.env = {
      AWS_ENDPOINT_URL_LAMBDA: this.proxy.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: this.moto.url,
      AWS_ENDPOINT_URL_ECS: this.moto.url,
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: this.moto.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-lambda-'));
    this.configFile = path.join(dir, 'coordinator.yml');
    fs.writeFileSync(this.configFile, `test_only_minute_ms: ${opts.minuteMs}\nhook_timeout_seconds: ${opts.hookTimeoutSeconds}\nalarm_poll_interval_seconds: 1\n`);
  }

  /** restart SIGKILLs the coordinator and starts it again on the same data directory and port. */
  async restartAfterKill(): Promise<void> {
    await this.coordinator.stop('SIGKILL');
    const port = Number(new URL(this.coordinator.apiUrl).port);
    this.coordinator = await startCoordinator({ dataDir: this.coordinator.dataDir, apiPort: port, args: ['--config', this.configFile], env: this.env });
  }

  async stop(): Promise<void> {
    for (const r of this.replicas) if (r !== this.coordinator) await r.stop('SIGKILL');
    await this.coordinator?.stop();
    await this.proxy?.close();
    await this.moto?.stop();
  }

  /** fn makes a function with versions 1 and 2 and the alias `live` on version 1 (in moto). */
  async fn(name: string): Promise<void> {
    await makeAliasedFunction(this.moto.url, this.lambda, name, !this.roleMade);
    this.roleMade = true;
  }

  /** alias reads the alias from moto: its version and extra weights. */
  async alias(fn: string): Promise<{ version: string | undefined; weights: Record<string, number> }> {
    const a = await this.lambda.send(new GetAliasCommand({ FunctionName: fn, Name: 'live' }));
    return { version: a.FunctionVersion, weights: a.RoutingConfig?.AdditionalVersionWeights ?? {} };
  }

  /** app makes a Lambda application and a group deploying with `config`; returns the group name. */
  async app(name: string, config: string, group: Record<string, unknown> = {}): Promise<string> {
    await this.codedeploy.send(new CreateApplicationCommand({ applicationName: name, computePlatform: 'Lambda' }));
    await this.codedeploy.send(new CreateDeploymentGroupCommand({ applicationName: name, deploymentGroupName: `${name}-group`, serviceRoleArn: 'arn:aws:iam::123456789012:role/codedeploy', deploymentConfigName: config, ...group }));
    return `${name}-group`;
  }

  async deploy(app: string, appSpec: string): Promise<string> {
    const out = await this.codedeploy.send(new CreateDeploymentCommand({ applicationName: app, deploymentGroupName: `${app}-group`, revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec } } }));
    return out.deploymentId!;
  }

  async deployment(id: string): Promise<DeploymentInfo> {
    return (await this.codedeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
  }

  async finished(id: string, timeoutMs = 30_000): Promise<DeploymentInfo> {
    return eventually(async () => {
      const d = await this.deployment(id);
      if (!['Succeeded', 'Failed', 'Stopped'].includes(d.status ?? '')) throw new Error(`deployment ${id} is still ${d.status}`);
      return d;
    }, timeoutMs, 100);
  }

  /** invoked waits for the coordinator to invoke hook function `fn` for deployment `id`. */
  async invoked(fn: string, id: string, timeoutMs = 20_000): Promise<RecordedInvoke> {
    return eventually(() => {
      const call = this.proxy.invokes.find((i) => i.functionName === fn && i.payload.DeploymentId === id);
      if (call === undefined) throw new Error(`${fn} was not invoked for ${id}; invocations: ${JSON.stringify(this.proxy.invokes)}`);
      return call;
    }, timeoutMs, 25);
  }

  /** hook plays hook function `fn`: waits for its invocation, then reports `status` as the function would. */
  async hook(fn: string, id: string, status: 'Succeeded' | 'Failed'): Promise<RecordedInvoke> {
    const call = await this.invoked(fn, id);
    await this.codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: call.payload.DeploymentId, lifecycleEventHookExecutionId: call.payload.LifecycleEventHookExecutionId, status }));
    return call;
  }

  /** updates lists the alias updates of function `fn` as [version, weight of the target] pairs. */
  updates(fn: string): Array<{ version: string | undefined; weights: Record<string, number>; at: number }> {
    return this.proxy.aliasUpdates.filter((u) => u.functionName === fn).map((u) => ({ version: u.functionVersion, weights: u.weights, at: u.at }));
  }
}
