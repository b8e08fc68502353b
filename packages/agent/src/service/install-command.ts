/**
 * `fleetdeploy-agent install-service` and `uninstall-service`: the agent as a systemd service, with
 * the configuration file it will run with (read and checked first, so a service never starts on a
 * file it cannot use).
 */
import fs from 'node:fs';
import path from 'node:path';
import { installUnit, runningScript, ServiceError, uninstallUnit } from '@fleetdeploy/shared';
import type { ServiceFlags } from '@fleetdeploy/shared';
import { parseAgentConfig, requireCoordinator } from '../config/agent-config.js';
import { AGENT_SERVICE, agentUnit } from './agent-unit.js';

/** The AWS agent's configuration file, which the agent reads too. */
export const DEFAULT_AGENT_CONFIG = '/etc/codedeploy-agent/conf/codedeployagent.yml';

/** runInstallService writes (or prints) the unit; returns the lines to print. */
export async function runInstallService(opts: ServiceFlags): Promise<string[]> {
  const configFile = path.resolve(opts.config ?? DEFAULT_AGENT_CONFIG);
  let text: string;
  try {
    text = fs.readFileSync(configFile, 'utf8');
  } catch (err) {
    throw new ServiceError(`the agent's configuration ${configFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): write it first (coordinator, instance_name, root_dir...) or name it with --config`);
  }
  const config = parseAgentConfig(text, configFile);
  requireCoordinator(config, configFile);
  const unit = agentUnit({ node: process.execPath, script: runningScript(), configFile, shutdownWaitSeconds: Math.ceil(config.shutdownWaitMs / 1000) });
  return installUnit(AGENT_SERVICE, unit, 'fleetdeploy-agent install-service', opts);
}

/** runUninstallService stops, disables and removes the unit; returns the lines to print. */
export function runUninstallService(opts: ServiceFlags): Promise<string[]> {
  return uninstallUnit(AGENT_SERVICE, opts);
}
