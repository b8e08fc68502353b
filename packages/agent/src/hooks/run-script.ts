/**
 * Running one AppSpec hook script with the AWS agent's checks, deadline and error messages, so
 * existing scripts and the people reading their failures see what they saw with the AWS agent.
 */
import { constants } from 'node:fs';
import { access, chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { DeployError } from '@fleetdeploy/shared';
import type { HookScript, LifecycleErrorName } from '@fleetdeploy/shared';
import { processGroupAlive } from '../process/process-group.js';
import { startScript } from '../process/spawn.js';
import type { ScriptExit, ScriptProcess } from '../process/spawn.js';
import type { ScriptLog } from './script-log.js';

/** DEFAULT_KILL_GRACE_MS is how long a timed-out script's process group gets between SIGTERM and SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 5000;

/**
 * HookEnv is what a hook's scripts get on top of the agent's own environment: a string sets a
 * variable, undefined removes one the agent inherited.
 */
export type HookEnv = Record<string, string | undefined>;

/** RunScriptOptions are the inputs of {@link runScript}. */
export interface RunScriptOptions {
  /** The revision's `deployment-archive` directory; `script.location` is relative to it. */
  archiveDir: string;
  script: HookScript;
  /** Variables added to the agent's own environment (LIFECYCLE_EVENT, DEPLOYMENT_ID...). */
  env: HookEnv;
  log: ScriptLog;
  /** Aborting stops the script like a timeout and fails with UnknownError. */
  signal?: AbortSignal;
  killGraceMs?: number;
}

/**
 * runScript runs one hook script to completion and resolves only if it exited 0. Every failure is a
 * {@link DeployError} whose scriptName is the location as written and whose logTail is the event's
 * diagnostics tail: ScriptMissing, ScriptNotExecutable, ScriptTimedOut, ScriptFailed, OutputsLeftOpen,
 * or UnknownError when cancelled.
 *
 * Divergence (deliberate, section 17 #13): at the deadline the process group gets SIGTERM and, if any
 * member is still alive after `killGraceMs`, SIGKILL; the AWS agent sends SIGTERM only and can wait
 * forever for a script that ignores it.
 */
export async function runScript(opts: RunScriptOptions): Promise<void> {
  const { script, log } = opts;
  const location = script.location;
  const fail = (code: LifecycleErrorName, message: string, cause?: unknown): DeployError =>
    new DeployError(code, message, { scriptName: location, logTail: log.logTail(), cause });
  const prefix = `Script at specified location: ${location}`;
  const cancelled = (): DeployError => fail('UnknownError', `cancelled while running script at specified location: ${location}`);

  if (opts.signal?.aborted) throw cancelled();
  const path = join(opts.archiveDir, location);
  if (!(await exists(path))) throw fail('ScriptMissing', `Script does not exist at specified location: ${path}`);
  try {
    await makeExecutable(path);
  } catch (err) {
    throw fail('ScriptNotExecutable', `Unable to set script at specified location: ${location} as executable`, err);
  }

  log.script(location);
  const started = await startScript({
    path,
    ...(script.runas === undefined ? {} : { runas: script.runas }),
    ...(script.sudo ? { sudo: true } : {}),
    env: scriptEnv(opts.env),
    onLine: (stream, line) => log.output(stream, line),
  });
  const runAs = script.runas === undefined ? '' : ` run as user ${script.runas}`;
  if (!started.ok) {
    const { name, message } = rubyError(started.error);
    throw fail('ScriptFailed', `${prefix}${runAs} failed with error ${name} with message ${message}`, started.error);
  }

  const proc = started.process;
  const stop = stopWhen(Date.now() + script.timeout * 1000, opts.signal);
  try {
    const first = await Promise.race([proc.exited, stop.reason]);
    if (first === 'timeout' || first === 'cancelled') {
      await terminate(proc, opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
      throw first === 'timeout' ? fail('ScriptTimedOut', `${prefix} failed to complete in ${script.timeout} seconds`) : cancelled();
    }
    const exit: ScriptExit = first;

    // Like the agent, wait for both outputs to reach EOF until the same deadline: a background child
    // that inherited them keeps them open, and the agent reports that rather than hanging.
    let stdoutOpen = true;
    void proc.stdoutClosed.then(() => (stdoutOpen = false));
    const second = await Promise.race([Promise.all([proc.stdoutClosed, proc.stderrClosed]), stop.reason]);
    if (second === 'timeout') {
      proc.releaseOutputs();
      throw fail('OutputsLeftOpen', `${prefix} failed to close ${stdoutOpen ? 'STDOUT' : 'STDERR'}`);
    }
    if (second === 'cancelled') {
      await terminate(proc, opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
      throw cancelled();
    }
    if (exit.code !== 0) {
      // Killed by a signal there is no exit status; the agent prints nil, i.e. nothing.
      throw fail('ScriptFailed', `${prefix}${runAs} failed with exit code ${exit.code ?? ''}`);
    }
  } finally {
    stop.dispose();
  }
}

/** exists is Ruby's File.exist?: follows symlinks, and any failure to stat counts as missing. */
async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** makeExecutable is the agent's `chmod +x` (u, g and o) for a script the agent may not execute. */
async function makeExecutable(path: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
    return;
  } catch {
    // Not executable: add the execute bits below.
  }
  const { mode } = await stat(path);
  await chmod(path, (mode & 0o7777) | 0o111);
}

/** scriptEnv is the agent's own environment with the hook's variables set or removed. */
function scriptEnv(hookEnv: HookEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  for (const [key, value] of Object.entries(hookEnv)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/**
 * rubyError names a spawn failure the way the agent's message shows Ruby's exception:
 * `Errno::ENOENT` with `No such file or directory - su`.
 */
function rubyError(err: NodeJS.ErrnoException): { name: string; message: string } {
  if (typeof err.code !== 'string' || typeof err.errno !== 'number') return { name: err.name, message: err.message };
  const text = getSystemErrorMap().get(err.errno)?.[1] ?? err.code;
  const file = err.path ?? '';
  return { name: `Errno::${err.code}`, message: `${text.charAt(0).toUpperCase()}${text.slice(1)} - ${file}` };
}

type StopReason = 'timeout' | 'cancelled';

/**
 * stopWhen settles with 'timeout' at `deadline` (epoch ms) or 'cancelled' when `signal` aborts,
 * whichever comes first. Long timeouts are re-armed in steps because setTimeout overflows after
 * about 24.8 days and the agent puts no upper bound on a script's timeout.
 */
function stopWhen(deadline: number, signal: AbortSignal | undefined): { reason: Promise<StopReason>; dispose(): void } {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const reason = new Promise<StopReason>((resolve) => {
    const arm = (): void => {
      const left = deadline - Date.now();
      if (left <= 0) return resolve('timeout');
      timer = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
    };
    arm();
    if (signal) {
      onAbort = () => resolve('cancelled');
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  return {
    reason,
    dispose: () => {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * terminate stops a script and everything in its process group: SIGTERM, then SIGKILL once the grace
 * is over if any member still lives. It returns when the main process has exited and the output
 * still buffered in the pipes has been logged (briefly waited for), with our pipe ends closed.
 */
async function terminate(proc: ScriptProcess, graceMs: number): Promise<void> {
  trySignal(() => proc.signalGroup('SIGTERM'));
  const until = Date.now() + graceMs;
  let alive = await processGroupAlive(proc.pid);
  while (alive && Date.now() < until) {
    await delay(Math.min(25, Math.max(0, until - Date.now())));
    alive = await processGroupAlive(proc.pid);
  }
  if (alive) trySignal(() => proc.signalGroup('SIGKILL'));
  // The main process may have left its group; it is the one we must see exit.
  trySignal(() => proc.signalMain('SIGKILL'));
  await proc.exited;
  await Promise.race([Promise.all([proc.stdoutClosed, proc.stderrClosed]), delay(200)]);
  proc.releaseOutputs();
}

/** trySignal ignores a refused signal (EPERM on a group that changed user): there is nothing else to do. */
function trySignal(send: () => unknown): void {
  try {
    send();
  } catch {
    // Nothing more can be done about a process we may not signal.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
