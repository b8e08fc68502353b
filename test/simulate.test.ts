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
import type { CreateDeploymentCommandInput, CreateDeploymentGroupCommandInput, DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSimulateOptions } from '../packages/cli/src/simulate/options.js';
import { failureSummary, followLog } from '../packages/cli/src/simulate/daemon-log.js';
import { daemonBin } from '../packages/cli/src/simulate/processes.js';
import { agentConfigText, simHosts } from '../packages/cli/src/simulate/sandbox.js';
import { eventually } from './harness/eventually.js';
import { trustingCa } from './harness/aws-cli.js';
import { describeWithTools } from './harness/system-tools.js';
import { findHaproxy, haproxyConfigText, HAPROXY_INSTALL } from '../packages/cli/src/simulate/haproxy.js';
import { siteFile } from '../packages/cli/src/simulate/site-servers.js';

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

/**
 * deployToSim uploads `bundle`, makes application `app` with group `group` over env=sim (AllAtOnce,
 * plus `groupExtra`), deploys it (plus `deploymentExtra`) and waits for the deployment to end.
 */
async function deployToSim(
  codedeploy: CodeDeployClient,
  s3: S3Client,
  o: { app: string; group: string; bundle: Buffer; groupExtra?: Partial<CreateDeploymentGroupCommandInput>; deploymentExtra?: Partial<CreateDeploymentCommandInput> },
): Promise<DeploymentInfo> {
  const key = `${o.app}.zip`;
  await s3.send(new CreateBucketCommand({ Bucket: 'revisions' }));
  await s3.send(new PutObjectCommand({ Bucket: 'revisions', Key: key, Body: o.bundle }));
  await codedeploy.send(new CreateApplicationCommand({ applicationName: o.app }));
  await codedeploy.send(new CreateDeploymentGroupCommand({
    applicationName: o.app,
    deploymentGroupName: o.group,
    serviceRoleArn: 'arn:aws:iam::000000000000:role/fleetdeploy',
    deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
    onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'sim', Type: 'KEY_AND_VALUE' }],
    ...o.groupExtra,
  }));
  const { deploymentId } = await codedeploy.send(new CreateDeploymentCommand({
    applicationName: o.app,
    deploymentGroupName: o.group,
    revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key, bundleType: 'zip' } },
    ...o.deploymentExtra,
  }));
  return eventually(async () => {
    const d = (await codedeploy.send(new GetDeploymentCommand({ deploymentId: deploymentId! }))).deploymentInfo!;
    if (!['Succeeded', 'Failed', 'Stopped'].includes(d.status!)) throw new Error(`still ${d.status}`);
    return d;
  }, 60_000, 250);
}

describe('fleetdeploy simulate', () => {
  it('runs three sandboxed agents that a deployment through the SDK reaches, and stops cleanly on SIGINT', async () => {
    // Given a simulation of three hosts on free ports
    const data = path.join(work, 'data');
    const sim = startCli(['simulate', '--agents', '3', '--port', '0', '--data-dir', data]);
    const endpoint = (await waitFor(sim, /^API endpoint \(CodeDeploy and S3\): (\S+)$/m))[1]!;
    // Lines a shell can paste: the key, the region and the endpoint
    const keyId = (await waitFor(sim, /^  export AWS_ACCESS_KEY_ID=(\S+)$/m))[1]!;
    const secret = (await waitFor(sim, /^  export AWS_SECRET_ACCESS_KEY=(\S+)$/m))[1]!;
    await waitFor(sim, /^  export AWS_DEFAULT_REGION=us-east-1$/m); // lines arrive in chunks: wait for each, never read once
    await waitFor(sim, new RegExp(`^  export FLEETDEPLOY_ENDPOINT=${endpoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    // The API speaks HTTPS; the CA it chains to is the coordinator's own, printed for AWS_CA_BUNDLE
    expect(endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const caFile = (await waitFor(sim, /^  export AWS_CA_BUNDLE=(\S+)$/m))[1]!;
    expect(caFile).toBe(path.join(data, 'coordinator', 'ca', 'ca.pem'));
    expect((await waitFor(sim, /^agents' enrolment port: +(\S+)$/m))[1]).toMatch(/^127\.0\.0\.1:\d+$/);
    // The printed key is the coordinator's real admin key, from the file it wrote once
    expect(keyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(fs.readFileSync(path.join(data, 'coordinator', 'admin-credentials'), 'utf8')).toContain(`aws_access_key_id = ${keyId}\naws_secret_access_key = ${secret}\n`);
    await waitFor(sim, new RegExp(`--endpoint-url ${endpoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await waitFor(sim, /^all 3 agents connected/m);
    // Each host was enrolled and speaks mutual TLS: its own key (0600) and certificate, the coordinator's CA
    for (const host of ['sim-1', 'sim-2', 'sim-3']) {
      const tls = path.join(data, 'hosts', host, 'root', 'fleetdeploy-agent', 'tls');
      expect(fs.statSync(path.join(tls, 'key.pem')).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(tls, 'ca.pem'), 'utf8')).toBe(fs.readFileSync(path.join(data, 'coordinator', 'ca', 'ca.pem'), 'utf8'));
      expect(fs.readFileSync(path.join(data, 'hosts', host, 'agent.log'), 'utf8')).toContain('"tls":"mutual"');
    }

    const credentials = { accessKeyId: keyId, secretAccessKey: secret };
    const codedeploy = new CodeDeployClient({ endpoint, region: 'us-east-1', credentials, ...trustingCa(caFile) });
    const s3 = new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true, ...trustingCa(caFile) });
    try {
      // Then the hosts are registered with alternating roles
      const { instanceInfos } = await codedeploy.send(new BatchGetOnPremisesInstancesCommand({ instanceNames: ['sim-1', 'sim-2', 'sim-3'] }));
      const tags = Object.fromEntries((instanceInfos ?? []).map((i) => [i.instanceName, (i.tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort()]));
      expect(tags).toEqual({ 'sim-1': ['env=sim', 'role=web'], 'sim-2': ['env=sim', 'role=api'], 'sim-3': ['env=sim', 'role=web'] });

      // When a tiny bundle is deployed to env=sim
      const info = await deployToSim(codedeploy, s3, { app: 'Tiny', group: 'all', bundle: tinyBundle() });

      // Then it succeeds on all three, each host's files in its own sandbox
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
    [['--haproxy-port', '7300'], /^ERROR: --haproxy-port: it is the port of the simulation's HAProxy; give --haproxy too$/],
    [['--haproxy', '--haproxy-port', '7180'], /^ERROR: --haproxy-port: 7180 is one of the coordinator's ports; pick another$/],
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

describeWithTools(['haproxy'], 'fleetdeploy simulate --haproxy', () => {
  it('puts a real HAProxy before the hosts, which a blue/green deployment through the SDK moves to the replacement', async () => {
    // Given a simulation of two hosts behind HAProxy: sim-1 (role=web) serves, sim-2 (role=api) waits disabled
    const data = path.join(work, 'data');
    const front = await listenOn();
    await front.close();
    const sim = startCli(['simulate', '--agents', '2', '--port', '0', '--data-dir', data, '--haproxy', '--haproxy-port', String(front.port)]);
    const url = (await waitFor(sim, /^HAProxy \(--haproxy\): (\S+) +backend sim-web/m))[1]!;
    await waitFor(sim, /^  serving: sim-1 \(role=web\); waiting disabled: sim-2 \(role=api\)$/m);
    const endpoint = (await waitFor(sim, /^API endpoint \(CodeDeploy and S3\): (\S+)$/m))[1]!;
    const keyId = (await waitFor(sim, /^  export AWS_ACCESS_KEY_ID=(\S+)$/m))[1]!;
    const secret = (await waitFor(sim, /^  export AWS_SECRET_ACCESS_KEY=(\S+)$/m))[1]!;
    const caFile = (await waitFor(sim, /^  export AWS_CA_BUNDLE=(\S+)$/m))[1]!;
    await waitFor(sim, /^all 2 agents connected/m);
    const before = await fetch(url);
    expect(before.status).toBe(404);
    expect(await before.text()).toBe('sim-1: nothing installed at /var/www/html/\n');

    const credentials = { accessKeyId: keyId, secretAccessKey: secret };
    const codedeploy = new CodeDeployClient({ endpoint, region: 'us-east-1', credentials, ...trustingCa(caFile) });
    const s3 = new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true, ...trustingCa(caFile) });
    try {
      // When a blue/green group over both hosts deploys a site to the role=api host
      const zip = new AdmZip();
      zip.addFile('appspec.yml', Buffer.from('version: 0.0\nos: linux\nfiles:\n  - source: index.html\n    destination: /var/www/html\n'));
      zip.addFile('index.html', Buffer.from('<p>green</p>\n'));
      const info = await deployToSim(codedeploy, s3, {
        app: 'Site',
        group: 'bg',
        bundle: zip.toBuffer(),
        groupExtra: {
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          loadBalancerInfo: { targetGroupInfoList: [{ name: 'sim-web' }] },
          blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE' }, deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' } },
        },
        deploymentExtra: { targetInstances: { tagFilters: [{ Key: 'role', Value: 'api', Type: 'KEY_AND_VALUE' }] } },
      });
      // Then HAProxy sends every request to sim-2's new site
      expect(info.status).toBe('Succeeded');
      for (let i = 0; i < 6; i++) {
        const r = await fetch(url);
        expect([r.status, r.headers.get('x-served-by'), await r.text()]).toEqual([200, 'sim-2', '<p>green</p>\n']);
      }
    } finally {
      codedeploy.destroy();
      s3.destroy();
    }
    sim.child.kill('SIGINT');
    expect(await sim.exited).toBe(0);
    expect(processesMentioning(data)).toEqual([]); // HAProxy included: its configuration is in the data dir
  }, 90_000);
});

describe('fleetdeploy simulate killed without a chance to stop its children', () => {
  const childrenOf = (data: string, except: number[]): number[] => processesMentioning(data).filter((pid) => !except.includes(pid));

  it('SIGKILLed itself: the coordinator and the agents stop as their standard input closes', async () => {
    const data = path.join(work, 'data');
    const sim = startCli(['simulate', '--agents', '2', '--port', '0', '--data-dir', data]);
    await waitFor(sim, /^all 2 agents connected/m);
    expect(childrenOf(data, [sim.child.pid!])).toHaveLength(3);
    sim.child.kill('SIGKILL');
    await eventually(() => expect(processesMentioning(data)).toEqual([]), 20_000, 100);
    expect(fs.readFileSync(path.join(data, 'coordinator.log'), 'utf8')).toContain('"signal":"stdin closed"');
  }, 60_000);

  it('its wrapper (npx) SIGKILLed: it stops everything as on a hang-up', async () => {
    const data = path.join(work, 'data');
    const wrapper = path.join(work, 'wrapper.mjs');
    fs.writeFileSync(wrapper, "import { spawn } from 'node:child_process';\nspawn(process.execPath, process.argv.slice(2), { stdio: 'inherit' });\nsetInterval(() => undefined, 60_000);\n");
    const sim = startCli([CLI, 'simulate', '--agents', '1', '--port', '0', '--data-dir', data], wrapper);
    await waitFor(sim, /^the agent connected/m);
    sim.child.kill('SIGKILL');
    await eventually(() => expect(processesMentioning(data)).toEqual([]), 20_000, 100);
    await eventually(() => expect(sim.stdout()).toMatch(/^SIGHUP: stopping the agents and the coordinator\nstopped$/m), 5_000, 50);
  }, 60_000);
});

describe('fleetdeploy simulate on a data dir used before', () => {
  it('keeps the registered hosts, waits for this run\'s connections, and stops on SIGTERM', async () => {
    const data = path.join(work, 'data');
    for (let run = 1; run <= 2; run++) {
      const sim = startCli(['simulate', '--agents', '2', '--port', '0', '--data-dir', data]);
      await waitFor(sim, /^all 2 agents connected/m);
      // The second run's "connected" lines come after its own endpoint block, not from the old logs.
      expect(sim.stdout().indexOf('agent sim-1 connected')).toBeGreaterThan(sim.stdout().indexOf('API endpoint'));
      sim.child.kill('SIGTERM');
      expect(await sim.exited, sim.stderr()).toBe(0);
      expect(sim.stdout()).toMatch(/^SIGTERM: stopping the agents and the coordinator$/m);
    }
    expect(processesMentioning(data)).toEqual([]);
  }, 60_000);

  it('says why when the coordinator cannot start, in one line', async () => {
    const data = path.join(work, 'data');
    fs.mkdirSync(data);
    fs.writeFileSync(path.join(data, 'coordinator'), 'not a folder');
    const r = await runCli(['simulate', '--port', '0', '--data-dir', data]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^ERROR: the coordinator exited before it was ready: .*EEXIST.*\(its log: .*coordinator\.log\)$/m);
    expect(processesMentioning(data)).toEqual([]);
  });
});

describe('the simulation\'s pieces', () => {
  it('--haproxy: finds haproxy on PATH or in /usr/sbin, and says what to install when it is in neither', () => {
    expect(findHaproxy('/nonexistent', '')).toBeUndefined();
    expect(HAPROXY_INSTALL).toContain('apt-get install haproxy');
    const config = haproxyConfigText({ socket: '/d/haproxy.sock', host: '127.0.0.1', port: 7190, servers: [{ name: 'sim-1', port: 4001, disabled: false }, { name: 'sim-2', port: 4002, disabled: true }] });
    expect(config).toContain('stats socket /d/haproxy.sock mode 600 level admin');
    expect(config).toContain('  server sim-1 127.0.0.1:4001\n  server sim-2 127.0.0.1:4002 disabled\n');
  });

  it('--haproxy: a host serves only files under its /var/www/html', () => {
    expect(siteFile('/h/www', '/')).toBe('/h/www/index.html');
    expect(siteFile('/h/www', '/a/b.css?x=1')).toBe('/h/www/a/b.css');
    expect(siteFile('/h/www', '/../../etc/passwd')).toBe('/h/www/etc/passwd'); // normalised inside the root
    expect(siteFile('/h/www', '/%2e%2e/%2e%2e/etc/passwd')).toBe('/h/www/etc/passwd');
    expect(siteFile('/h/www', '/%E0%A4%A')).toBeUndefined();
  });

  it('parses options: defaults, the agents\' port next to the API\'s, port 0 for both', () => {
    expect(parseSimulateOptions({})).toEqual({ agents: 3, host: '127.0.0.1', apiPort: 7180, agentPort: 7181, dataDir: undefined, localAws: false, lambdaHooksFile: undefined, coordinatorSettings: {} });
    expect(parseSimulateOptions({ localAws: true, lambdaHooks: 'hooks.json' })).toMatchObject({ localAws: true, lambdaHooksFile: path.resolve('hooks.json') });
    expect(parseSimulateOptions({ port: '9000', agents: '200' })).toMatchObject({ apiPort: 9000, agentPort: 9001, agents: 200 });
    expect(parseSimulateOptions({ port: '0' })).toMatchObject({ apiPort: 0, agentPort: 0 });
    expect(parseSimulateOptions({ port: '0', agentPort: '9100', dataDir: 'rel' })).toMatchObject({ apiPort: 0, agentPort: 9100, dataDir: path.resolve('rel') });
    expect(() => parseSimulateOptions({ port: '65535' })).toThrow(/--port: 65535 leaves no port for the agents/);
    expect(() => parseSimulateOptions({ host: 'a b' })).toThrow(/--host: expected an address/);
    expect(() => parseSimulateOptions({ dataDir: ' ' })).toThrow(/--data-dir: expected a folder/);
  });

  it('gives hosts alternating roles and a sandboxed agent configuration', () => {
    const hosts = simHosts('/d', 3);
    expect(hosts.map((h) => `${h.name}:${h.tags.map((t) => `${t.Key}=${t.Value}`).join(',')}`)).toEqual(['sim-1:role=web,env=sim', 'sim-2:role=api,env=sim', 'sim-3:role=web,env=sim']);
    expect(agentConfigText(hosts[1]!, '127.0.0.1:7181')).toContain('root_dir: "/d/hosts/sim-2/root"\ndestination_root: "/d/hosts/sim-2/files"\ncoordinator: "127.0.0.1:7181"\ninstance_name: "sim-2"\n');
  });

  it('says how to build when a daemon\'s program is missing, and how to install when its package is', () => {
    const pkg = path.join(work, 'node_modules/@fleetdeploy/agent');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"@fleetdeploy/agent","version":"0.1.0"}');
    const from = path.join(work, 'here.js');
    expect(() => daemonBin('@fleetdeploy/agent', 'fleetdeploy-agent.js', 'dist/fleetdeploy-agent.mjs', from)).toThrow(/^@fleetdeploy\/agent is not built \(.*dist\/fleetdeploy-agent\.mjs is missing\): run `npm run build`$/);
    expect(() => daemonBin('@fleetdeploy/coordinator', 'fleetdeploy-coordinator.js', 'dist/main.js', from)).toThrow(/^@fleetdeploy\/coordinator is not installed: run `npm ci`/);
    expect(daemonBin('@fleetdeploy/agent', 'fleetdeploy-agent.js', 'dist/fleetdeploy-agent.mjs')).toBe(path.join(REPO, 'packages/agent/bin/fleetdeploy-agent.js'));
  });

  it('sums up why a daemon stopped from this run\'s part of its log', () => {
    const log = path.join(work, 'x.log');
    fs.writeFileSync(log, 'ERROR: an old run\n');
    const from = fs.statSync(log).size;
    expect(failureSummary(log, from)).toBeUndefined();
    fs.appendFileSync(log, '{"level":30,"msg":"connected to coordinator"}\n{"level":50,"msg":"stop failed","err":{"message":"boom"}}\n');
    expect(failureSummary(log, from)).toBe('stop failed: boom');
    fs.appendFileSync(log, 'file:///x.js:1\nTypeError [ERR_X]: bad thing\n    at f (x.js:1:1)\n\nNode.js v20.20.2\n');
    expect(failureSummary(log, from)).toBe('TypeError [ERR_X]: bad thing');
    fs.appendFileSync(log, 'ERROR: configuration file /c.yml cannot be read: ENOENT\n');
    expect(failureSummary(log, from)).toBe('configuration file /c.yml cannot be read: ENOENT');
    expect(failureSummary(path.join(work, 'missing.log'))).toBeUndefined();
  });

  it('follows a log from an offset until a line matches', async () => {
    const log = path.join(work, 'follow.log');
    fs.writeFileSync(log, 'ready\n');
    const seen: string[] = [];
    const stop = new AbortController();
    const found = followLog(log, (l) => (seen.push(l), l === 'ready'), stop.signal, fs.statSync(log).size, 10);
    fs.appendFileSync(log, 'starting\nrea');
    fs.appendFileSync(log, 'dy\n');
    expect(await found).toBe(true);
    expect(seen).toEqual(['starting', 'ready']);
    const never = followLog(log, () => false, stop.signal, 0, 10);
    stop.abort();
    expect(await never).toBe(false);
  });
});

describe('npm run demo', () => {
  it('deploys the sample web site to three simulated hosts, one at a time, and exits 0', async () => {
    const t0 = Date.now();
    const demo = startCli([], path.join(REPO, 'scripts/demo.mjs'));
    const code = await demo.exited;
    expect(code, `${demo.stdout()}\n${demo.stderr()}`).toBe(0);
    // the demo runs the operator's commands, and shows what `fleetdeploy deploy --watch` prints (here without a terminal)
    expect(demo.stdout()).toMatch(/^ {2}\$ fleetdeploy deploy --application HelloWeb --group HelloWeb-sim --bundle \S+ --description 'npm run demo' --watch$/m);
    expect(demo.stdout()).toMatch(/^Created deployment d-[A-Z0-9]{9} of s3:\/\/fleetdeploy-revisions\/HelloWeb\/hello-web-\d{8}T\d{6}Z\.zip to HelloWeb\/HelloWeb-sim$/m);
    for (const host of ['sim-1', 'sim-2', 'sim-3']) {
      expect(demo.stdout()).toMatch(new RegExp(`^${host} +ValidateService +Succeeded  \\d+\\.\\d s$`, 'm'));
      expect(demo.stdout()).toMatch(new RegExp(`^${host} +instance Succeeded$`, 'm'));
    }
    expect(demo.stdout()).toMatch(/^Deployment d-[A-Z0-9]{9} Succeeded: 3 succeeded, 0 failed, 0 skipped in \d+\.\d s$/m);
    expect(demo.stdout()).not.toMatch(/^ {2}\[ *[\d.]+s\] /m); // the demo's own polling renderer is gone
    expect(demo.stdout()).toMatch(/scripts\.log: \S+\/logs\/scripts\.log$/m);
    expect(demo.stdout()).toMatch(/aws deploy get-deployment --deployment-id d-\S+ --endpoint-url/);
    expect(demo.stderr()).toBe('');
    expect(processesMentioning(path.join(os.tmpdir(), 'fleetdeploy-demo'))).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 120_000);

  it('says in one line when it cannot make its folder, and exits 1', async () => {
    const notAFolder = path.join(work, 'file');
    fs.writeFileSync(notAFolder, '');
    const demo = spawn(process.execPath, [path.join(REPO, 'scripts/demo.mjs')], { env: { ...process.env, TMPDIR: notAFolder }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    demo.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const code = await new Promise((resolve) => demo.once('close', resolve));
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`^ERROR: cannot make a fresh ${notAFolder}/fleetdeploy-demo: ENOTDIR \\(set TMPDIR to a folder you may write to\\)\n$`));
  });
});
