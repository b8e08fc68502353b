/**
 * The access keys the coordinator manages (table `access_keys`, migration 003): an id in AWS's shape
 * (`AKIA` + 16 base32 characters), a 40-character secret and a role. The API and the bucket look a key
 * up on every request (one primary-key read, no cache), so a key made or revoked by
 * `fleetdeploy-coordinator keys` from another process counts at once.
 *
 * Secrets are stored as they are: SigV4 verification needs the secret itself to recompute a signature
 * (the signing key is derived per day, region and service), so a hash would not do. What protects them
 * is the file system: {@link restrictDataDir} keeps the data directory 0700 and the database files
 * 0600. (Encrypting the column with a key file in the same directory would only move the secret one
 * file over.)
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Role } from './roles.js';
import { isRole } from './roles.js';

/** AccessKey is one key as the verifier needs it. `revokedAt` is set once the key no longer works. */
export interface AccessKey {
  id: string;
  secret: string;
  role: Role;
  /** createdAt and revokedAt are ms since the epoch. */
  createdAt: number;
  revokedAt?: number;
}

/** AccessKeySummary is a key without its secret: what `keys list` shows. */
export type AccessKeySummary = Omit<AccessKey, 'secret'>;

/** AccessKeyStore reads and changes the access keys. Every method is one synchronous statement. */
export interface AccessKeyStore {
  /** create makes a new key with a fresh id and secret; the only time the secret leaves the store is here and in {@link get}. */
  create(role: Role, now: number): AccessKey;
  /** get finds a key by id, revoked or not; undefined when there is none. */
  get(id: string): AccessKey | undefined;
  /** list gives every key, oldest first, without secrets. */
  list(): AccessKeySummary[];
  /** revoke marks a key revoked; false when there is no such key. Revoking twice keeps the first time. */
  revoke(id: string, now: number): boolean;
  /** count says how many keys exist, revoked ones included. */
  count(): number;
}

/** ACCESS_KEY_ID_PATTERN is the shape of the ids this coordinator issues. */
export const ACCESS_KEY_ID_PATTERN = /^AKIA[A-Z2-7]{16}$/;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** newAccessKeyId makes a random id: `AKIA` and 16 base32 characters (80 random bits), 20 in all as AWS's. */
export function newAccessKeyId(): string {
  const bytes = randomBytes(16);
  let id = 'AKIA';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

/** newSecretAccessKey makes a random secret: 30 bytes as base64, 40 characters as AWS's. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

/** AccessKeyRow is a row of `access_keys` (times as numbers). */
export interface AccessKeyRow {
  id: string;
  secret: string;
  role: string;
  created_at: number;
  revoked_at: number | null;
}

/** toKey reads a row, refusing a role this coordinator does not know. */
export function toKey(row: AccessKeyRow): AccessKey {
  if (!isRole(row.role)) throw new Error(`access key ${row.id} has an unknown role ${JSON.stringify(row.role)}`);
  const key: AccessKey = { id: row.id, secret: row.secret, role: row.role, createdAt: row.created_at };
  if (row.revoked_at !== null) key.revokedAt = row.revoked_at;
  return key;
}

/** createAccessKeyStore reads and writes the keys in an open, migrated coordinator database. */
export function createAccessKeyStore(db: Database.Database): AccessKeyStore {
  const s = {
    insert: db.prepare('INSERT INTO access_keys (id, secret, role, created_at) VALUES (?, ?, ?, ?)'),
    get: db.prepare('SELECT id, secret, role, created_at, revoked_at FROM access_keys WHERE id = ?'),
    list: db.prepare('SELECT id, secret, role, created_at, revoked_at FROM access_keys ORDER BY created_at, id'),
    revoke: db.prepare('UPDATE access_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?'),
    count: db.prepare('SELECT COUNT(*) AS n FROM access_keys'),
  };
  return {
    create(role, now) {
      const key: AccessKey = { id: newAccessKeyId(), secret: newSecretAccessKey(), role, createdAt: now };
      s.insert.run(key.id, key.secret, key.role, key.createdAt);
      return key;
    },
    get(id) {
      const row = s.get.get(id) as AccessKeyRow | undefined;
      return row === undefined ? undefined : toKey(row);
    },
    list() {
      return (s.list.all() as AccessKeyRow[]).map((row) => {
        const { secret: _secret, ...summary } = toKey(row);
        return summary;
      });
    },
    revoke(id, now) {
      return s.revoke.run(now, id).changes > 0;
    },
    count() {
      return (s.count.get() as { n: number }).n;
    },
  };
}

/**
 * restrictDataDir makes the data directory 0700 and the database files in it (the SQLite file and its
 * WAL and shared-memory files, when present) 0600, because the database holds the access keys'
 * secrets. Called at every start and by the `keys` commands, so a directory made by an older
 * coordinator, or with a loose umask, is tightened.
 */
export function restrictDataDir(dataDir: string, databaseFile: string): void {
  fs.chmodSync(dataDir, 0o700);
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      fs.chmodSync(path.join(dataDir, databaseFile + suffix), 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
