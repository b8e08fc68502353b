/**
 * Real agent daemons for end-to-end tests: each `fleetdeploy-agent run` is its own process with its
 * own root_dir and destination sandbox, as a separate host would be. Before its first start an agent
 * is enrolled as an operator would do it: `fleetdeploy-coordinator enrol-token` on the coordinator's
 * data directory, then `fleetdeploy-agent enrol`; from then on it speaks mutual TLS.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { COORDINATOR_BIN, REPO_ROOT } from './coordinator.js';

export const AGENT_BIN = path.join(REPO_ROOT, 'packages/agent/bin/fleetdeploy-agent.js');

/** AgentTarget is the coordinator an agent enrols with and connects to (a CoordinatorProcess is one). */
export interface AgentTarget {
  agentAddress: string;
  enrolAddress: string;
  dataDir: string;
  /** The PostgreSQL database of replicas: enrol-token mints there rather than in the data directory. */
  database?: string;
}

/** AgentOptions change how one agent starts. */
export interface AgentOptions {
  /** Skip enrolment (the test enrols, or tests an agent without a certificate). */
  enrol?: boolean;
  /** Extra agent.yml lines. */
  config?: string[];
  /** Extra environment of `enrol` and `run` (HTTPS_PROXY, NO_PROXY...). */
  env?: NodeJS.ProcessEnv;
}

/** AgentProcess is one running agent daemon. */
export interface AgentProcess {
  name: string;
  /** The agent's root_dir (AWS layout: <group-id>/<deployment-id>/...). */
  rootDir: string;
  /** Where absolute AppSpec destinations land for this host. */
  filesDir: string;
  /** Its agent.yml. */
  configFile: string;
  /** Its tls folder: key.pem, cert.pem, ca.pem. */
  tlsDir: string;
  child: ChildProcess;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** restart starts the same agent again (same folders, same name, same certificate). */
  restart(): Promise<AgentProcess>;
}

/** Run is a finished command. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 30_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** mintToken runs `fleetdeploy-coordinator enrol-token` on the coordinator's data directory. */
export async function mintToken(target: AgentTarget, instance: string, ttl?: string): Promise<string> {
  const where = target.database === undefined ? ['--data-dir', target.dataDir] : ['--database', target.database];
  const r = await run([COORDINATOR_BIN, 'enrol-token', '--instance', instance, ...where, ...(ttl === undefined ? [] : ['--ttl', ttl])]);
  if (r.code !== 0) throw new Error(`enrol-token --instance ${instance} exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** enrol runs `fleetdeploy-agent enrol` for an agent configuration and returns how it ended. */
export function enrol(configFile: string, enrolAddress: string, token: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run([AGENT_BIN, 'enrol', '--coordinator', enrolAddress, '--token', token, '--config', configFile], env);
}

/** writeAgentConfig writes `baseDir/<name>/agent.yml` and returns the host's paths. */
export function writeAgentConfig(name: string, agentAddress: string, baseDir: string, extra: string[] = []): { home: string; rootDir: string; filesDir: string; configFile: string; tlsDir: string } {
  const home = path.join(baseDir, name);
  const rootDir = path.join(home, 'root');
  const filesDir = path.join(home, 'files');
  fs.mkdirSync(rootDir, { recursive: true });
  fs.mkdirSync(filesDir, { recursive: true });
  const configFile = path.join(home, 'agent.yml');
  fs.writeFileSync(
    configFile,
    // a key in `extra` replaces the default of the same name (YAML refuses a key twice)
    [...[`root_dir: ${rootDir}`, `log_dir: ${path.join(home, 'logs')}`, `coordinator: ${agentAddress}`, `instance_name: ${name}`, `destination_root: ${filesDir}`, 'script_kill_grace_seconds: 1'].filter((line) => !extra.some((e) => e.split(':')[0] === line.split(':')[0])), ...extra, ''].join('\n'),
  );
  return { home, rootDir, filesDir, configFile, tlsDir: path.join(rootDir, 'fleetdeploy-agent', 'tls') };
}

/** startAgent writes the host's configuration under `baseDir/<name>`, enrols it the first time, and starts its daemon. */
export async function startAgent(name: string, target: AgentTarget, baseDir: string, options: AgentOptions = {}): Promise<AgentProcess> {
  const { rootDir, filesDir, configFile, tlsDir } = writeAgentConfig(name, target.agentAddress, baseDir, options.config);
  if (options.enrol !== false && !fs.existsSync(path.join(tlsDir, 'cert.pem'))) {
    const r = await enrol(configFile, target.enrolAddress, await mintToken(target, name), options.env);
    if (r.code !== 0) throw new Error(`fleetdeploy-agent enrol for ${name} exited ${r.code}: ${r.stderr}`);
  }
  const child = spawn(process.execPath, [AGENT_BIN, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    rootDir,
    filesDir,
    configFile,
    tlsDir,
    child,
    logs: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    restart: () => startAgent(name, target, baseDir, { ...options, enrol: false }),
  };
}
