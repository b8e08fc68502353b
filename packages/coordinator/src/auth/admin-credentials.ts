/**
 * The first admin key. When a coordinator starts with no access keys at all, it makes one admin key
 * and writes it to `<dataDir>/admin-credentials`, readable only by its owner (0600), in the AWS
 * shared-credentials format, so it can be used as it is:
 *
 *   [default]
 *   aws_access_key_id = AKIA…
 *   aws_secret_access_key = …
 *
 *   AWS_SHARED_CREDENTIALS_FILE=<dataDir>/admin-credentials aws deploy list-applications --endpoint-url …
 *
 * The file is written once and never rewritten (created exclusively, `wx`): a start that finds keys
 * leaves it alone, and one that finds the file but no keys (the database was removed) refuses to
 * start rather than overwrite it. If writing fails the new key is revoked again. More keys, or a new
 * admin key if the file is lost, come from `fleetdeploy-coordinator keys create`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AccessKey } from './access-keys.js';
import type { AsyncAccessKeyStore } from '../store/pg/pg-side-stores.js';

/** ADMIN_CREDENTIALS_FILE is the first admin key's file name in the data directory. */
export const ADMIN_CREDENTIALS_FILE = 'admin-credentials';

/** Credentials are an access key id and its secret, as the AWS tools take them. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** StaleCredentialsError says the data directory has an admin-credentials file but no keys. */
export class StaleCredentialsError extends Error {
  constructor(file: string) {
    super(
      `${file} exists but the database has no access keys (was coordinator.db removed?); move the file away and start again to make a new admin key`,
    );
    this.name = 'StaleCredentialsError';
  }
}

/**
 * ensureAdminKey makes the first admin key when the store has none and returns it with the file it
 * was written to; undefined when keys exist already (whatever the file's state).
 */
export async function ensureAdminKey(dataDir: string, keys: AsyncAccessKeyStore, now: number): Promise<{ key: AccessKey; file: string } | undefined> {
  if ((await keys.count()) > 0) return undefined;
  const file = path.join(dataDir, ADMIN_CREDENTIALS_FILE);
  if (fs.existsSync(file)) throw new StaleCredentialsError(file);
  const key = await keys.create('admin', now);
  try {
    writeOnce(file, formatCredentialsFile({ accessKeyId: key.id, secretAccessKey: key.secret }));
  } catch (err) {
    await keys.revoke(key.id, now);
    throw err;
  }
  return { key, file };
}

/** formatCredentialsFile renders credentials as an AWS shared-credentials file's `[default]` profile. */
export function formatCredentialsFile(c: Credentials): string {
  return `[default]\naws_access_key_id = ${c.accessKeyId}\naws_secret_access_key = ${c.secretAccessKey}\n`;
}

/**
 * readCredentialsFile reads the `[default]` profile of an AWS shared-credentials file (such as
 * admin-credentials); it throws when either value is missing.
 */
export function readCredentialsFile(file: string): Credentials {
  let profile = '';
  const values: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    const section = /^\[(.+)\]$/.exec(line);
    if (section !== null) profile = section[1]!.trim();
    else if (profile === 'default' && line.includes('=')) {
      const eq = line.indexOf('=');
      values[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  }
  const accessKeyId = values.aws_access_key_id;
  const secretAccessKey = values.aws_secret_access_key;
  if (accessKeyId === undefined || secretAccessKey === undefined) throw new Error(`${file} has no [default] aws_access_key_id and aws_secret_access_key`);
  return { accessKeyId, secretAccessKey };
}

function writeOnce(file: string, text: string): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(file, 0o600); // the umask cannot loosen it, but may tighten; be exact
}
