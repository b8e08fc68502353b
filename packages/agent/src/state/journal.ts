/**
 * The crash marker of the AWS agent: before an event runs, `ongoing-deployment/<deployment-id>` holds
 * the command's id; afterwards it is removed. A marker found at start means the agent died mid-event,
 * and that event is reported as FailedAfterRestart instead of being run again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Diagnostics } from '@fleetdeploy/shared';
import type { Layout } from '../layout.js';
import { writeFileAtomic } from './atomic-file.js';

/** Markers older than this are stale: the coordinator has long since timed the event out. */
export const MARKER_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** FAILED_AFTER_RESTART_MESSAGE is the AWS agent's text for an event cut short by a restart. */
export const FAILED_AFTER_RESTART_MESSAGE = 'Failed: Failing in-progress lifecycle event after an agent restart.';

/** beginCommand records, durably, that a command is about to run for a deployment. */
export function beginCommand(layout: Layout, deploymentId: string, commandId: string): void {
  writeFileAtomic(path.join(layout.ongoingDeploymentDir, deploymentId), commandId, true);
}

/** endCommand removes a deployment's marker once its command has a result. */
export function endCommand(layout: Layout, deploymentId: string): void {
  fs.rmSync(path.join(layout.ongoingDeploymentDir, deploymentId), { force: true });
}

/** InterruptedCommand is a command that was running when the agent stopped. */
export interface InterruptedCommand {
  deploymentId: string;
  commandId: string;
  diagnostics: Diagnostics;
}

/**
 * recoverInterrupted reads the markers left by a previous run, as the AWS agent does at start: stale
 * markers are ignored, the most recently written fresh one is the command to fail, and the marker
 * folder is cleared so the same command is never reported (or run) twice.
 */
export function recoverInterrupted(layout: Layout, nowMs: number): InterruptedCommand | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(layout.ongoingDeploymentDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const fresh = names
    .filter((name) => !name.includes('.tmp-')) // a marker whose write was cut short never began its command
    .map((name) => {
      const file = path.join(layout.ongoingDeploymentDir, name);
      return { name, file, mtimeMs: fs.statSync(file).mtimeMs };
    })
    .filter((m) => nowMs - m.mtimeMs <= MARKER_MAX_AGE_MS)
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  const newest = fresh[0];
  const commandId = newest ? fs.readFileSync(newest.file, 'utf8').trim() : '';
  fs.rmSync(layout.ongoingDeploymentDir, { recursive: true, force: true });
  if (!newest || commandId === '') return undefined;
  return {
    deploymentId: newest.name,
    commandId,
    diagnostics: { errorCode: 'FailedAfterRestart', scriptName: '', message: FAILED_AFTER_RESTART_MESSAGE, logTail: '' },
  };
}
