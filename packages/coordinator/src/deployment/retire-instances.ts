/**
 * Retiring the original instances of a TERMINATE blue/green deployment, once they are out of the
 * HAProxy backend: each is deregistered as DeregisterOnPremisesInstance does (fleet/deregister.ts;
 * its agent's certificate revoked), then the operator's command, if configured, runs for it (e.g. to
 * power the machine off). A failing command is logged, not retried: the instance is already out.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { AsyncStore } from '../store/async-store.js';
import { deregisterInstancesAsync } from '../fleet/deregister.js';

/** RetireDeps are passed in by the composition root. */
export interface RetireDeps {
  /** The coordinator's one AsyncStore. */
  store: AsyncStore;
  clock: Clock;
  /** deregistered revokes the instance's certificate and closes its agent's stream. */
  deregistered(name: string): void;
  /** fleetChanged tells the engine that instances left their groups. */
  fleetChanged(instanceNames?: readonly string[]): void;
  command?: string;
  log: Logger;
}

/** COMMAND_TIMEOUT_MS bounds the operator's command for one instance. */
const COMMAND_TIMEOUT_MS = 10 * 60_000;

/** createRetire gives the function that retires one deployment's original instances. */
export function createRetire(deps: RetireDeps): (deploymentId: string, names: readonly string[]) => Promise<void> {
  return async (deploymentId, names) => {
    if ((await deregisterInstancesAsync(deps.store, names, deps.clock.now())).length > 0) deps.fleetChanged(names);
    for (const name of names) {
      deps.deregistered(name);
      deps.log.info({ deploymentId, instance: name }, 'original instance retired (blue/green TERMINATE)');
      if (deps.command !== undefined) await runCommand(deps.command, name, deploymentId, deps.log);
    }
  };
}

function runCommand(command: string, name: string, deploymentId: string, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    execFile('/bin/sh', ['-c', command], { env: { ...process.env, FLEETDEPLOY_INSTANCE_NAME: name, FLEETDEPLOY_DEPLOYMENT_ID: deploymentId }, timeout: COMMAND_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err) log.error({ deploymentId, instance: name, err: err.message, stderr: stderr.slice(-2000) }, 'blue_green_terminate_command failed');
      else log.info({ deploymentId, instance: name, stdout: stdout.slice(-2000) }, 'blue_green_terminate_command ran');
      resolve();
    });
  });
}
