/**
 * Running the scripts of one lifecycle event, in order, as the AWS agent's hook executor does.
 */
import { DeployError } from '@fleetdeploy/shared';
import type { HookScript } from '@fleetdeploy/shared';
import { runScript } from './run-script.js';
import type { HookEnv } from './run-script.js';
import type { ScriptLog } from './script-log.js';

/** RunHookOptions are the inputs of {@link runHookScripts}. */
export interface RunHookOptions {
  event: string;
  scripts: HookScript[];
  /** The `deployment-archive` directory of the revision whose scripts run (section 3.4). */
  archiveDir: string;
  /** Variables added to the agent's environment for every script (LIFECYCLE_EVENT...). */
  env: HookEnv;
  log: ScriptLog;
  signal?: AbortSignal;
  /** Grace between SIGTERM and SIGKILL for a timed-out script; see runScript. */
  killGraceMs?: number;
}

/**
 * runHookScripts runs an event's scripts in order and stops at the first failure, rethrowing its
 * {@link DeployError}. With no scripts it does nothing at all, so no scripts.log is created. The log
 * files are closed at the end (a later event reopens them), so no descriptor outlives the event.
 */
export async function runHookScripts(opts: RunHookOptions): Promise<void> {
  if (opts.scripts.length === 0) return;
  const { log } = opts;
  let failure: unknown;
  try {
    log.startEvent(opts.event);
    for (const script of opts.scripts) {
      await runScript({
        archiveDir: opts.archiveDir,
        script,
        env: opts.env,
        log,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.killGraceMs === undefined ? {} : { killGraceMs: opts.killGraceMs }),
      });
    }
  } catch (err) {
    failure = err;
  }
  try {
    await log.close();
  } catch (err) {
    // A script failure says more than the log write that may have followed it.
    if (failure === undefined) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new DeployError('UnknownError', `Unable to write the script log: ${detail}`, { cause: err });
    }
  }
  if (failure !== undefined) throw failure;
}
