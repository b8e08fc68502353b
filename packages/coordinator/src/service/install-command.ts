/**
 * `fleetdeploy-coordinator install-service` and `uninstall-service`: the coordinator as a systemd
 * service (coordinator-unit.ts), with the configuration file it will run with, read and checked first.
 */
import path from 'node:path';
import { installUnit, runningScript, uninstallUnit } from '@fleetdeploy/shared';
import type { ServiceFlags } from '@fleetdeploy/shared';
import { loadConfig } from '../config.js';
import { COORDINATOR_DATA_DIR, COORDINATOR_SERVICE, coordinatorUnit } from './coordinator-unit.js';

/** runInstallService writes (or prints) the unit; returns the lines to print. */
export async function runInstallService(opts: ServiceFlags): Promise<string[]> {
  const configFile = opts.config === undefined ? undefined : path.resolve(opts.config);
  const config = loadConfig(configFile, { dataDir: COORDINATOR_DATA_DIR }); // refuses a bad file here, not at the service's first start
  const unit = coordinatorUnit({ node: process.execPath, script: runningScript(), ...(configFile === undefined ? {} : { configFile }), ports: [config.apiPort, config.agentPort, config.enrolPort] });
  const lines = await installUnit(COORDINATOR_SERVICE, unit, 'fleetdeploy-coordinator install-service', opts);
  if (opts.dryRun === true) return lines;
  return [...lines, `its data and first admin key: ${COORDINATOR_DATA_DIR}/ (admin-credentials); its log: journalctl -u ${COORDINATOR_SERVICE}`];
}

/** runUninstallService stops, disables and removes the unit (the data stays); returns the lines to print. */
export async function runUninstallService(opts: ServiceFlags): Promise<string[]> {
  const lines = await uninstallUnit(COORDINATOR_SERVICE, opts);
  return opts.dryRun === true ? lines : [...lines, `${COORDINATOR_DATA_DIR} is kept (delete it yourself to discard the coordinator's data)`];
}
