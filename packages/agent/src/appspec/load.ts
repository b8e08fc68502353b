/**
 * Finding and reading a revision's AppSpec file on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DeployError, ON_FAILURE_EVENT, parseAppSpec } from '@fleetdeploy/shared';
import type { ServerAppSpec } from '@fleetdeploy/shared';

/**
 * findAppSpec locates the AppSpec in an unpacked revision: the deployment's AppSpec file name, then
 * appspec.yaml, then appspec.yml. The AWS agent applies this fallback only at Install and makes hooks
 * open the exact name, so a bundle with only appspec.yaml installs and then fails its first hook;
 * we use the fallback everywhere (divergence, as the reference recommends).
 */
export function findAppSpec(archiveDir: string, appSpecFilename: string): string | undefined {
  const names = [appSpecFilename || 'appspec.yml', 'appspec.yaml', 'appspec.yml'];
  for (const name of names) {
    const p = path.join(archiveDir, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

/** loadAppSpec reads and validates the AppSpec of an unpacked revision for this host's platform. */
export function loadAppSpec(archiveDir: string, appSpecFilename: string): ServerAppSpec {
  const file = findAppSpec(archiveDir, appSpecFilename);
  if (file === undefined) {
    throw new DeployError(
      'UnknownError',
      `The CodeDeploy agent did not find an AppSpec file within the unpacked revision directory at revision-relative path "${appSpecFilename || 'appspec.yml'}" (looked in ${archiveDir})`,
    );
  }
  const text = fs.readFileSync(file, 'utf8');
  const spec = parseAppSpec(text, { platform: process.platform === 'win32' ? 'windows' : 'linux' });
  if (spec.kind !== 'server') throw new DeployError('UnknownError', `${file}: not an EC2/on-premises AppSpec`);
  return spec;
}

/**
 * checkLifecycleEvents applies codedeploy-local's rule when the deployment lists every possible event:
 * each hook in the AppSpec must be one of them, and each listed custom event must have a hook.
 */
export function checkLifecycleEvents(spec: ServerAppSpec, allPossible: readonly string[], defaults: readonly string[]): void {
  // OnFailure is never a deployment's event: the agent runs it after one fails.
  const unknown = Object.keys(spec.hooks).filter((e) => !allPossible.includes(e) && e !== ON_FAILURE_EVENT);
  if (unknown.length > 0) {
    throw new DeployError('UnknownError', `appspec.yml file contains unknown lifecycle events: ${JSON.stringify(unknown)}`);
  }
  const missing = allPossible.filter((e) => !defaults.includes(e) && !(e in spec.hooks));
  if (missing.length > 0) {
    throw new DeployError('UnknownError', `You specified a lifecycle event which is not a default one and doesn't exist in your appspec.yml file: ${missing.join(',')}`);
  }
}
