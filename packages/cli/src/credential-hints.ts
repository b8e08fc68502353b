/**
 * Why the credential chain found nothing, in words an operator can act on: a profile named by
 * `--profile` or `AWS_PROFILE` that is in neither shared file is a typo to fix, not a lack of keys;
 * otherwise, where the coordinator's own admin key is.
 */
import path from 'node:path';
import { parseKnownFiles } from '@smithy/core/config';

/**
 * NO_CREDENTIALS_MESSAGE is what to do when the chain finds nothing: the coordinator writes its first
 * admin key to `<data_dir>/admin-credentials` (credentials-file format, profile [default]).
 */
export const NO_CREDENTIALS_MESSAGE =
  'no credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or AWS_SHARED_CREDENTIALS_FILE=<data_dir>/admin-credentials (the admin key the coordinator wrote at its first start; fleetdeploy simulate prints its keys)';

/** sharedFiles names the two files profiles come from, as the SDK finds them (the variables, else ~/.aws). */
export function sharedFiles(env: NodeJS.ProcessEnv = process.env): { credentials: string; config: string } {
  const home = (file: string): string => path.join('~', '.aws', file);
  return { credentials: env.AWS_SHARED_CREDENTIALS_FILE || home('credentials'), config: env.AWS_CONFIG_FILE || home('config') };
}

/**
 * missingProfileMessage gives the line for a named profile that neither shared file has, or
 * undefined when no profile was named (`default` is implied) or it exists.
 */
export async function missingProfileMessage(flagProfile: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const name = flagProfile ?? (env.AWS_PROFILE || undefined);
  if (name === undefined) return undefined;
  const profiles = await parseKnownFiles({}).catch(() => ({}) as Record<string, unknown>);
  if (Object.hasOwn(profiles, name)) return undefined;
  const files = sharedFiles(env);
  const from = flagProfile !== undefined ? '--profile' : 'AWS_PROFILE';
  return `the AWS profile ${JSON.stringify(name)} (from ${from}) is in neither ${files.credentials} nor ${files.config}: check its name${from === 'AWS_PROFILE' ? ', or unset AWS_PROFILE' : ''} (aws configure list-profiles lists them)`;
}

