/**
 * The only module of the agent that starts processes. Everything else asks it, so tests and reviews
 * have one place to look for what the agent executes.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { LineSplitter } from './line-splitter.js';
import { signalProcessGroup } from './process-group.js';

/** CommandOutcome is how a helper command (chmod, setfacl, semanage...) ended. */
export interface CommandOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT: not installed). */
  spawnError?: NodeJS.ErrnoException;
}

/**
 * runCommand runs a short helper program without a shell and collects its output. It never throws:
 * callers turn the outcome into the error their step reports.
 */
export function runCommand(file: string, args: readonly string[]): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ code: 0, signal: null, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: unknown; signal?: NodeJS.Signals | null };
      if (typeof e.code === 'string') return resolve({ code: null, signal: null, stdout, stderr, spawnError: e });
      resolve({ code: typeof e.code === 'number' ? e.code : null, signal: e.signal ?? null, stdout, stderr });
    });
  });
}

/** ScriptInvocation says how a hook script is started: the AppSpec's `runas` and `sudo` options. */
export interface ScriptInvocation {
  /** Absolute path of the script. */
  path: string;
  runas?: string;
  sudo?: boolean;
}

/**
 * scriptCommandLine is the AWS agent's command line for a script on Linux: `<path>`,
 * `su <user> -c <path>`, `sudo <path>` or `sudo su <user> -c <path>`. Without a shell in between,
 * a path with spaces stays one argument; after `su -c` it is read by the user's shell, so it is
 * quoted there only when it holds characters that shell would split or expand.
 */
export function scriptCommandLine(script: ScriptInvocation, platform: NodeJS.Platform = process.platform): { file: string; args: string[] } {
  if (platform === 'win32') return windowsScriptCommandLine(script.path);
  const viaSu = script.runas === undefined ? null : ['su', script.runas, '-c', shellWord(script.path)];
  const command = viaSu ?? [script.path];
  const full = script.sudo ? ['sudo', ...command] : command;
  const [file, ...args] = full as [string, ...string[]];
  return { file, args };
}

/**
 * windowsScriptCommandLine is the AWS agent's on Windows: a `.ps1` (any case) runs as
 * `powershell.exe -ExecutionPolicy Bypass -File <path>`, so the host's execution policy does not
 * stop a deployment's scripts; anything else (`.bat`, `.cmd`, `.exe`) is run as it is. runas and sudo
 * are Linux-only in the AppSpec and have no part here. The path stays one argument, spaces and all.
 */
export function windowsScriptCommandLine(scriptPath: string): { file: string; args: string[] } {
  if (scriptPath.toLowerCase().endsWith('.ps1')) return { file: 'powershell.exe', args: ['-ExecutionPolicy', 'Bypass', '-File', scriptPath] };
  return { file: scriptPath, args: [] };
}

function shellWord(s: string): string {
  return /^[A-Za-z0-9_./,:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** ScriptExit is how a script's main process ended: an exit code, or the signal that killed it. */
export interface ScriptExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** ScriptProcess is a running hook script, in its own process group whose id is its pid. */
export interface ScriptProcess {
  readonly pid: number;
  /** Settles when the main process has exited (its output may still be open). */
  readonly exited: Promise<ScriptExit>;
  /** Settle when the stream reached end of file: every process holding it has closed it. */
  readonly stdoutClosed: Promise<void>;
  readonly stderrClosed: Promise<void>;
  /** signalGroup signals the whole process group; false when the group is already gone. */
  signalGroup(signal: NodeJS.Signals): boolean;
  /** signalMain signals only the main process, if it has not exited. */
  signalMain(signal: NodeJS.Signals): void;
  /** releaseOutputs stops reading and closes our ends of stdout and stderr. */
  releaseOutputs(): void;
}

/** StartScriptOptions are the inputs of {@link startScript}. */
export interface StartScriptOptions extends ScriptInvocation {
  /** The complete environment of the script. */
  env: Record<string, string>;
  /** Called with every line the script prints, newline included, as it arrives. */
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
}

/** ScriptStart is the result of {@link startScript}: a running script or the reason it did not start. */
export type ScriptStart = { ok: true; process: ScriptProcess } | { ok: false; error: NodeJS.ErrnoException };

/**
 * startScript starts a hook script the way the AWS agent does: its own process group (so a timeout
 * can stop everything it started), stdin closed, stdout and stderr piped and read line by line, no
 * shell. A file the kernel cannot execute (ENOEXEC, no `#!`) runs through `/bin/sh <path>`, like
 * Ruby's spawn fallback; glibc's execvp usually does that already, this covers platforms that do not.
 * The working directory is inherited on purpose: the agent never sets it and scripts may rely on it.
 */
export async function startScript(opts: StartScriptOptions): Promise<ScriptStart> {
  const { file, args } = scriptCommandLine(opts);
  let started = await trySpawn(file, args, opts.env);
  if (!started.ok && started.error.code === 'ENOEXEC' && file === opts.path && !(await hasShebang(opts.path))) {
    started = await trySpawn('/bin/sh', [opts.path], opts.env);
  }
  if (!started.ok) return started;
  return { ok: true, process: wrapScript(started.child, opts.onLine) };
}

type Spawned = { ok: true; child: ChildProcess } | { ok: false; error: NodeJS.ErrnoException };

/**
 * trySpawn normalises Node's two ways of failing to start a program: some errors are thrown at once,
 * others (ENOENT, EACCES...) arrive as an 'error' event with no pid.
 */
function trySpawn(file: string, args: string[], env: Record<string, string>): Promise<Spawned> {
  let child: ChildProcess;
  try {
    child = spawn(file, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return Promise.resolve({ ok: false, error: err as NodeJS.ErrnoException });
  }
  if (child.pid !== undefined) return Promise.resolve({ ok: true, child });
  return new Promise((resolve) => child.once('error', (error) => resolve({ ok: false, error })));
}

async function hasShebang(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
      return bytesRead === 2 && buffer.toString('latin1') === '#!';
    } finally {
      await fh.close();
    }
  } catch {
    return false;
  }
}

function wrapScript(child: ChildProcess, onLine: StartScriptOptions['onLine']): ScriptProcess {
  const pid = child.pid as number;
  // Errors after a successful start (a failed kill, a broken pipe) must not crash the agent; the
  // outcome is judged from exit and stream events.
  child.on('error', () => {});
  const exited = new Promise<ScriptExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const stdout = child.stdout!;
  const stderr = child.stderr!;
  return {
    pid,
    exited,
    stdoutClosed: readLines(stdout, (line) => onLine('stdout', line)),
    stderrClosed: readLines(stderr, (line) => onLine('stderr', line)),
    signalGroup: (signal) => signalProcessGroup(pid, signal),
    signalMain: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    releaseOutputs: () => {
      stdout.destroy();
      stderr.destroy();
    },
  };
}

/** readLines reads a pipe line by line; the promise settles when the pipe closes, for any reason. */
function readLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const splitter = new LineSplitter(onLine);
  stream.on('data', (chunk: Buffer) => splitter.push(chunk));
  stream.on('error', () => {});
  return new Promise((resolve) => {
    stream.once('close', () => {
      splitter.end();
      resolve();
    });
  });
}
