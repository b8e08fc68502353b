/**
 * `fleetdeploy simulate` and `npm run demo` as a user runs them: the built command as a child
 * process, a real coordinator and real agents, a real bundle deployed through the AWS SDK.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import {
  BatchGetOnPremisesInstancesCommand,
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from './harness/eventually.js';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPO, 'packages/cli/bin/fleetdeploy.js');

let work: string;
const started: ChildProcess[] = [];
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-sim-'));
});
afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }
  // Anything a simulation left behind names the data dir on its command line.
  for (const pid of processesMentioning(work)) process.kill(pid, 'SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

/** processesMentioning lists the processes whose command line contains `text` (never this one). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** RunningCli is a `fleetdeploy` child process with its output so far. */
interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

function startCli(args: string[], script = CLI): RunningCli {
  const child = spawn(process.execPath, [script, ...args], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** waitFor resolves once the process's stdout matches `pattern`, failing with its output if it exits first. */
async function waitFor(run: RunningCli, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return eventually(() => {
    const m = pattern.exec(run.stdout());
    if (m) return m;
    if (run.child.exitCode !== null) throw new Error(`exited with ${run.child.exitCode} before ${pattern}:\n${run.stdout()}\n${run.stderr()}`);
    throw new Error(`no ${pattern} yet:\n${run.stdout()}\n${run.stderr()}`);
  }, timeoutMs, 50);
}

/** listenOn holds a loopback port, as another program would; port 0 picks a free one. */
async function listenOn(port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

function tinyBundle(): Buffer {
  const zip = new AdmZip();
  zip.addFile('appspec.yml', Buffer.from([
    'version: 0.0',
    'os: linux',
    'files:',
    '  - source: site/index.html',
    '    destination: /srv/tiny',
    'hooks:',
    '  AfterInstall:',
    '    - location: scripts/mark.sh',
    '',
  ].join('\n')));
  zip.addFile('site/index.html', Buffer.from('<p>tiny</p>\n'));
  zip.addFile('scripts/mark.sh', Buffer.from('#!/bin/sh\necho "$DEPLOYMENT_ID" > "$FLEETDEPLOY_DESTINATION_ROOT/srv/tiny/deployed-by-hook"\n'), '', 0o755);
  return zip.toBuffer();
}

describe('fleetdeploy simulate', () => {
  it('runs three sandboxed agents that a deployment through the SDK reaches, and stops cleanly on SIGINT', async () => {
    // Given a simulation of three hosts on free ports
    const data = path.join(work, 'data');
    const sim = startCli(['simulate', '--agents', '3', '--port', '0', '--data-dir', data]);
    const endpoint = (await waitFor(sim, /^API endpoint \(CodeDeploy and S3\): (\S+)$/m))[1]!;
    const keyId = (await waitFor(sim, /^AWS_ACCESS_KEY_ID=(\S+)$/m))[1]!;
    const secret = (await waitFor(sim, /^AWS_SECRET_ACCESS_KEY=(\S+)$/m))[1]!;
    expect(sim.stdout()).toMatch(/^AWS_DEFAULT_REGION=us-east-1$/m);
    expect(sim.stdout()).toContain(`--endpoint-url ${endpoint}`);
    await waitFor(sim, /^all 3 agents connected/m);

    const credentials = { accessKeyId: keyId, secretAccessKey: secret };
    const codedeploy = new CodeDeployClient({ endpoint, region: 'us-east-1', credentials });
    const s3 = new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
    try {
      // Then the hosts are registered with alternating roles
      const { instanceInfos } = await codedeploy.send(new BatchGetOnPremisesInstancesCommand({ instanceNames: ['sim-1', 'sim-2', 'sim-3'] }));
      const tags = Object.fromEntries((instanceInfos ?? []).map((i) => [i.instanceName, (i.tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort()]));
      expect(tags).toEqual({ 'sim-1': ['env=sim', 'role=web'], 'sim-2': ['env=sim', 'role=api'], 'sim-3': ['env=sim', 'role=web'] });

      // When a tiny bundle is deployed to env=sim
      await s3.send(new CreateBucketCommand({ Bucket: 'revisions' }));
      await s3.send(new PutObjectCommand({ Bucket: 'revisions', Key: 'tiny.zip', Body: tinyBundle() }));
      await codedeploy.send(new CreateApplicationCommand({ applicationName: 'Tiny' }));
      await codedeploy.send(new CreateDeploymentGroupCommand({
        applicationName: 'Tiny',
        deploymentGroupName: 'all',
        serviceRoleArn: 'arn:aws:iam::000000000000:role/fleetdeploy',
        deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
        onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'sim', Type: 'KEY_AND_VALUE' }],
      }));
      const { deploymentId } = await codedeploy.send(new CreateDeploymentCommand({
        applicationName: 'Tiny',
        deploymentGroupName: 'all',
        revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'tiny.zip', bundleType: 'zip' } },
      }));

      // Then it succeeds on all three, each host's files in its own sandbox
      const info = await eventually(async () => {
        const d = (await codedeploy.send(new GetDeploymentCommand({ deploymentId: deploymentId! }))).deploymentInfo!;
        if (!['Succeeded', 'Failed', 'Stopped'].includes(d.status!)) throw new Error(`still ${d.status}`);
        return d;
      }, 60_000, 250);
      expect(info.status).toBe('Succeeded');
      expect(info.deploymentOverview?.Succeeded).toBe(3);
      for (const host of ['sim-1', 'sim-2', 'sim-3']) {
        const dest = path.join(data, 'hosts', host, 'files/srv/tiny');
        expect(fs.readFileSync(path.join(dest, 'index.html'), 'utf8')).toBe('<p>tiny</p>\n');
        expect(fs.readFileSync(path.join(dest, 'deployed-by-hook'), 'utf8').trim()).toMatch(/^d-/);
      }
      expect(fs.existsSync('/srv/tiny/index.html')).toBe(false);
    } finally {
      codedeploy.destroy();
      s3.destroy();
    }

    // When interrupted, it stops everything and exits 0
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
    expect(sim.stdout()).toMatch(/^stopped$/m);
    expect(sim.stderr()).toBe('');
    expect(processesMentioning(data)).toEqual([]);
  }, 90_000);

  it.each([
    [['--agents', '0'], /^ERROR: --agents: expected a whole number from 1 to 200, got "0"$/],
    [['--agents', 'abc'], /^ERROR: --agents: expected a whole number from 1 to 200, got "abc"$/],
    [['--agents', '201'], /^ERROR: --agents: expected a whole number from 1 to 200, got "201"$/],
    [['--port', '70000'], /^ERROR: --port: expected a whole number from 0 to 65535, got "70000"$/],
    [['--port', '7190', '--agent-port', '7190'], /^ERROR: --agent-port: must differ from --port \(both are 7190\)$/],
    [['--frobnicate'], /^ERROR: unknown option '--frobnicate'/],
  ])('refuses %j with one ERROR line and exit 1', async (args, message) => {
    const r = await runCli(['simulate', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(r.stdout).toBe('');
  });

  it('names the API port when another process holds it, and starts nothing', async () => {
    const held = await listenOn();
    try {
      const r = await runCli(['simulate', '--port', String(held.port), '--data-dir', path.join(work, 'data')]);
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^ERROR: port ${held.port} on 127\\.0\\.0\\.1 \\(the CodeDeploy API\\) is already in use by another process: stop it or pick another port with --port\\n$`));
      expect(processesMentioning(work)).toEqual([]);
    } finally {
      await held.close();
    }
  });

  it('names the agents\' port when another process holds it', async () => {
    const held = await listenOn();
    try {
      const r = await runCli(['simulate', '--port', '0', '--agent-port', String(held.port), '--data-dir', path.join(work, 'data')]);
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`ERROR: port ${held.port} on 127.0.0.1 (the agents' gRPC service) is already in use`);
      expect(r.stderr).toContain('--agent-port');
    } finally {
      await held.close();
    }
  });

  it('refuses a --data-dir that is a file', async () => {
    const file = path.join(work, 'a-file');
    fs.writeFileSync(file, '');
    const r = await runCli(['simulate', '--port', '0', '--data-dir', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^ERROR: --data-dir: cannot write to ${file}: EEXIST`));
  });

  it.each([
    ['an agent', 'hosts/sim-2/agent.yml', /^ERROR: agent sim-2 was killed by SIGKILL.*\(its log: .*hosts\/sim-2\/agent\.log\)$/],
    ['the coordinator', ' serve ', /^ERROR: the coordinator was killed by SIGKILL.*\(its log: .*coordinator\.log\)$/],
  ])('when %s dies, says which, stops the rest and exits 1', async (_who, marker, message) => {
    const data = path.join(work, 'data');
    const sim = startCli(['simulate', '--agents', '2', '--port', '0', '--data-dir', data]);
    await waitFor(sim, /^all 2 agents connected/m);
    const victim = processesMentioning(data).filter((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(marker));
    expect(victim).toHaveLength(1);
    process.kill(victim[0]!, 'SIGKILL');
    expect(await sim.exited).toBe(1);
    expect(sim.stderr().trimEnd().split('\n')).toHaveLength(1);
    expect(sim.stderr().trimEnd()).toMatch(message);
    expect(processesMentioning(data)).toEqual([]);
  }, 60_000);
});

describe('npm run demo', () => {
  it('deploys the sample web site to three simulated hosts, one at a time, and exits 0', async () => {
    const t0 = Date.now();
    const demo = startCli([], path.join(REPO, 'scripts/demo.mjs'));
    const code = await demo.exited;
    expect(code, `${demo.stdout()}\n${demo.stderr()}`).toBe(0);
    expect(demo.stdout()).toMatch(/^ {2}Deployment d-\S+ Succeeded on 3 of 3 hosts/m);
    for (const host of ['sim-1', 'sim-2', 'sim-3']) {
      expect(demo.stdout()).toMatch(new RegExp(`^ {2}\\[ *[\\d.]+s\\] ${host} +ValidateService +Succeeded$`, 'm'));
    }
    expect(demo.stdout()).toMatch(/scripts\.log: \S+\/logs\/scripts\.log$/m);
    expect(demo.stdout()).toMatch(/aws deploy get-deployment --deployment-id d-\S+ --endpoint-url/);
    expect(demo.stderr()).toBe('');
    expect(processesMentioning(path.join(os.tmpdir(), 'fleetdeploy-demo'))).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 120_000);
});
