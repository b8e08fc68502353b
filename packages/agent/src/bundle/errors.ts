/**
 * How failures while writing a bundle are reported. Refusals from the bundle index are already
 * DeployErrors with their final text and pass through unchanged.
 */
import { DeployError, isDeployError } from '@fleetdeploy/shared';

/**
 * DISK_FULL_MESSAGE is the AWS agent's text for an extraction that ran out of space, kept because
 * operators search their logs for it.
 */
export const DISK_FULL_MESSAGE = 'The disk is (or was) full during extraction.';

/**
 * entryRefusal is the error that refuses a bundle because of one entry; the quoted name is the one
 * stored in the archive, so an operator can find it with `tar -t` or `unzip -l`.
 */
export function entryRefusal(rawPath: string, reason: string): DeployError {
  return new DeployError('UnknownError', `bundle entry ${JSON.stringify(rawPath)}: ${reason}`);
}

/** extractionError turns anything thrown while writing the bundle `label` into a DeployError. */
export function extractionError(err: unknown, label: string): DeployError {
  if (isDeployError(err)) return err;
  if ((err as NodeJS.ErrnoException | undefined)?.code === 'ENOSPC') {
    return new DeployError('UnknownError', DISK_FULL_MESSAGE, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new DeployError('UnknownError', `could not unpack ${label}: ${message}`, { cause: err });
}

/** invalidArchiveError reports a bundle that is not a readable archive of its declared type. */
export function invalidArchiveError(err: unknown, label: string, type: string): DeployError {
  if (isDeployError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DeployError('UnknownError', `${label} is not a valid ${type} archive: ${message}`, { cause: err });
}
