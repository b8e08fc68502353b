/**
 * `fleetdeploy-agent install-service` and `uninstall-service`: the agent as a systemd service, with
 * the configuration file it will run with (read and checked first, so a service never starts on a
 * file it cannot use).
 */
import fs from 'node:fs';
import path from 'node:path';
import { installUnit, runningScript, ServiceError, uninstallUnit } from '@fleetdeploy/shared';
import type { ServiceFlags } from '@fleetdeploy/shared';
import { agentConfigDefaults, parseAgentConfig, platformPaths, requireCoordinator } from '../config/agent-config.js';
import { AGENT_SERVICE, agentUnit } from './agent-unit.js';
import { WINDOWS_DEFAULT_NODE, WINDOWS_DEFAULT_SCRIPT, winswXml } from './winsw-service.js';

/** The AWS agent's configuration file, which the agent reads too. */
export const DEFAULT_AGENT_CONFIG = '/etc/codedeploy-agent/conf/codedeployagent.yml';

/** runInstallService writes (or prints) the unit; returns the lines to print. */
export async function runInstallService(opts: ServiceFlags): Promise<string[]> {
  const platform = opts.platform ?? 'linux';
  if (platform === 'windows') return windowsService(opts);
  if (platform !== 'linux') throw new ServiceError(`--platform: expected linux (a systemd unit) or windows (a WinSW service definition), got ${JSON.stringify(platform)}`);
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

/**
 * windowsService prints the WinSW definition (--dry-run only: WinSW's own `install` registers it).
 * The configuration is read when this host can (for log_dir and shutdown_wait_seconds), else the
 * Windows defaults are used, as on a Linux host preparing a Windows one.
 */
function windowsService(opts: ServiceFlags): string[] {
  if (opts.dryRun !== true) {
    throw new ServiceError('--platform windows only prints the WinSW service definition: add --dry-run, save it as fleetdeploy-agent-service.xml beside WinSW renamed fleetdeploy-agent-service.exe, and run fleetdeploy-agent-service.exe install');
  }
  const configFile = opts.config ?? platformPaths('win32').configFile;
  if (!path.win32.isAbsolute(configFile) || !/^([A-Za-z]:|\\\\)/.test(configFile)) {
    throw new ServiceError(`--config: the Windows service needs the configuration's absolute Windows path, such as ${platformPaths('win32').configFile}, got ${JSON.stringify(configFile)}`);
  }
  let config = agentConfigDefaults('win32');
  if (fs.existsSync(configFile)) config = parseAgentConfig(fs.readFileSync(configFile, 'utf8'), configFile, 'win32');
  const onWindows = process.platform === 'win32';
  const xml = winswXml({
    node: onWindows ? process.execPath : WINDOWS_DEFAULT_NODE,
    script: onWindows ? runningScript() : WINDOWS_DEFAULT_SCRIPT,
    configFile,
    logDir: config.logDir ?? platformPaths('win32').logDir!,
    shutdownWaitSeconds: Math.ceil(config.shutdownWaitMs / 1000),
  });
  return xml.trimEnd().split('\n');
}

/** runUninstallService stops, disables and removes the unit; returns the lines to print. */
export function runUninstallService(opts: ServiceFlags): Promise<string[]> {
  return uninstallUnit(AGENT_SERVICE, opts);
}
