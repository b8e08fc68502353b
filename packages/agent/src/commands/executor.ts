/**
 * Runs one lifecycle event of one deployment on this host, the unit of work the coordinator hands an
 * agent (and that `fleetdeploy-agent local` runs in a sequence). Always resolves to a result with
 * CodeDeploy's diagnostics; only programming errors escape as exceptions.
 */
import fs from 'node:fs';
import { FAILED_ERROR_CODE_ENV, FAILED_EVENT_ENV, hookRevisionSource, ON_FAILURE_EVENT, shortDeploymentId, toDeployError, InPlaceEvents } from '@fleetdeploy/shared';
import type { DeploymentSpec, Diagnostics, HookScript } from '@fleetdeploy/shared';
import type { AgentConfig } from '../config/agent-config.js';
import type { Layout } from '../layout.js';
import { createLayout, readMarker } from '../layout.js';
import { stopwatch } from '../clock.js';
import { checkLifecycleEvents, loadAppSpec } from '../appspec/load.js';
import { installRevision } from '../install/install.js';
import type { PermissionTools } from '../install/apply.js';
import { downloadBundle } from './download.js';
import type { BundleFetcher } from './download.js';
import { ScriptLog } from '../hooks/script-log.js';
import { runHookScripts } from '../hooks/run-hook.js';
import { hookEnvironment } from './hook-env.js';
import { beginCommand, endCommand } from '../state/journal.js';
import type { HookOutcome } from '../state/results.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';

/** CommandResult is how one lifecycle event ended on this host. */
export interface CommandResult {
  status: 'Succeeded' | 'Failed';
  /** True when there was nothing to do (a hook with no scripts, or no previous revision). */
  noop: boolean;
  diagnostics: Diagnostics;
  /** Set when the event failed and the revision has an OnFailure hook: how that ran (it never changes `status`). */
  onFailure?: HookOutcome;
}

/** ExecutorDeps are the host facts and services an event needs. */
export interface ExecutorDeps {
  config: AgentConfig;
  fetchBundle?: BundleFetcher;
  permissionTools?: PermissionTools;
  signal?: AbortSignal;
  now?: () => Date;
  /**
   * The coordinator's id for this command. When given, a crash marker holds it while the event runs,
   * so that a restarted agent reports the event as FailedAfterRestart instead of running it again.
   */
  commandId?: string;
  log?: Logger;
}

/** executeEvent runs one lifecycle event (`DownloadBundle`, `Install` or a hook) of a deployment. */
export async function executeEvent(event: string, spec: DeploymentSpec, deps: ExecutorDeps): Promise<CommandResult> {
  const layout = createLayout(deps.config.rootDir);
  const log = (deps.log ?? silentLogger).child({ deploymentId: spec.deploymentId, event, ...(deps.commandId ? { commandId: deps.commandId } : {}) });
  const elapsed = stopwatch();
  let marked: string | undefined;
  log.debug({ groupId: spec.deploymentGroupId }, 'event started');
  try {
    const deploymentId = shortDeploymentId(spec.deploymentId);
    const deploymentRoot = layout.deploymentRoot(spec.deploymentGroupId, deploymentId);
    fs.mkdirSync(deploymentRoot, { recursive: true });
    if (deps.commandId !== undefined) {
      beginCommand(layout, deploymentId, deps.commandId);
      marked = deploymentId;
    }
    const noop = await runEvent(event, spec, deploymentRoot, layout, deps);
    log.info({ noop, ms: Math.round(elapsed()) }, 'event succeeded');
    return { status: 'Succeeded', noop, diagnostics: { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' } };
  } catch (err) {
    const failure = toDeployError(err);
    // Expected failures are the user's (a script, a conflict); anything else is ours and needs its stack.
    if (failure === err) log.warn({ errorCode: failure.code, scriptName: failure.scriptName, reason: failure.message, ms: Math.round(elapsed()) }, 'event failed');
    else log.error({ err, ms: Math.round(elapsed()) }, 'event failed unexpectedly');
    const diagnostics = failure.toDiagnostics();
    // Inside the crash marker: an agent killed during OnFailure reports the event FailedAfterRestart, as it failed anyway.
    const onFailure = await runOnFailure(event, diagnostics, spec, layout, deps, log);
    return { status: 'Failed', noop: false, diagnostics, ...(onFailure === undefined ? {} : { onFailure }) };
  } finally {
    if (marked !== undefined) endCommand(layout, marked);
  }
}

/** Performs the event; true when there was nothing to do. */
async function runEvent(event: string, spec: DeploymentSpec, deploymentRoot: string, layout: Layout, deps: ExecutorDeps): Promise<boolean> {
  if (event === 'DownloadBundle') {
    await downloadBundle({
      layout,
      spec,
      deploymentRoot,
      maxRevisions: deps.config.maxRevisions,
      bundleLimits: deps.config.bundleLimits,
      fetchBundle: deps.fetchBundle,
      signal: deps.signal,
    });
    return false;
  }
  if (event === 'Install') {
    const appSpec = loadAppSpec(layout.archiveDir(deploymentRoot), spec.appSpecFilename);
    if (spec.allPossibleLifecycleEvents) checkLifecycleEvents(appSpec, spec.allPossibleLifecycleEvents, InPlaceEvents);
    await installRevision({
      layout,
      groupId: spec.deploymentGroupId,
      deploymentRoot,
      appSpec,
      fileExistsBehavior: spec.fileExistsBehavior,
      tools: deps.permissionTools,
      destinationRoot: deps.config.destinationRoot,
    });
    return false;
  }
  return !(await runHook(event, spec, deploymentRoot, layout, deps));
}

/** scriptsForEvent finds the revision folder and scripts a hook would run, or undefined for a no-op. */
export function scriptsForEvent(
  event: string,
  spec: DeploymentSpec,
  deploymentRoot: string,
  layout: Layout,
): { revisionRoot: string; scripts: HookScript[] } | undefined {
  let revisionRoot = deploymentRoot;
  // Once this deployment's archive exists every hook uses it; before that some hooks run older scripts.
  if (!fs.existsSync(layout.archiveDir(deploymentRoot))) {
    const source = hookRevisionSource(event, { creator: spec.deploymentCreator, deploymentType: spec.deploymentType });
    if (source !== 'current') {
      const marker = source === 'lastSuccessfulInstall'
        ? layout.lastSuccessfulInstallMarker(spec.deploymentGroupId)
        : layout.mostRecentInstallMarker(spec.deploymentGroupId);
      const previous = readMarker(marker);
      if (previous === undefined) return undefined; // first deployment of the group here: nothing to stop
      revisionRoot = previous;
    }
  }
  const appSpec = loadAppSpec(layout.archiveDir(revisionRoot), spec.appSpecFilename);
  const scripts = appSpec.hooks[event] ?? [];
  return scripts.length === 0 ? undefined : { revisionRoot, scripts };
}

/**
 * onFailureSource is the revision folder whose OnFailure scripts run after `event` failed: this
 * deployment's once its archive is unpacked (the revision that failed), except after DownloadBundle,
 * whose archive may be partial; then, and before the archive exists, the group's last successful
 * install. Undefined when there is none (the group's first deployment on this host).
 */
export function onFailureSource(event: string, spec: DeploymentSpec, layout: Layout): string | undefined {
  const deploymentRoot = layout.deploymentRoot(spec.deploymentGroupId, shortDeploymentId(spec.deploymentId));
  if (event !== 'DownloadBundle' && fs.existsSync(layout.archiveDir(deploymentRoot))) return deploymentRoot;
  return readMarker(layout.lastSuccessfulInstallMarker(spec.deploymentGroupId));
}

/**
 * runOnFailure runs the revision's OnFailure scripts after `event` failed, with the hook environment
 * plus FLEETDEPLOY_FAILED_EVENT and FLEETDEPLOY_FAILED_ERROR_CODE. Undefined when there is nothing to
 * run, or when the event was cancelled (a stop kills the event's scripts, and would kill these too).
 */
async function runOnFailure(event: string, failed: Diagnostics, spec: DeploymentSpec, layout: Layout, deps: ExecutorDeps, log: Logger): Promise<HookOutcome | undefined> {
  if (event === ON_FAILURE_EVENT || deps.signal?.aborted === true) return undefined;
  const now = deps.now ?? (() => new Date());
  const startedAtMs = now().getTime();
  let deploymentRoot: string;
  let source: string | undefined;
  try {
    deploymentRoot = layout.deploymentRoot(spec.deploymentGroupId, shortDeploymentId(spec.deploymentId));
    source = onFailureSource(event, spec, layout);
  } catch {
    return undefined; // a deployment with no folder of its own here (a bad id) has no revision to clean up after
  }
  if (source === undefined) return undefined;
  try {
    const scripts = loadAppSpec(layout.archiveDir(source), spec.appSpecFilename).hooks[ON_FAILURE_EVENT] ?? [];
    if (scripts.length === 0) return undefined;
    const scriptLog = new ScriptLog(deploymentRoot, shortDeploymentId(spec.deploymentId), deps.config.enableDeploymentsLog ? layout.deploymentsLog : null, deps.now);
    try {
      await runHookScripts({
        event: ON_FAILURE_EVENT,
        scripts,
        archiveDir: layout.archiveDir(source),
        env: { ...hookEnvironment(ON_FAILURE_EVENT, spec, deps.config.destinationRoot), [FAILED_EVENT_ENV]: event, [FAILED_ERROR_CODE_ENV]: failed.errorCode },
        log: scriptLog,
        signal: deps.signal,
        killGraceMs: deps.config.scriptKillGraceMs,
      });
    } finally {
      await scriptLog.close();
    }
    log.info({ failedEvent: event }, 'OnFailure hook succeeded');
    return { status: 'Succeeded', diagnostics: { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' }, startedAtMs, endedAtMs: now().getTime() };
  } catch (err) {
    const failure = toDeployError(err);
    log.warn({ failedEvent: event, errorCode: failure.code, scriptName: failure.scriptName, reason: failure.message }, 'OnFailure hook failed');
    return { status: 'Failed', diagnostics: failure.toDiagnostics(), startedAtMs, endedAtMs: now().getTime() };
  }
}

/** Runs a hook's scripts; false when it had none to run. */
async function runHook(event: string, spec: DeploymentSpec, deploymentRoot: string, layout: Layout, deps: ExecutorDeps): Promise<boolean> {
  const selected = scriptsForEvent(event, spec, deploymentRoot, layout);
  if (selected === undefined) return false;
  const log = new ScriptLog(
    deploymentRoot,
    shortDeploymentId(spec.deploymentId),
    deps.config.enableDeploymentsLog ? layout.deploymentsLog : null,
    deps.now,
  );
  try {
    await runHookScripts({
      event,
      scripts: selected.scripts,
      archiveDir: layout.archiveDir(selected.revisionRoot),
      env: hookEnvironment(event, spec, deps.config.destinationRoot),
      log,
      signal: deps.signal,
      killGraceMs: deps.config.scriptKillGraceMs,
    });
  } finally {
    await log.close();
  }
  return true;
}
