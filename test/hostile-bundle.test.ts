/**
 * A deployer's small, hostile tgz must not stall the coordinator (issue 15, item 1). A real
 * coordinator with a real agent connected (heartbeats every second, dropped after 3 s of silence)
 * examines bundles that the stock AWS CLI uploaded, deployed with the signed SDK client, while
 * /healthz is polled:
 *  - the issue's own bomb: a tar with its appspec.yml, the end marker, then a gigabyte of zeros,
 *    which gzip to about a megabyte; the coordinator stops at the AppSpec and creates the deployment;
 *  - a header that declares 256 MiB of zeros (which follow) before the AppSpec: past the agents'
 *    compression-ratio limit, so CreateDeployment refuses it naming that limit;
 *  - a large bundle within the limits, 256 MiB with its AppSpec last, which must be inflated whole.
 * Every /healthz answer must take under 100 ms, and the agent's stream must stay as it was.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { CreateDeploymentCommand, ListApplicationsCommand } from '@aws-sdk/client-codedeploy';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tarFile, tarHeader, TAR_END } from '../packages/coordinator/src/testing/crafted-tar.js';
import { aws, codeDeployClient } from './harness/aws-cli.js';
import type { CliResult } from './harness/aws-cli.js';
import { startAgent } from './harness/agents.js';
import type { AgentProcess } from './harness/agents.js';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { eventually } from './harness/eventually.js';
import { describeWithTools } from './harness/system-tools.js';

const MiB = 1024 * 1024;
const APPSPEC = 'version: 0.0\nos: linux\n';
const HEALTHZ_LIMIT_MS = 100;

/** writeGzip gzips `parts` into `file`, streaming (memory stays small however much they add up to). */
async function writeGzip(file: string, parts: readonly Buffer[], level = zlib.constants.Z_DEFAULT_COMPRESSION): Promise<void> {
  const gzip = zlib.createGzip({ level });
  const done = new Promise<void>((resolve, reject) => gzip.pipe(fs.createWriteStream(file)).on('finish', () => resolve()).on('error', reject));
  for (const part of parts) {
    if (!gzip.write(part)) await new Promise((resolve) => gzip.once('drain', resolve));
  }
  gzip.end();
  await done;
}

const repeat = (block: Buffer, times: number): Buffer[] => new Array<Buffer>(times).fill(block);

/** HealthzPoller asks /healthz one request after another and keeps how long each took. */
class HealthzPoller {
  readonly latencies: number[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(url: string) {
    this.loop = (async () => {
      while (this.running) {
        const started = performance.now();
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => err as Error);
        this.latencies.push(res instanceof Response && res.ok ? performance.now() - started : Number.POSITIVE_INFINITY);
        if (res instanceof Response) await res.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
  }

  async stop(): Promise<number[]> {
    this.running = false;
    await this.loop;
    return this.latencies;
  }
}

describeWithTools(['aws'], 'a hostile tgz handed to CreateDeployment', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-hostile-bundle-'));
  let coordinator: CoordinatorProcess;
  let agent: AgentProcess;
  let sdk: CodeDeployClient;
  const cliOk = async (args: string[]): Promise<CliResult> => {
    const r = await aws(coordinator, args);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };
  /** agentLog lists the coordinator's log messages about agent streams (opened, closed, refused), in order. */
  const agentLog = (): string[] =>
    coordinator
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { msg: string }).msg)
      .filter((m) => m === 'agent connected' || m === 'agent disconnected' || m.startsWith('agent stream') || m.endsWith('closing its stream'));

  beforeAll(async () => {
    const config = path.join(dir, 'coordinator.yml');
    fs.writeFileSync(config, 'heartbeat_interval_seconds: 1\n');
    coordinator = await startCoordinator({ args: ['--config', config, '--agent-grace', '3'] });
    sdk = codeDeployClient(coordinator);
    await cliOk(['deploy', 'register-on-premises-instance', '--instance-name', 'host-1', '--iam-user-arn', 'arn:aws:iam::000000000000:user/host-1']);
    agent = await startAgent('host-1', coordinator, dir);
    await eventually(() => expect(agentLog()).toEqual(['agent connected']), 30_000, 100);
    await cliOk(['deploy', 'create-application', '--application-name', 'app']);
    // A group that selects no instance: the deployment is created, and no agent downloads the bomb.
    for (const group of ['g-tail', 'g-ratio', 'g-large']) {
      await cliOk(['deploy', 'create-deployment-group', '--application-name', 'app', '--deployment-group-name', group, '--service-role-arn', 'arn:aws:iam::000000000000:role/fleetdeploy', '--on-premises-instance-tag-filters', 'Key=nobody,Value=nobody,Type=KEY_AND_VALUE']);
    }
    await cliOk(['s3', 'mb', 's3://revisions']);

    const zeros = Buffer.alloc(16 * MiB);
    const bundles: Record<string, [Buffer[], number?]> = {
      'zero-tail.tgz': [[tarFile('appspec.yml', APPSPEC), TAR_END, ...repeat(zeros, 64)]],
      'ratio.tgz': [[tarHeader('zeros.bin', 256 * MiB), ...repeat(zeros, 16), tarFile('appspec.yml', APPSPEC), TAR_END]],
      // 600 random bytes in every 64 KiB: about 100-fold compression, within the limit of 200
      'large.tgz': [[tarHeader('site.bin', 256 * MiB), ...repeat(crypto.randomFillSync(Buffer.alloc(64 * 1024), 0, 600), 4096), tarFile('appspec.yml', APPSPEC), TAR_END], 1],
    };
    for (const [key, [parts, level]] of Object.entries(bundles)) {
      await writeGzip(path.join(dir, key), parts, level);
      await cliOk(['s3', 'cp', path.join(dir, key), `s3://revisions/${key}`]);
    }
    expect(fs.statSync(path.join(dir, 'zero-tail.tgz')).size).toBeLessThan(2 * MiB);
  }, 120_000);

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await coordinator?.stop('SIGKILL');
    sdk?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers /healthz within 100 ms and keeps the agent\'s stream while the bombs are examined', async () => {
    // The signed SDK client, in this process, sends the requests: a CLI's start-up would compete for the CPU.
    const deploy = (group: string, key: string): Promise<{ deploymentId?: string | undefined } | Error> =>
      sdk.send(new CreateDeploymentCommand({ applicationName: 'app', deploymentGroupName: group, revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key, bundleType: 'tgz' } } })).catch((err: unknown) => err as Error);
    // The test's own first fetch and first SDK call load their modules, which would stall the poller.
    await (await fetch(`${coordinator.apiUrl}/healthz`)).arrayBuffer();
    await sdk.send(new ListApplicationsCommand({}));
    const poller = new HealthzPoller(`${coordinator.apiUrl}/healthz`);
    const tail = await deploy('g-tail', 'zero-tail.tgz');
    const ratio = await deploy('g-ratio', 'ratio.tgz');
    const large = await deploy('g-large', 'large.tgz');
    // Two more heartbeat periods: a stalled loop shows as a dropped stream only once it runs again.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const latencies = await poller.stop();

    expect(latencies.length).toBeGreaterThan(20);
    const slow = latencies.filter((ms) => ms >= HEALTHZ_LIMIT_MS);
    expect(slow, `of ${latencies.length} /healthz answers, these took ${HEALTHZ_LIMIT_MS} ms or more`).toEqual([]);
    expect(agentLog(), 'the agent stream was dropped or replaced').toEqual(['agent connected']);

    // The AppSpec comes before the zeros: the deployment is created, the zeros never inflated.
    expect(tail).not.toBeInstanceOf(Error);
    expect((tail as { deploymentId?: string }).deploymentId).toMatch(/^d-/);
    expect(ratio).toBeInstanceOf(Error);
    expect((ratio as Error).name).toBe('InvalidRevisionException');
    expect((ratio as Error).message).toMatch(/the bundle of revision s3:\/\/revisions\/ratio\.tgz#tgz is refused: bundle expands [\d.]+ times .*more than the limit of 200 \(bundle\.maxCompressionRatio\)/);
    expect(large).not.toBeInstanceOf(Error);
    expect((large as { deploymentId?: string }).deploymentId).toMatch(/^d-/);
  }, 240_000);
});
