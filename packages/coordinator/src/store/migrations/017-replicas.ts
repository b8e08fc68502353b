/**
 * Migration 17: replica membership, for several coordinator replicas on one database (issue 13).
 * Each live replica keeps one row, renewed periodically, and removes it when it stops cleanly
 * (replicas/membership.ts):
 *
 *   id             the replica id (the `held_by` of the agent sessions it holds, the owner of its leases)
 *   started_at     when the replica joined, epoch milliseconds
 *   api_url        where it serves the API
 *   agent_address  host:port where its agents connect
 *   alive_until    when the row lapses unless renewed, epoch milliseconds of the store's clock (the
 *                  database server's on PostgreSQL); a row past it is a dead replica's
 */

/** migration is the replicas table. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 17,
  name: 'replicas',
  sql: `
CREATE TABLE replicas (
  id TEXT NOT NULL PRIMARY KEY,
  started_at INTEGER NOT NULL,
  api_url TEXT NOT NULL,
  agent_address TEXT NOT NULL,
  alive_until INTEGER NOT NULL
);
`,
} as const;
