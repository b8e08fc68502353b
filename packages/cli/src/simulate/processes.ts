/**
 * Child process supervision for the simulation: the only module that touches child_process. A
 * {@link Supervisor} starts the coordinator and the agents, tells its owner when one exits on its own,
 * and stops them all (SIGTERM, then SIGKILL after a grace). Each child runs in its own process group,
 * so a Ctrl-C in the terminal reaches only `fleetdeploy simulate`, which then stops the agents before
 * the coordinator. If this process exits without stopping them, an exit hook SIGKILLs what is left;
 * if it is killed outright, the stdin pipes it holds close and the daemons (--stop-on-stdin-close) stop.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import readline from 'node:readline';
import { now, withTimeout } from '../clock.js';
import { asLogRecord } from './daemon-log.js';
import { CliError, CliErrorCode } from '../cli-error.js';

/** ExitInfo is how a child process ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Daemon is one supervised child process. */
export interface Daemon {
  /** `coordinator` or the agent's instance name. */
  readonly name: string;
  readonly pid: number;
  /** Where its standard output and error go. */
  readonly logFile: string;
  /** The log's size before this run: this run's output starts there. */
  readonly logStart: number;
  /** exited resolves when the process has ended, whoever ended it. */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
}

/** DaemonSpec says how to start one child. */
export interface DaemonSpec {
  readonly name: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** Pipe stdout to the caller (the coordinator's listening line) instead of the log file. */
  readonly pipeStdout?: boolean;
  /** Variables added to this process's environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Supervisor owns the simulation's children. Build one per simulation with {@link createSupervisor}. */
export interface Supervisor {
  /** start spawns `node <args>` with its output in its log file. */
  start(spec: DaemonSpec): { daemon: Daemon; stdout: NodeJS.ReadableStream | null };
  /** onUnexpectedExit registers the callback for a child that exits before stopAll was called. */
  onUnexpectedExit(callback: (daemon: Daemon, exit: ExitInfo) => void): void;
  /**
   * stopAll stops the agents (in parallel), then the coordinator: SIGTERM, then SIGKILL after
   * `graceMs`. Resolves when every child has exited. Safe to call more than once.
   */
  stopAll(graceMs?: number): Promise<void>;
  daemons(): readonly Daemon[];
}

/** createSupervisor makes a supervisor and hooks process exit so that no child outlives this process. */
export function createSupervisor(): Supervisor {
  const children: { daemon: Daemon; child: ChildProcess }[] = [];
  const callbacks: ((daemon: Daemon, exit: ExitInfo) => void)[] = [];
  let stopping: Promise<void> | undefined;
  const killLeftovers = (): void => {
    for (const { daemon, child } of children) if (daemon.running()) child.kill('SIGKILL');
  };
  process.on('exit', killLeftovers);

  const stopOne = async (entry: { daemon: Daemon; child: ChildProcess }, graceMs: number): Promise<void> => {
    if (!entry.daemon.running()) return;
    entry.child.kill('SIGTERM');
    try {
      await withTimeout(entry.daemon.exited, graceMs, () => new Error('grace over'));
    } catch {
      entry.child.kill('SIGKILL');
      await entry.daemon.exited;
    }
  };

  return {
    start(spec) {
      fs.mkdirSync(path.dirname(spec.logFile), { recursive: true });
      const log = fs.openSync(spec.logFile, 'a');
      const logStart = fs.fstatSync(log).size;
      let child: ChildProcess;
      try {
        child = spawn(process.execPath, [...spec.args], {
          // stdin is a pipe we hold and never write: the daemons get --stop-on-stdin-close, so when
          // this process dies, even by SIGKILL, the kernel closes it and they stop.
          stdio: ['pipe', spec.pipeStdout ? 'pipe' : log, log],
          env: spec.env === undefined ? process.env : { ...process.env, ...spec.env },
          detached: true,
        });
      } finally {
        fs.closeSync(log);
      }
      let ended: ExitInfo | undefined;
      const exited = new Promise<ExitInfo>((resolve) => {
        child.once('exit', (code, signal) => {
          ended = { code, signal };
          resolve(ended);
        });
        child.once('error', () => {
          ended ??= { code: null, signal: null };
          resolve(ended);
        });
      });
      const daemon: Daemon = { name: spec.name, pid: child.pid ?? -1, logFile: spec.logFile, logStart, exited, running: () => ended === undefined && child.pid !== undefined };
      children.push({ daemon, child });
      void exited.then((exit) => {
        if (stopping === undefined) for (const cb of callbacks) cb(daemon, exit);
      });
      return { daemon, stdout: child.stdout };
    },
    onUnexpectedExit(callback) {
      callbacks.push(callback);
    },
    stopAll(graceMs = 10_000) {
      stopping ??= (async () => {
        const agents = children.filter((c) => c.daemon.name !== 'coordinator');
        await Promise.all(agents.map((c) => stopOne(c, graceMs)));
        await Promise.all(children.filter((c) => c.daemon.name === 'coordinator').map((c) => stopOne(c, graceMs)));
        process.removeListener('exit', killLeftovers);
      })();
      return stopping;
    },
    daemons: () => children.map((c) => c.daemon),
  };
}

/**
 * daemonBin finds a workspace package's command (`@fleetdeploy/coordinator` →
 * .../packages/coordinator/bin/fleetdeploy-coordinator.js) and checks that its compiled program exists,
 * else throws NOT_BUILT saying how to build it. `from` is where resolution starts (tests point it elsewhere).
 */
export function daemonBin(pkg: '@fleetdeploy/coordinator' | '@fleetdeploy/agent', bin: string, compiled: string, from: string | URL = import.meta.url): string {
  const require = createRequire(from);
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    throw new CliError(CliErrorCode.NOT_BUILT, `${pkg} is not installed: run \`npm ci\` in the repository`);
  }
  if (!fs.existsSync(path.join(dir, compiled))) throw new CliError(CliErrorCode.NOT_BUILT, `${pkg} is not built (${path.join(dir, compiled)} is missing): run \`npm run build\``);
  return path.join(dir, 'bin', bin);
}

/**
 * waitForLine resolves with the first line of `stream` that starts with `prefix`, or rejects once
 * the stream ends (the daemon exited) without one. Every line is also appended to the daemon's log,
 * as a JSON record like the rest of it ({@link asLogRecord}).
 */
export function waitForLine(stream: NodeJS.ReadableStream, prefix: string, daemon: Daemon): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: stream });
    let found = false;
    lines.on('line', (line) => {
      fs.appendFileSync(daemon.logFile, `${asLogRecord(line, daemon.name, now())}\n`);
      if (!found && line.startsWith(prefix)) {
        found = true;
        resolve(line);
      }
    });
    // 'close' comes after the last line, even when the process has already exited.
    lines.on('close', () => {
      if (!found) reject(new Error(`${daemon.name} ended its output before printing ${prefix}`));
    });
  });
}

/** OneShot is how a one-shot command ended and what it printed. */
export interface OneShot {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * runToEnd runs `node <args>` to its end (a one-shot command: `enrol-token`, `fleetdeploy-agent
 * enrol`), killing it after `timeoutMs`, and returns its exit code and output.
 */
export function runToEnd(args: readonly string[], timeoutMs = 60_000): Promise<OneShot> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null;
      resolve({ code, stdout, stderr });
    });
  });
}
