/**
 * The on-disk layout of the AWS CodeDeploy agent, kept exactly so that a host can switch between that
 * agent and ours and the next deployment still finds the previous one's cleanup list and markers:
 *
 *   <root>/<group-id>/<deployment-id>/{bundle.tar, deployment-archive/, logs/scripts.log}
 *   <root>/deployment-instructions/{<gid>-cleanup, <gid>-install.json,
 *                                   <gid>_last_successful_install, <gid>_most_recent_install}
 *   <root>/deployment-logs/codedeploy-agent-deployments.log
 *   <root>/ongoing-deployment/<deployment-id>
 */
import fs from 'node:fs';
import path from 'node:path';
import { DeployError } from '@fleetdeploy/shared';
import { writeFileAtomic } from './state/atomic-file.js';

/** Layout computes every path of one agent's deployment root. */
export interface Layout {
  readonly rootDir: string;
  groupDir(groupId: string): string;
  deploymentRoot(groupId: string, deploymentId: string): string;
  archiveDir(deploymentRoot: string): string;
  bundleFile(deploymentRoot: string): string;
  scriptsLog(deploymentRoot: string): string;
  readonly instructionsDir: string;
  cleanupFile(groupId: string): string;
  installJson(groupId: string): string;
  lastSuccessfulInstallMarker(groupId: string): string;
  mostRecentInstallMarker(groupId: string): string;
  readonly deploymentsLog: string;
  readonly ongoingDeploymentDir: string;
}

/** createLayout binds the layout to one root directory (made absolute). */
export function createLayout(rootDir: string): Layout {
  const root = path.resolve(rootDir);
  const instructions = path.join(root, 'deployment-instructions');
  return {
    rootDir: root,
    groupDir: (gid) => path.join(root, safeSegment(gid, 'deployment group id')),
    deploymentRoot: (gid, did) => path.join(root, safeSegment(gid, 'deployment group id'), safeSegment(did, 'deployment id')),
    archiveDir: (droot) => path.join(droot, 'deployment-archive'),
    bundleFile: (droot) => path.join(droot, 'bundle.tar'),
    scriptsLog: (droot) => path.join(droot, 'logs', 'scripts.log'),
    instructionsDir: instructions,
    cleanupFile: (gid) => path.join(instructions, `${safeSegment(gid, 'deployment group id')}-cleanup`),
    installJson: (gid) => path.join(instructions, `${safeSegment(gid, 'deployment group id')}-install.json`),
    lastSuccessfulInstallMarker: (gid) => path.join(instructions, `${safeSegment(gid, 'deployment group id')}_last_successful_install`),
    mostRecentInstallMarker: (gid) => path.join(instructions, `${safeSegment(gid, 'deployment group id')}_most_recent_install`),
    deploymentsLog: path.join(root, 'deployment-logs', 'codedeploy-agent-deployments.log'),
    ongoingDeploymentDir: path.join(root, 'ongoing-deployment'),
  };
}

/** Ids become directory names, so one that could climb out of the root is refused outright. */
function safeSegment(value: string, what: string): string {
  if (value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('\0')) {
    throw new DeployError('UnknownError', `invalid ${what} ${JSON.stringify(value)}: it names a directory and may not be empty, "." or "..", or contain "/"`);
  }
  return value;
}

/** readMarker reads a marker file (one path, one optional trailing newline) or returns undefined. */
export function readMarker(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').replace(/\n$/, '');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** writeMarker replaces a marker atomically, so a crash never leaves half a path behind. */
export function writeMarker(file: string, value: string): void {
  writeFileAtomic(file, value);
}
