/**
 * The data directory's two ways in: `serve` makes it (0700, as the database and the CA key in it are
 * secrets), every other command (`enrol-token`, `keys ...`) needs one `serve` made already. A
 * mistyped or missing `--data-dir` must not quietly start a second, empty coordinator state in the
 * current folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config.js';
import { DATABASE_FILE } from './store/sqlite-store.js';

/** createDataDir makes the data directory (and missing parents) readable only by this user; an existing one is left as it is. */
export function createDataDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/**
 * requireDataDir throws one line naming the data directory when it holds no coordinator database,
 * saying how to point at the right one. `explicit` tells whether the operator named it (else it is
 * the default, ./fleetdeploy-data).
 */
export function requireDataDir(dataDir: string, explicit: boolean): void {
  if (fs.existsSync(path.join(dataDir, DATABASE_FILE))) return;
  const which = explicit ? `the data directory ${dataDir}` : `the default data directory ${dataDir} (no --data-dir given)`;
  const what = fs.existsSync(dataDir) ? `has no coordinator database (${DATABASE_FILE})` : 'does not exist';
  throw new ConfigError(`${which} ${what}: pass the coordinator's own with --data-dir DIR or --config FILE (data_dir); only fleetdeploy-coordinator serve creates one`);
}
