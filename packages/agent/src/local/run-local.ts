/**
 * `fleetdeploy-agent local`: one deployment on this host with no coordinator, event by event through
 * the same executor the daemon uses, reporting as codedeploy-local does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StopEvents } from '@fleetdeploy/shared';
import type { DeploymentSpec } from '@fleetdeploy/shared';
import { defaultAgentConfig, parseAgentConfig } from '../config/agent-config.js';
import type { AgentConfig } from '../config/agent-config.js';
import { createLayout } from '../layout.js';
import { stopwatch } from '../clock.js';
import { executeEvent } from '../commands/executor.js';
import type { CommandResult } from '../commands/executor.js';
import type { Logger } from '../log.js';
import type { LocalOptions } from './options.js';
import { LocalUsageError } from './options.js';
import {
  allPossibleEvents,
  bundleType,
  checkLocalBundle,
  classifyLocation,
  localDeploymentId,
  missingConfigError,
  orderEvents,
} from './options.js';

/** DEFAULT_CONFIG_FILE is where the AWS agent keeps its configuration on Linux. */
export const DEFAULT_CONFIG_FILE = '/etc/codedeploy-agent/conf/codedeployagent.yml';

/** LocalRunIo is where a local run writes and what it runs relative to. */
export interface LocalRunIo {
  cwd: string;
  print: (line: string) => void;
  log?: Logger;
}

/** LocalRunOutcome is the result of a whole local deployment. */
export interface LocalRunOutcome {
  ok: boolean;
  deploymentId: string;
  deploymentFolder: string;
  scriptsLog: string;
  failedEvent?: string;
  result?: CommandResult;
}

/**
 * loadLocalConfig reads the agent configuration file. A file named on the command line must exist;
 * when the default file is absent the built-in defaults apply.
 */
export function loadLocalConfig(file: string | undefined): AgentConfig {
  const target = file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = fs.readFileSync(target, 'utf8');
  } catch {
    if (file === undefined) return defaultAgentConfig;
    throw missingConfigError(target);
  }
  return parseAgentConfig(text, target);
}

/**
 * checkRootDir makes sure the agent can write its deployment root before any event runs, so that a
 * run without root rights says what to change instead of failing in its first lifecycle event.
 */
export function checkRootDir(rootDir: string, configFile: string | undefined): void {
  try {
    fs.mkdirSync(rootDir, { recursive: true });
    fs.accessSync(rootDir, fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const where = configFile === undefined ? 'the built-in default' : `set in ${configFile}`;
    throw new LocalUsageError(`cannot write to the agent's root_dir ${rootDir} (${where}): ${code}. Run as root, or give --agent-configuration-file a file whose root_dir you can write`);
  }
}

/** buildLocalSpec validates the options and turns them into a deployment and its events. */
export function buildLocalSpec(opts: LocalOptions, cwd: string): { spec: DeploymentSpec; events: string[] } {
  const type = bundleType(opts.type);
  const location = opts.bundleLocation ?? cwd;
  const revision = classifyLocation(location, type, cwd);
  checkLocalBundle(revision, opts.appspecFilename);
  const events = orderEvents(opts.events);
  const spec: DeploymentSpec = {
    deploymentId: localDeploymentId(),
    deploymentGroupId: opts.deploymentGroup ?? 'default-local-deployment-group',
    deploymentGroupName: opts.deploymentGroupName ?? 'LocalFleet',
    applicationName: opts.applicationName ?? location,
    deploymentCreator: 'user',
    deploymentType: 'IN_PLACE',
    appSpecFilename: opts.appspecFilename ?? 'appspec.yml',
    fileExistsBehavior: (opts.fileExistsBehavior ?? 'DISALLOW').toUpperCase(),
    allPossibleLifecycleEvents: allPossibleEvents(events),
    revision,
  };
  return { spec, events };
}

/** runLocal performs a local deployment and reports each event as it ends. */
export async function runLocal(opts: LocalOptions, io: LocalRunIo): Promise<LocalRunOutcome> {
  const config = loadLocalConfig(opts.agentConfigurationFile);
  const { spec, events } = buildLocalSpec(opts, io.cwd);
  checkRootDir(config.rootDir, opts.agentConfigurationFile);
  const layout = createLayout(config.rootDir);
  const folder = layout.deploymentRoot(spec.deploymentGroupId, spec.deploymentId);
  const scriptsLog = layout.scriptsLog(folder);
  io.print(`Starting to execute deployment from within folder ${folder}`);

  for (const event of events) {
    const elapsed = stopwatch();
    const result = await executeEvent(event, spec, { config, log: io.log });
    const ms = Math.round(elapsed());
    if (result.status === 'Failed' && opts.ignoreApplicationStopFailures && (StopEvents as readonly string[]).includes(event)) {
      io.print(`  ${event.padEnd(20)} failed, ignored (--ignore-application-stop-failures): ${result.diagnostics.message}`);
      continue;
    }
    if (result.status === 'Failed') {
      io.print(failureParagraph(event, result, folder, scriptsLog));
      return { ok: false, deploymentId: spec.deploymentId, deploymentFolder: folder, scriptsLog, failedEvent: event, result };
    }
    io.print(`  ${event.padEnd(20)} ${result.noop ? 'nothing to run' : `succeeded in ${ms} ms`}`);
  }
  io.print('AppSpec file valid. Local deployment successful');
  io.print(`See the deployment log at ${scriptsLog} for more details`);
  return { ok: true, deploymentId: spec.deploymentId, deploymentFolder: folder, scriptsLog };
}

/** failureParagraph says what failed, where, why, and the newest script output, in a few lines. */
export function failureParagraph(event: string, result: CommandResult, folder: string, scriptsLog: string): string {
  const d = result.diagnostics;
  const lines = [`Your local deployment failed in ${event} (${d.errorCode}): ${d.message}`];
  if (d.scriptName) {
    lines.push(`Your local deployment failed while trying to execute your script at ${path.join(folder, 'deployment-archive', d.scriptName)}`);
  }
  const tail = d.logTail.trimEnd();
  if (tail) {
    lines.push('Last script output:');
    lines.push(...tail.split('\n').slice(-10).map((l) => `    ${l}`));
  }
  lines.push(`See the deployment log at ${scriptsLog} for more details`);
  return lines.join('\n');
}
