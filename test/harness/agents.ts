/**
 * Real agent daemons for end-to-end tests: each `fleetdeploy-agent run` is its own process with its
 * own root_dir and destination sandbox, as a separate host would be.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './coordinator.js';

export const AGENT_BIN = path.join(REPO_ROOT, 'packages/agent/bin/fleetdeploy-agent.js');

/** AgentProcess is one running agent daemon. */
export interface AgentProcess {
  name: string;
  /** The agent's root_dir (AWS layout: <group-id>/<deployment-id>/...). */
  rootDir: string;
  /** Where absolute AppSpec destinations land for this host. */
  filesDir: string;
  child: ChildProcess;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** restart starts the same agent again (same folders, same name). */
  restart(): Promise<AgentProcess>;
}

/** startAgent writes the host's configuration under `baseDir/<name>` and starts its daemon. */
export function startAgent(name: string, agentAddress: string, baseDir: string): Promise<AgentProcess> {
  const home = path.join(baseDir, name);
  const rootDir = path.join(home, 'root');
  const filesDir = path.join(home, 'files');
  fs.mkdirSync(rootDir, { recursive: true });
  fs.mkdirSync(filesDir, { recursive: true });
  const configFile = path.join(home, 'agent.yml');
  fs.writeFileSync(
    configFile,
    [`root_dir: ${rootDir}`, `log_dir: ${path.join(home, 'logs')}`, `coordinator: ${agentAddress}`, `instance_name: ${name}`, `destination_root: ${filesDir}`, 'script_kill_grace_seconds: 1', ''].join('\n'),
  );
  const child = spawn(process.execPath, [AGENT_BIN, 'run', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const agent: AgentProcess = {
    name,
    rootDir,
    filesDir,
    child,
    logs: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    restart: () => startAgent(name, agentAddress, baseDir),
  };
  return Promise.resolve(agent);
}
