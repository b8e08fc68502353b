/**
 * Issue 13's acceptance: three coordinator replicas on one PostgreSQL database, 300 real agent
 * daemons (three worker processes of scripts/bench-agents-worker.mjs, each agent given every
 * replica's address and starting at a random one), an AllAtOnce deployment to all 300 and a
 * OneAtATime deployment to 30 of them. In the middle of each, the replica that owns the deployment
 * (its lease, as /healthz shows it) is killed with SIGKILL. Each deployment must still end
 * Succeeded with every target's every lifecycle event Succeeded (no result lost), and every host
 * must have run each hook exactly once (each run appends one line to a shared journal).
 *
 * The clients reach the replicas' APIs through a real HAProxy configured with the README's
 * haproxy.cfg (its block, with this machine's ports and the CA's path put in), so a killed replica's
 * share of the API moves to the others as the README says.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import pMap from 'p-map';
import { AddTagsToOnPremisesInstancesCommand, BatchGetDeploymentTargetsCommand, CreateApplicationCommand, CreateDeploymentCommand, CreateDeploymentGroupCommand, GetDeploymentCommand, ListDeploymentTargetsCommand, RegisterOnPremisesInstanceCommand } from '@aws-sdk/client-codedeploy';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { codeDeployClient } from './harness/aws-cli.js';
import { writeZipBundle } from './harness/bundles.js';
import { eventually } from './harness/eventually.js';
import { usePostgres } from './harness/postgres.js';
import { describeWithTools } from './harness/system-tools.js';
import { findExecutable, freeLoopbackPort } from '@fleetdeploy/shared';

const SLOW = 240_000;
const HOSTS = 300;
const ONE_AT_A_TIME = 30;
const WORKERS = 3;
const APP = 'ha-app';
const BUCKET = 'ha-revisions';
const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';
const HOOKS = ['BeforeInstall', 'AfterInstall', 'ApplicationStart', 'ValidateService'] as const;
/** A short deployment lease, so that a takeover comes within seconds. */
const REPLICA_ARGS = ['--plaintext-agents', '--deployment-lease-seconds', '3'];
const WORKER = path.join(REPO_ROOT, 'scripts/bench-agents-worker.mjs');

describeWithTools(['postgres', 'haproxy'], 'three replicas, one killed in the middle of each deployment', () => {
  const server = usePostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-ha-'));
  const journal = path.join(dir, 'journal');
  const blobDir = path.join(dir, 'blobs');
  let database: string;
  const replicas: CoordinatorProcess[] = [];
  const workers: { child: ChildProcess; ready: number; stderr: string }[] = [];
  let sdk: CodeDeployClient;
  let haproxy: ChildProcess | undefined;
  let haproxyUrl: string;

  /**
   * startReadmeHaproxy runs HAProxy with the README's haproxy.cfg: its bind and servers pointed at
   * this machine's ports, its ca-file at the replicas' CA; resolves once HAProxy listens.
   */
  async function startReadmeHaproxy(set: readonly CoordinatorProcess[], file: string): Promise<ChildProcess> {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const block = /```\n(# haproxy\.cfg:[^]*?)```/.exec(readme)?.[1];
    if (block === undefined) throw new Error('README.md has no haproxy.cfg block');
    const port = await freeLoopbackPort();
    let config = block.replace('bind :443', `bind 127.0.0.1:${port}`).replace('/etc/fleetdeploy/ca.pem', set[0]!.caFile);
    for (const [k, name] of ['coord-a', 'coord-b', 'coord-c'].entries()) config = config.replace(`${name}.example:8443`, `127.0.0.1:${portOf(set[k]!.apiUrl)}`);
    expect(config).not.toMatch(/\.example|:443\b|\/etc\//); // every placeholder was replaced
    fs.writeFileSync(file, config);
    const child = spawn(findExecutable('haproxy', `${process.env.PATH ?? ''}:/usr/sbin`)!, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
    haproxyUrl = `https://127.0.0.1:${port}`;
    await eventually(() => new Promise<void>((resolve, reject) => {
      if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${output}`);
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    }), 10_000, 100);
    return child;
  }

  /** startReplica starts replica k (from 1); after the first, with the first's admin key (the others write none). */
  const startReplica = (k: number, ports: { apiPort?: number; agentPort?: number; enrolPort?: number } = {}): Promise<CoordinatorProcess> =>
    startCoordinator({ dataDir: path.join(dir, `replica-${k}`), args: ['--database', database, '--blob-dir', blobDir, ...REPLICA_ARGS], ...ports, ...(replicas[0] !== undefined ? { credentials: replicas[0].credentials } : {}) });

  beforeAll(async () => {
    database = await server().freshDatabase();
    // The first alone (it makes the CA and the first admin key), then the other two together.
    replicas.push(await startReplica(1));
    replicas.push(...(await Promise.all([startReplica(2), startReplica(3)])));
    // Signed with the first replica's admin key: the keys live in the database, every replica checks them.
    haproxy = await startReadmeHaproxy(replicas, path.join(dir, 'haproxy.cfg'));
    sdk = codeDeployClient({ apiUrl: haproxyUrl, credentials: replicas[0]!.credentials });
    const names = Array.from({ length: HOSTS }, (_, i) => `ha-${i + 1}`);
    // Registered through all three APIs in turn: any replica serves the API.
    await pMap(names, (n, i) => codeDeployClient({ apiUrl: replicas[i % 3]!.apiUrl, credentials: replicas[0]!.credentials }).send(new RegisterOnPremisesInstanceCommand({ instanceName: n, iamUserArn: `arn:aws:iam::000000000000:user/${n}` })), { concurrency: 20 });
    await pMap(names, (n, i) => sdk.send(new AddTagsToOnPremisesInstancesCommand({ instanceNames: [n], tags: [{ Key: 'env', Value: 'ha' }, ...(i < ONE_AT_A_TIME ? [{ Key: 'one', Value: 'yes' }] : [])] })), { concurrency: 20 });
    await sdk.send(new CreateApplicationCommand({ applicationName: APP }));
    const s3 = new S3Client({ endpoint: replicas[2]!.apiUrl, region: 'us-east-1', credentials: replicas[0]!.credentials, forcePathStyle: true, maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // Uploaded to the third replica; the agents download the bundle from whichever replica they are on.
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'all.zip', Body: fs.readFileSync(writeZipBundle(path.join(dir, 'all.zip'), journalBundle('/srv/all', 1.5))) }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'one.zip', Body: fs.readFileSync(writeZipBundle(path.join(dir, 'one.zip'), journalBundle('/srv/one', 0.1))) }));
    await sdk.send(new CreateDeploymentGroupCommand({ applicationName: APP, deploymentGroupName: 'all', serviceRoleArn: ROLE, deploymentConfigName: 'CodeDeployDefault.AllAtOnce', onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'ha', Type: 'KEY_AND_VALUE' }] }));
    await sdk.send(new CreateDeploymentGroupCommand({ applicationName: APP, deploymentGroupName: 'one', serviceRoleArn: ROLE, deploymentConfigName: 'CodeDeployDefault.OneAtATime', onPremisesInstanceTagFilters: [{ Key: 'one', Value: 'yes', Type: 'KEY_AND_VALUE' }] }));

    const addresses = replicas.map((r) => r.agentAddress).join(',');
    for (let w = 0; w < WORKERS; w++) workers.push(startWorker(w, HOSTS / WORKERS, addresses, path.join(dir, `w${w}`)));
    await eventually(() => {
      const dead = workers.find((w) => w.child.exitCode !== null);
      if (dead !== undefined) throw new Error(`an agent worker exited: ${dead.stderr}`);
      const ready = workers.reduce((a, w) => a + w.ready, 0);
      if (ready < HOSTS) throw new Error(`${ready} of ${HOSTS} agents Ready`);
    }, 120_000, 200);
  }, SLOW);

  afterAll(async () => {
    haproxy?.kill('SIGKILL');
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
  });

  /** ownersOf are the live replicas whose /healthz lists the deployment's lease among what they own. */
  async function ownersOf(deploymentId: string): Promise<number[]> {
    const owners: number[] = [];
    for (const [k, r] of replicas.entries()) {
      if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
      const health = (await (await fetch(`${r.apiUrl}/healthz`)).json()) as { owns?: string[] };
      if (health.owns?.some((name) => name.includes(deploymentId)) === true) owners.push(k);
    }
    return owners;
  }

  /** ownerOf waits for the one replica that owns the deployment. */
  async function ownerOf(deploymentId: string): Promise<number> {
    return eventually(async () => {
      const owners = await ownersOf(deploymentId);
      if (owners.length !== 1) throw new Error(`replicas owning ${deploymentId}: ${JSON.stringify(owners)}`);
      return owners[0]!;
    }, 20_000, 100);
  }

  /** runs counts the journal's lines of one deployment: host → event → runs. */
  function runs(deploymentId: string): Map<string, Map<string, number>> {
    const counts = new Map<string, Map<string, number>>();
    const text = fs.existsSync(journal) ? fs.readFileSync(journal, 'utf8') : '';
    for (const line of text.split('\n')) {
      const [event, host, id] = line.split(' ');
      if (id !== deploymentId || event === undefined || host === undefined) continue;
      const perHost = counts.get(host) ?? new Map<string, number>();
      perHost.set(event, (perHost.get(event) ?? 0) + 1);
      counts.set(host, perHost);
    }
    return counts;
  }

  /** killOwnerMidway kills the owner once `started` hosts have run a hook but before all have finished. */
  async function killOwnerMidway(deploymentId: string, started: number): Promise<number> {
    const owner = await ownerOf(deploymentId);
    await eventually(() => {
      const seen = runs(deploymentId).size;
      if (seen < started) throw new Error(`${seen} hosts ran a hook so far`);
    }, 60_000, 50);
    const info = (await sdk.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;
    expect(info.status, 'the deployment ended before its owner could be killed: the test proves nothing').toBe('InProgress');
    await replicas[owner]!.stop('SIGKILL');
    return owner;
  }

  /** finishes waits, through a replica still alive, for the deployment to end; returns its status. */
  async function finishes(deploymentId: string, client: CodeDeployClient): Promise<string> {
    return eventually(async () => {
      const status = (await client.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!.status!;
      if (!['Succeeded', 'Failed', 'Stopped'].includes(status)) throw new Error(`still ${status}`);
      return status;
    }, 150_000, 500);
  }

  /** everyEventSucceeded reads each target's lifecycle events: every one Succeeded, none missing. */
  async function everyEventSucceeded(deploymentId: string, client: CodeDeployClient, expected: number): Promise<void> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListDeploymentTargetsCommand({ deploymentId, ...(nextToken !== undefined ? { nextToken } : {}) }));
      ids.push(...(page.targetIds ?? []));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    expect(ids).toHaveLength(expected);
    for (let i = 0; i < ids.length; i += 25) {
      const batch = await client.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids.slice(i, i + 25) }));
      for (const t of batch.deploymentTargets ?? []) {
        const target = t.instanceTarget!;
        expect(target.status, target.targetId).toBe('Succeeded');
        const events = target.lifecycleEvents ?? [];
        expect(events.filter((e) => e.status !== 'Succeeded').map((e) => `${target.targetId} ${e.lifecycleEventName} ${e.status}`)).toEqual([]);
        expect(events.map((e) => e.lifecycleEventName)).toEqual(expect.arrayContaining([...HOOKS]));
      }
    }
  }

  /** exactlyOnce checks that each of `hosts` ran each hook of the deployment once, and no other host ran any. */
  function exactlyOnce(deploymentId: string, hosts: readonly string[]): void {
    const counts = runs(deploymentId);
    const wrong: string[] = [];
    for (const host of hosts) for (const event of HOOKS) if ((counts.get(host)?.get(event) ?? 0) !== 1) wrong.push(`${host} ${event} ×${counts.get(host)?.get(event) ?? 0}`);
    for (const host of counts.keys()) if (!hosts.includes(host)) wrong.push(`${host} is not a target but ran hooks`);
    expect(wrong).toEqual([]);
  }

  it('AllAtOnce to 300 hosts: the owner is killed midway, another replica finishes it, every hook ran once per host', async () => {
    const deploymentId = (await sdk.send(new CreateDeploymentCommand({ applicationName: APP, deploymentGroupName: 'all', revision: s3Revision('all.zip') }))).deploymentId!;
    const killed = await killOwnerMidway(deploymentId, 30);
    // Followed through HAProxy, which moves the killed replica's share to the others.
    expect(await finishes(deploymentId, sdk)).toBe('Succeeded');
    await everyEventSucceeded(deploymentId, sdk, HOSTS);
    exactlyOnce(deploymentId, Array.from({ length: HOSTS }, (_, i) => `ha-${i + 1}`));
    // A finished deployment's lease is given up.
    await eventually(async () => expect(await ownersOf(deploymentId)).toEqual([]), 10_000, 200);
    // The killed replica comes back (same data directory and ports) for the next test: three again.
    const was = replicas[killed]!;
    replicas[killed] = await startReplica(killed + 1, { apiPort: portOf(was.apiUrl), agentPort: portOf(was.agentAddress), enrolPort: portOf(was.enrolAddress) });
  }, SLOW);

  it('OneAtATime to 30 hosts: the owner is killed midway, another replica finishes it, every hook ran once per host', async () => {
    const deploymentId = (await sdk.send(new CreateDeploymentCommand({ applicationName: APP, deploymentGroupName: 'one', revision: s3Revision('one.zip') }))).deploymentId!;
    await killOwnerMidway(deploymentId, 8);
    expect(await finishes(deploymentId, sdk)).toBe('Succeeded');
    await everyEventSucceeded(deploymentId, sdk, ONE_AT_A_TIME);
    exactlyOnce(deploymentId, Array.from({ length: ONE_AT_A_TIME }, (_, i) => `ha-${i + 1}`));
  }, SLOW);

  /**
   * journalBundle's hooks each append `<event> <host> <deployment id>` to the journal (one short
   * O_APPEND write: lines from many hosts never interleave) and sleep; the host is the agent's folder
   * in the worker's base directory (`$0` is under `<base>/<host>/root/`).
   */
  function journalBundle(destination: string, sleepSeconds: number): Record<string, string> {
    const hooks = HOOKS.flatMap((event) => [`  ${event}:`, '    - location: hooks/record.sh', '      timeout: 60']);
    return {
      'appspec.yml': ['version: 0.0', 'os: linux', 'files:', '  - source: site', `    destination: ${destination}`, 'hooks:', ...hooks, ''].join('\n'),
      'site/index.html': '<h1>ha</h1>\n',
      'hooks/record.sh': `#!/bin/sh\nhost=$(echo "$0" | sed -E 's#.*/([^/]+)/root/.*#\\1#')\necho "$LIFECYCLE_EVENT $host $DEPLOYMENT_ID" >> ${journal}\nsleep ${sleepSeconds}\n`,
    };
  }
});

function s3Revision(key: string) {
  return { revisionType: 'S3' as const, s3Location: { bucket: BUCKET, key, bundleType: 'zip' as const } };
}

function portOf(address: string): number {
  return Number(address.split(':').at(-1));
}

/** startWorker runs `count` agents (ha-<offset+1>..) in one process; its `ready` follows the worker's status lines. */
function startWorker(index: number, count: number, addresses: string, baseDir: string): { child: ChildProcess; ready: number; stderr: string } {
  const child = spawn(process.execPath, [WORKER, '--count', String(count), '--offset', String(index * count), '--prefix', 'ha-', '--coordinator', addresses, '--base-dir', baseDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const worker = { child, ready: 0, stderr: '' };
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    const m = /^status ready=(\d+)/.exec(l);
    if (m !== null) worker.ready = Number(m[1]);
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    worker.stderr = (worker.stderr + c).slice(-20_000);
  });
  return worker;
}
