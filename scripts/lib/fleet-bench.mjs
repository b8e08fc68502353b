// Shared pieces of the fleet benchmarks (bench-fleet, bench-soak, bench-storm): a real coordinator
// child process, /proc sampling, the SDK clients, bundles, registration, and agent worker processes.
// Everything runs on loopback; every child is started in its own process group and killed at exit.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import AdmZip from 'adm-zip';
import pMap from 'p-map';
import {
  AddTagsToOnPremisesInstancesCommand,
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  ListDeploymentTargetsCommand,
  RegisterOnPremisesInstanceCommand,
} from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const COORDINATOR_BIN = path.join(REPO, 'packages/coordinator/bin/fleetdeploy-coordinator.js');
export const AGENT_BIN = path.join(REPO, 'packages/agent/bin/fleetdeploy-agent.js');
export const WORKER = path.join(REPO, 'scripts/bench-agents-worker.mjs');
export const APP = 'bench-app';
export const BUCKET = 'bench-revisions';
export const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';
const CREDENTIALS = { accessKeyId: 'AKIAFLEETDEPLOYBENCH', secretAccessKey: 'fleetdeploy-bench-secret' };
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

// ---------------------------------------------------------------------------------------------
// Cleanup: every child process group and temporary folder, on normal exit, failure or signal.
const children = new Set();
const tempDirs = [];
const hooks = [];
let cleaned = false;

/** onCleanup runs `fn` (synchronous) at cleanup, after the children are killed and before the folders go. */
export function onCleanup(fn) {
  hooks.push(fn);
}

export function tempDir(prefix, parent = os.tmpdir()) {
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  tempDirs.push(dir);
  return dir;
}

function killGroup(child, signal = 'SIGKILL') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

export function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) killGroup(c);
  for (const fn of hooks) {
    try {
      fn();
    } catch (err) {
      console.error('cleanup:', err?.message ?? err);
    }
  }
  for (const d of tempDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      /* best effort */
    }
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}
process.on('uncaughtException', (err) => {
  console.error('FATAL', err);
  cleanup();
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  console.error('FATAL', err);
  cleanup();
  process.exit(1);
});

/** spawnGroup starts a child in its own process group (detached), tracked for cleanup. */
export function spawnGroup(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...opts });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

/** main runs `fn` with a global deadline, cleans up, and exits with its code. */
export function main(fn, deadlineMs) {
  const timer = setTimeout(() => {
    console.error(`FAIL: the benchmark did not finish within ${deadlineMs / 1000} s`);
    cleanup();
    process.exit(2);
  }, deadlineMs);
  timer.unref();
  fn().then(
    (code) => {
      cleanup();
      process.exit(code ?? 0);
    },
    (err) => {
      console.error('FAIL:', err?.stack ?? err);
      cleanup();
      process.exit(1);
    },
  );
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** withTimeout rejects when `promise` is not settled within `ms`. */
export function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

// ---------------------------------------------------------------------------------------------
// /proc sampling.

/** procStatus returns VmRSS and VmHWM of a process in MB (undefined when it is gone). */
export function procMem(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** procCpuSeconds is utime + stime of a process, in seconds. */
export function procCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** RssSampler polls VmRSS every `ms` and keeps the peak. */
export class RssSampler {
  constructor(pid, ms = 100) {
    this.peakMb = 0;
    this.timer = setInterval(() => {
      const m = procMem(pid);
      if (m && m.rssMb > this.peakMb) this.peakMb = m.rssMb;
    }, ms);
  }
  stop() {
    clearInterval(this.timer);
    return this.peakMb;
  }
}

// ---------------------------------------------------------------------------------------------
// The coordinator.

/**
 * PLAINTEXT_FLAG: a coordinator that requires mutual TLS from agents has a test-only
 * --plaintext-agents flag (agents then say `plaintext: true`, a key older agents ignore); loopback
 * benchmarks use it when the built coordinator has it.
 */
const PLAINTEXT_FLAG = (() => {
  try {
    return execFileSync(process.execPath, [COORDINATOR_BIN, 'serve', '--help'], { encoding: 'utf8' }).includes('--plaintext-agents') ? ['--plaintext-agents'] : [];
  } catch {
    return [];
  }
})();

/** startCoordinator runs `fleetdeploy-coordinator serve` (with `nodeArgs` for node, e.g. --cpu-prof) and resolves on its listening line. */
export async function startCoordinator({ dataDir, apiPort = 0, agentPort = 0, env = {}, args = [], nodeArgs = [] }) {
  // BENCH_COORDINATOR_LOG_DIR=DIR keeps each coordinator's whole log in DIR/<pid>.log (diagnosis), at BENCH_COORDINATOR_LOG_LEVEL (default warn).
  const level = process.env.BENCH_COORDINATOR_LOG_LEVEL ?? 'warn';
  const child = spawnGroup(process.execPath, [...nodeArgs, COORDINATOR_BIN, 'serve', '--data-dir', dataDir, '--port', String(apiPort), '--agent-port', String(agentPort), '--log-level', level, ...PLAINTEXT_FLAG, ...args], {
    env: { ...process.env, ...env },
  });
  const logFile = process.env.BENCH_COORDINATOR_LOG_DIR === undefined ? undefined : fs.createWriteStream(path.join(process.env.BENCH_COORDINATOR_LOG_DIR, `${child.pid}.log`));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c) => {
    logFile?.write(c);
    stderr += c;
    if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
  });
  const line = await withTimeout(
    new Promise((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).on('line', (l) => {
        if (l.startsWith('fleetdeploy-coordinator listening')) resolve(l);
      });
      void child.exited.then(({ code, signal }) => reject(new Error(`coordinator exited (${code ?? signal}) before listening:\n${stderr.slice(-4000)}`)));
    }),
    30_000,
    'coordinator start',
  );
  const apiUrl = /api=(\S+)/.exec(line)[1];
  const agentAddress = /agents=(\S+)/.exec(line)[1].replace(/^grpc:\/\//, '');
  return { child, pid: child.pid, apiUrl, agentAddress, dataDir, logs: () => stderr };
}

/**
 * credentialsOf uses the admin key a coordinator that checks signatures writes to
 * `<dataDir>/admin-credentials` on its first start; dummies for one that does not check them.
 */
function credentialsOf(dataDir) {
  try {
    const text = fs.readFileSync(path.join(dataDir, 'admin-credentials'), 'utf8');
    const id = /aws_access_key_id\s*=\s*(\S+)/.exec(text)?.[1];
    const secret = /aws_secret_access_key\s*=\s*(\S+)/.exec(text)?.[1];
    if (id && secret) return { accessKeyId: id, secretAccessKey: secret };
  } catch {
    /* no admin key: signatures are not checked */
  }
  return CREDENTIALS;
}

/** trustingCoordinator is the SDK option that trusts the coordinator's CA (<dataDir>/ca/ca.pem) for an https:// API. */
export function trustingCoordinator(apiUrl, dataDir) {
  if (!apiUrl.startsWith('https:')) return {};
  return { requestHandler: { httpsAgent: new https.Agent({ keepAlive: true, ca: fs.readFileSync(path.join(dataDir, 'ca', 'ca.pem'), 'utf8') }) } };
}

export function clients(apiUrl, dataDir) {
  const credentials = credentialsOf(dataDir);
  const trust = trustingCoordinator(apiUrl, dataDir);
  const cd = new CodeDeployClient({ endpoint: apiUrl, region: 'us-east-1', credentials, maxAttempts: 1, ...trust });
  const s3 = new S3Client({ endpoint: apiUrl, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1, ...trust });
  return { cd, s3 };
}

/** Sha256 is the hash SignatureV4 asks for (a constructor; with a secret it is an HMAC), from node:crypto. */
class Sha256 {
  constructor(secret) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

/**
 * leanCodeDeploy makes CodeDeploy calls (JSON 1.1, `X-Amz-Target: CodeDeploy_20141006.<Operation>`)
 * signed by @smithy/signature-v4, the signer the AWS SDK itself uses, over one keep-alive agent, but
 * without the SDK client's middleware stack: registering and tagging 10,000 instances, the SDK client
 * took 11–12 CPU s, as much as the coordinator serving it, on the same two cores. `send` resolves to
 * the parsed answer or rejects with `<Operation>: <error type>: <message>`.
 */
export function leanCodeDeploy(apiUrl, dataDir) {
  const url = new URL(apiUrl);
  const tls = url.protocol === 'https:';
  const agent = tls ? new https.Agent({ keepAlive: true, ca: fs.readFileSync(path.join(dataDir, 'ca', 'ca.pem'), 'utf8') }) : new http.Agent({ keepAlive: true });
  const signer = new SignatureV4({ service: 'codedeploy', region: 'us-east-1', credentials: credentialsOf(dataDir), sha256: Sha256 });
  const send = async (operation, input) => {
    const body = JSON.stringify(input);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `CodeDeploy_20141006.${operation}` },
      body,
    });
    const { status, text } = await new Promise((resolve, reject) => {
      const req = (tls ? https : http).request(url, { method: 'POST', agent, headers: signed.headers }, (res) => {
        let answer = '';
        res.setEncoding('utf8').on('data', (c) => (answer += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: answer }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
    const parsed = text === '' ? {} : JSON.parse(text);
    if (status >= 200 && status < 300) return parsed;
    throw new Error(`${operation}: ${String(parsed.__type ?? `HTTP ${status}`).replace(/^.*#/, '')}: ${parsed.message ?? 'no message'}`);
  };
  return { send, destroy: () => agent.destroy() };
}

/**
 * registerInstances registers and tags instances through {@link leanCodeDeploy}, 50 requests in
 * flight: a pool, not lock-step batches of 50, in which the coordinator idled while each batch
 * waited for its slowest request and the next 50 were signed.
 */
export async function registerInstances(apiUrl, dataDir, names, tagsFor) {
  const lean = leanCodeDeploy(apiUrl, dataDir);
  try {
    await pMap(names, (n) => lean.send('RegisterOnPremisesInstance', { instanceName: n, iamUserArn: `arn:aws:iam::000000000000:user/${n}` }), { concurrency: 50 });
    await pMap(names, (n) => lean.send('AddTagsToOnPremisesInstances', { instanceNames: [n], tags: tagsFor(n) }), { concurrency: 50 });
  } finally {
    lean.destroy();
  }
}

export async function createApp(cd, s3) {
  await cd.send(new CreateApplicationCommand({ applicationName: APP }));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}

export async function createGroup(cd, name, config, tagFilters) {
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: APP,
      deploymentGroupName: name,
      serviceRoleArn: ROLE,
      deploymentConfigName: config,
      onPremisesInstanceTagFilters: tagFilters.map(([Key, Value]) => ({ Key, Value, Type: 'KEY_AND_VALUE' })),
    }),
  );
}

/** zipBundle builds a zip of `files` (`.sh` files executable) in memory. */
export function zipBundle(files) {
  const zip = new AdmZip();
  for (const [name, content] of Object.entries(files)) zip.addFile(name, Buffer.from(content, 'utf8'), '', name.endsWith('.sh') ? 0o755 << 16 : 0o644 << 16);
  return zip.toBuffer();
}

export async function upload(s3, key, files) {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: zipBundle(files) }));
  return key;
}

export async function deploy(cd, group, key) {
  const out = await cd.send(new CreateDeploymentCommand({ applicationName: APP, deploymentGroupName: group, revision: { revisionType: 'S3', s3Location: { bucket: BUCKET, key, bundleType: 'zip' } } }));
  return out.deploymentId;
}

const FINAL = new Set(['Succeeded', 'Failed', 'Stopped']);

/** waitFinished polls GetDeployment every `everyMs` until the deployment is final. */
export async function waitFinished(cd, deploymentId, timeoutMs, everyMs = 100) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let info;
    try {
      info = (await cd.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
    } catch (err) {
      // The coordinator may be restarting (bench-storm): keep polling until the deadline.
      if (Date.now() > until) throw err;
    }
    if (info && FINAL.has(info.status)) return info;
    if (Date.now() > until) throw new Error(`deployment ${deploymentId} is still ${info?.status} after ${timeoutMs / 1000} s (overview ${JSON.stringify(info?.deploymentOverview)})`);
    await sleep(everyMs);
  }
}

/** targetStatuses returns instance → status (and failed events) of a deployment. */
export async function targetStatuses(cd, deploymentId) {
  const ids = [];
  let nextToken;
  do {
    const page = await cd.send(new ListDeploymentTargetsCommand({ deploymentId, nextToken }));
    ids.push(...(page.targetIds ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const out = {};
  for (let i = 0; i < ids.length; i += 25) {
    const r = await cd.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids.slice(i, i + 25) }));
    for (const t of r.deploymentTargets ?? []) {
      const it = t.instanceTarget;
      out[it.targetId] = {
        status: it.status,
        failed: (it.lifecycleEvents ?? []).filter((e) => e.status === 'Failed').map((e) => `${e.lifecycleEventName}: ${e.diagnostics?.errorCode} ${e.diagnostics?.message}`),
      };
    }
  }
  return out;
}

/** explain prints why a deployment did not succeed. */
export async function explain(cd, info) {
  console.error(`deployment ${info.deploymentId}: ${info.status} ${info.errorInformation?.code ?? ''} ${info.errorInformation?.message ?? ''} overview ${JSON.stringify(info.deploymentOverview)}`);
  try {
    const t = await targetStatuses(cd, info.deploymentId);
    const bad = Object.entries(t).filter(([, v]) => v.status !== 'Succeeded').slice(0, 10);
    for (const [k, v] of bad) console.error(`  ${k}: ${v.status} ${v.failed.join('; ')}`);
  } catch (err) {
    console.error('  (could not list targets)', err.message);
  }
}

// ---------------------------------------------------------------------------------------------
// Agent workers: processes that each run many agent daemons in-process.

/**
 * startWorkers starts `total` agents named `${prefix}${offset+1}`.. over `processes` workers and
 * returns an object whose `ready()` is the sum of the workers' latest Ready counts.
 */
export function startWorkers({ total, processes, prefix, agentAddress, baseDir, nice = 0 }) {
  const per = Math.ceil(total / processes);
  // BENCH_WORKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the agent workers; they
  // stop on SIGTERM, so the profile is written when the benchmark ends (see stopWorkers).
  const workerNodeArgs = (process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const workers = [];
  for (let w = 0, offset = 0; offset < total; w++, offset += per) {
    const count = Math.min(per, total - offset);
    const child = spawnGroup(process.execPath, [...workerNodeArgs, WORKER, '--count', String(count), '--offset', String(offset), '--prefix', prefix, '--coordinator', agentAddress, '--base-dir', path.join(baseDir, `w${w}`)]);
    // A diagnosis, not the default: with a niceness the simulated agents yield the CPU to the coordinator, as hosts of their own would.
    if (nice !== 0) os.setPriority(child.pid, nice);
    const worker = { child, count, ready: 0, started: false, drops: 0, stderr: '' };
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      const m = /^status ready=(\d+) started=(\d) drops=(\d+)/.exec(l);
      if (m) {
        worker.ready = Number(m[1]);
        worker.started = m[2] === '1';
        worker.drops = Number(m[3]);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c) => {
      worker.stderr = (worker.stderr + c).slice(-20_000);
    });
    workers.push(worker);
  }
  const sum = (k) => workers.reduce((a, w) => a + w[k], 0);
  return {
    workers,
    /** stop sends SIGTERM to every worker and waits (up to 10 s) for them to exit. */
    async stop() {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      await Promise.race([Promise.all(workers.map((w) => w.child.exited)), sleep(10_000)]);
    },
    pids: workers.map((w) => w.child.pid),
    ready: () => sum('ready'),
    drops: () => sum('drops'),
    /** waitReady resolves when `pred(readyCount)` holds (checked every 50 ms), with the time it took. */
    async waitFor(pred, timeoutMs, what) {
      const t0 = Date.now();
      for (;;) {
        const dead = workers.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
        if (dead) throw new Error(`an agent worker exited (${dead.child.exitCode ?? dead.child.signalCode}):\n${dead.stderr}`);
        if (pred(sum('ready'))) return (Date.now() - t0) / 1000;
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}: ${sum('ready')} ready`);
        await sleep(50);
      }
    },
  };
}

/** fsType names the file system a folder is on (ext4, tmpfs...). */
export function fsType(dir) {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : String(n));
export const meets = (ok) => (ok ? 'MET' : 'MISSED');
