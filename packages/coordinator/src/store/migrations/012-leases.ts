/**
 * Migration 12: leases, for several coordinator replicas on one database (issue 13). A lease names a
 * piece of work (a deployment, a group) that one replica at a time may drive:
 * - owner is the replica id holding it, expires_at when it lapses unless renewed (epoch
 *   milliseconds, judged by one clock: see lease/lease-store.ts);
 * - generation is the fencing token: it grows at each new tenure (a lease taken while free, expired
 *   or released), so a write stamped with an older generation can be told apart and refused.
 * A released lease keeps its row (expired, with its generation), so that the next tenure's
 * generation is still higher than every earlier one; deleting the row would start again at 1.
 */

/** migration is the leases table. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 12,
  name: 'leases',
  sql: `
CREATE TABLE leases (
  name TEXT NOT NULL PRIMARY KEY,
  owner TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  generation INTEGER NOT NULL
);
`,
} as const;
