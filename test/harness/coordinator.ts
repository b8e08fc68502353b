/**
 * startCoordinator runs the built `fleetdeploy-coordinator serve` as a child process on free
 * loopback ports and a temporary data directory, and resolves once it prints its listening line,
 * with the admin key the coordinator wrote to `<dataDir>/admin-credentials` on its first start.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { seedTestCa } from './test-ca.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
export const COORDINATOR_BIN = path.join(REPO_ROOT, 'packages/coordinator/bin/fleetdeploy-coordinator.js');

/** Credentials are an access key the coordinator issued: what the AWS CLI and the SDK sign with. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** readAdminCredentials reads the `[default]` profile of `<dataDir>/admin-credentials`. */
export function readAdminCredentials(dataDir: string): Credentials {
  const text = fs.readFileSync(path.join(dataDir, 'admin-credentials'), 'utf8');
  const value = (name: string): string => {
    const m = new RegExp(`^${name}\\s*=\\s*(\\S+)\\s*$`, 'm').exec(text);
    if (m === null) throw new Error(`${dataDir}/admin-credentials has no ${name}`);
    return m[1]!;
  };
  return { accessKeyId: value('aws_access_key_id'), secretAccessKey: value('aws_secret_access_key') };
}

/** CoordinatorProcess is a running coordinator child process. */
export interface CoordinatorProcess {
  /** `https://127.0.0.1:PORT` (`http://` with --plaintext-api). */
  apiUrl: string;
  /** The CA certificate its API's certificate chains to: `<dataDir>/ca/ca.pem` (aws --ca-bundle). */
  caFile: string;
  agentAddress: string;
  /** Where agents enrol (`fleetdeploy-agent enrol --coordinator`). */
  enrolAddress: string;
  dataDir: string;
  /** credentials are the first admin key (from admin-credentials). */
  credentials: Credentials;
  child: ChildProcess;
  /** stderr so far (pino JSON lines), for assertions and failure messages. */
  logs(): string;
  /** The lines it printed on standard output up to its listening line. */
  printed: string[];
  /** stop sends SIGTERM (or the given signal) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** CoordinatorOptions let a test reuse a data directory (restarts) or pass more flags. */
export interface CoordinatorOptions {
  dataDir?: string;
  args?: string[];
  /** Reuse these ports (a restart that agents reconnect to). */
  apiPort?: number;
  agentPort?: number;
  /** Without it the enrolment port is the agents' port + 1, which may be another process's. */
  enrolPort?: number;
  /** Set in the coordinator's environment over the test's own (AWS_ENDPOINT_URL_CLOUDWATCH, AWS_REGION...). */
  env?: Record<string, string>;
  /** false: start without the run's CA in a new data directory (the coordinator makes or finds its own). */
  seedCa?: boolean;
  /** The admin key to sign with, when this start writes none (a second replica on a shared database). */
  credentials?: Credentials;
}

export async function startCoordinator(opts: CoordinatorOptions = {}): Promise<CoordinatorProcess> {
  if (opts.apiPort === undefined && opts.agentPort === undefined) return startOnce(opts);
  // A restart reuses ports that came from the ephemeral range, where another test's outgoing
  // connection may briefly hold one; try again for a while before calling it a failure.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 20 || !(err instanceof Error) || !err.message.includes('another process uses it')) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function startOnce(opts: CoordinatorOptions): Promise<CoordinatorProcess> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fd-coord-'));
  if (opts.seedCa !== false) seedTestCa(dataDir); // a new data directory starts with the run's CA, which the test workers trust
  const child = spawn(
    process.execPath,
    [COORDINATOR_BIN, 'serve', '--data-dir', dataDir, '--port', String(opts.apiPort ?? 0), '--agent-port', String(opts.agentPort ?? 0), ...(opts.enrolPort === undefined ? [] : ['--enrol-port', String(opts.enrolPort)]), ...(opts.args ?? [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 4_000_000) stderr = stderr.slice(-2_000_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const printed: string[] = [];
  const line = await new Promise<string>((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      if (printed.length < 100) printed.push(l);
      if (l.startsWith('fleetdeploy-coordinator listening')) resolve(l);
    });
    void exited.then((code) => reject(new Error(`coordinator exited with ${code} before listening:\n${stderr}`)));
  });
  const apiUrl = /api=(\S+)/.exec(line)![1]!;
  const agentAddress = /agents=(\S+)/.exec(line)![1]!;
  const enrolAddress = /enrol=(\S+)/.exec(line)![1]!;
  return {
    apiUrl,
    caFile: path.join(dataDir, 'ca', 'ca.pem'),
    agentAddress,
    enrolAddress,
    dataDir,
    credentials: opts.credentials ?? readAdminCredentials(dataDir),
    child,
    logs: () => stderr,
    printed,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
