/**
 * The Install lifecycle event: plan against the host as it will be after cleanup, then remove the
 * group's previous files, then copy and apply permissions, then mark this deployment as the group's
 * last successful install (the AWS agent's marker, written when Install succeeds).
 */
import fs from 'node:fs';
import type { ServerAppSpec } from '@fleetdeploy/shared';
import type { Layout } from '../layout.js';
import { writeMarker } from '../layout.js';
import { performCleanup, predictCleanup, readCleanupFile } from './cleanup.js';
import { planInstall } from './plan.js';
import { installJson } from './instructions.js';
import { applyInstructions, defaultPermissionTools } from './apply.js';
import type { PermissionTools } from './apply.js';

/** InstallInput is one deployment's Install on one host. */
export interface InstallInput {
  layout: Layout;
  groupId: string;
  deploymentRoot: string;
  appSpec: ServerAppSpec;
  fileExistsBehavior: string;
  tools?: PermissionTools;
  /** The agent's destination_root, if any (see hostPath). */
  destinationRoot?: string;
}

/** InstallSummary counts what an Install did, for logs and progress. */
export interface InstallSummary {
  removed: number;
  instructions: number;
  copies: number;
}

/** installRevision performs the Install event for an already unpacked revision. */
export async function installRevision(input: InstallInput): Promise<InstallSummary> {
  const { layout, groupId } = input;
  const archiveDir = layout.archiveDir(input.deploymentRoot);
  fs.mkdirSync(layout.instructionsDir, { recursive: true });

  const cleanupFile = layout.cleanupFile(groupId);
  const previous = readCleanupFile(cleanupFile);
  const instructions = planInstall({
    appSpec: input.appSpec,
    archiveDir,
    deploymentFileExistsBehavior: input.fileExistsBehavior,
    removedByCleanup: predictCleanup(previous),
    ...(input.destinationRoot === undefined ? {} : { destinationRoot: input.destinationRoot }),
  });

  await performCleanup(previous);
  fs.rmSync(cleanupFile, { force: true });
  fs.writeFileSync(layout.installJson(groupId), installJson(instructions));
  await applyInstructions(instructions, cleanupFile, input.tools ?? defaultPermissionTools);
  writeMarker(layout.lastSuccessfulInstallMarker(groupId), input.deploymentRoot);
  return {
    removed: previous.length,
    instructions: instructions.length,
    copies: instructions.filter((i) => i.type === 'copy').length,
  };
}
