/**
 * Migration 16: which coordinator replica holds each open agent session, for several replicas on one
 * database (issue 13). An agent's stream is to one replica; with the holder recorded, a replica that
 * starts closes only the sessions it left open itself, not those other live replicas hold, and a
 * late end of a stream on one replica does not close the session the agent has since opened on
 * another (fleet/agent-sessions.ts).
 *
 *   held_by   the replica id whose stream it is; NULL for a coordinator that runs alone (SQLite,
 *             one process under the data directory's lock) and for the rows from before this migration
 */

/** migration adds agent_sessions.held_by. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 16,
  name: 'agent-session-holders',
  sql: `
ALTER TABLE agent_sessions ADD COLUMN held_by TEXT;
`,
} as const;
