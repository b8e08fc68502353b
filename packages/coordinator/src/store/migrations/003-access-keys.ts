/**
 * Migration 3: the access keys API and bucket requests are signed with (SigV4).
 *
 *   access_keys  one row per key: id (AKIA…, 20 characters), secret (40 characters), role,
 *                created_at and revoked_at (ms since the epoch; revoked_at NULL while the key works)
 *
 * The secret is stored as it is, because SigV4 verification recomputes the signature from it; the
 * database file is kept readable by its owner only (see auth/access-keys.ts). A revoked key's row
 * stays, so `keys list` shows it and its id is never issued again.
 */

/**
 * migration is the access-key schema, applied after version 2 (the bucket). Append-only: change the
 * schema with a new migration, never by editing this one.
 */
export const migration = {
  version: 3,
  name: 'access-keys',
  sql: `
CREATE TABLE access_keys (
  id          TEXT    NOT NULL PRIMARY KEY,
  secret      TEXT    NOT NULL,
  role        TEXT    NOT NULL CHECK (role IN ('admin', 'deployer', 'read-only')),
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER
) STRICT;
`,
} as const;
