/**
 * A fleet for end-to-end tests: a real coordinator, real agent daemons (one process per host), and
 * the stock AWS CLI and the SDK as clients. Given/when/then helpers keep the tests readable.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BatchGetDeploymentTargetsCommand, GetDeploymentCommand, ListDeploymentTargetsCommand } from '@aws-sdk/client-codedeploy';
import type { CodeDeployClient, DeploymentInfo, InstanceTarget } from '@aws-sdk/client-codedeploy';
import { startCoordinator } from '../harness/coordinator.js';
import type { CoordinatorOptions, CoordinatorProcess } from '../harness/coordinator.js';
import { startAgent } from '../harness/agents.js';
import type { AgentProcess } from '../harness/agents.js';
import { aws, codeDeployClient } from '../harness/aws-cli.js';
import type { CliResult } from '../harness/aws-cli.js';
import { writeZipBundle } from '../harness/bundles.js';
import type { BundleFiles } from '../harness/bundles.js';
import { eventually } from '../harness/eventually.js';

export const APP = 'fleet-app';
export const BUCKET = 'revisions';
export const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';

/** FleetWorld is one coordinator with its agents. */
export class FleetWorld {
  coordinator!: CoordinatorProcess;
  agents: AgentProcess[] = [];
  sdk!: CodeDeployClient;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-fleet-'));
  private bundles = 0;
  /** The coordinator's extra environment, kept for restarts. */
  private coordinatorEnv: Record<string, string> = {};

  /** start runs a coordinator (extra flags and environment allowed) and `count` agents named sim-1..sim-N, registered and tagged. */
  async start(count: number, coordinatorArgs: string[] = [], coordinatorEnv: Record<string, string> = {}): Promise<void> {
    this.coordinatorEnv = coordinatorEnv;
    this.coordinator = await startCoordinator({ args: coordinatorArgs, env: coordinatorEnv });
    this.sdk = codeDeployClient(this.coordinator);
    const names = Array.from({ length: count }, (_, i) => `sim-${i + 1}`);
    await Promise.all(names.map((n) => this.cliOk(['deploy', 'register-on-premises-instance', '--instance-name', n, '--iam-user-arn', `arn:aws:iam::000000000000:user/${n}`])));
    await Promise.all(names.map((n, i) => this.cliOk(['deploy', 'add-tags-to-on-premises-instances', '--instance-names', n, '--tags', 'Key=env,Value=sim', `Key=role,Value=${i % 2 === 0 ? 'web' : 'api'}`])));
    this.agents = await Promise.all(names.map((n) => startAgent(n, this.coordinator, this.dir)));
    await this.cliOk(['deploy', 'create-application', '--application-name', APP]);
    await this.cliOk(['s3', 'mb', `s3://${BUCKET}`]);
  }

  /** restartCoordinator starts the coordinator again on the same data directory and ports. */
  async restartCoordinator(extra: CoordinatorOptions = {}): Promise<void> {
    const apiPort = Number(new URL(this.coordinator.apiUrl).port);
    const agentPort = Number(this.coordinator.agentAddress.split(':')[1]);
    const enrolPort = Number(this.coordinator.enrolAddress.split(':')[1]);
    this.coordinator = await startCoordinator({ dataDir: this.coordinator.dataDir, apiPort, agentPort, enrolPort, env: this.coordinatorEnv, ...extra });
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop('SIGKILL')));
    await this.coordinator?.stop('SIGKILL');
  }

  cli(args: string[]): Promise<CliResult> {
    return aws(this.coordinator, args);
  }

  /** cliOk runs the CLI and fails the test with its stderr if it does not exit 0. */
  async cliOk(args: string[]): Promise<CliResult> {
    const r = await this.cli(args);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  }

  /** group creates a deployment group selecting instances by tag filters (or a tag set). */
  async group(name: string, config: string, targeting: string[] = ['--on-premises-instance-tag-filters', 'Key=env,Value=sim,Type=KEY_AND_VALUE']): Promise<void> {
    await this.cliOk(['deploy', 'create-deployment-group', '--application-name', APP, '--deployment-group-name', name, '--service-role-arn', ROLE, '--deployment-config-name', config, ...targeting]);
  }

  /** upload zips `files` and puts the bundle in the revision bucket with the AWS CLI; returns its key. */
  async upload(files: BundleFiles): Promise<string> {
    const key = `bundle-${++this.bundles}.zip`;
    const file = writeZipBundle(path.join(this.dir, 'bundles', key), files);
    await this.cliOk(['s3', 'cp', file, `s3://${BUCKET}/${key}`]);
    return key;
  }

  /** deploy creates a deployment of an uploaded bundle with the AWS CLI and returns its id. */
  async deploy(group: string, key: string, extra: string[] = []): Promise<string> {
    const r = await this.cliOk(['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', group, '--s3-location', `bucket=${BUCKET},key=${key},bundleType=zip`, ...extra]);
    return r.json.deploymentId as string;
  }

  async deployment(id: string): Promise<DeploymentInfo> {
    return (await this.sdk.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
  }

  /** finished waits for a deployment to reach Succeeded, Failed or Stopped. */
  async finished(id: string, timeoutMs = 60_000): Promise<DeploymentInfo> {
    return eventually(async () => {
      const d = await this.deployment(id);
      if (!['Succeeded', 'Failed', 'Stopped'].includes(d.status ?? '')) throw new Error(`deployment ${id} is still ${d.status}`);
      return d;
    }, timeoutMs, 100);
  }

  /** targets returns each instance's target record, by name. */
  async targets(id: string): Promise<Record<string, InstanceTarget>> {
    const ids = (await this.sdk.send(new ListDeploymentTargetsCommand({ deploymentId: id }))).targetIds ?? [];
    if (ids.length === 0) return {};
    const out = await this.sdk.send(new BatchGetDeploymentTargetsCommand({ deploymentId: id, targetIds: ids }));
    return Object.fromEntries((out.deploymentTargets ?? []).map((t) => [t.instanceTarget!.targetId!, t.instanceTarget!]));
  }

  /** running waits until `host` is in the middle of BeforeInstall (the probe bundle's sleeping hook). */
  async running(id: string, host: string): Promise<void> {
    await eventually(async () => {
      const t = (await this.targets(id))[host];
      const event = t?.lifecycleEvents?.find((e) => e.lifecycleEventName === 'BeforeInstall');
      if (event?.status !== 'InProgress') throw new Error(`${host} is not in BeforeInstall yet`);
    }, 30_000, 50);
  }

  /** failures lists each failed lifecycle event with its diagnostics, to explain an unexpected outcome. */
  async failures(id: string): Promise<string> {
    const targets = await this.targets(id);
    const failed = Object.values(targets).flatMap((t) =>
      (t.lifecycleEvents ?? []).filter((e) => e.status === 'Failed').map((e) => `${t.targetId} ${e.lifecycleEventName}: ${e.diagnostics?.errorCode} ${e.diagnostics?.message} ${e.diagnostics?.logTail ?? ''}`),
    );
    const d = await this.deployment(id);
    return `${d.status} ${d.errorInformation?.code ?? ''} ${d.errorInformation?.message ?? ''}\n${failed.join('\n')}`;
  }

  journal(name: string): string {
    return path.join(this.dir, `${name}.journal`);
  }

  agent(name: string): AgentProcess {
    return this.agents.find((a) => a.name === name)!;
  }
}

/** statusesOf maps instance name → status. */
export function statusesOf(targets: Record<string, InstanceTarget>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(targets).map(([k, t]) => [k, t.status]));
}
