/**
 * Migration 7: what the coordinator knows of each instance's agent, for `fleetdeploy instances` and
 * for saying since when an agent is offline. One row per instance, rewritten on every connect; a
 * restart closes the rows the previous process left open, at their last heartbeat. (Version 6 is
 * another branch's; the versions only have to increase.)
 *
 *   agent_sessions   instance → agent version, connected at, last heartbeat, disconnected at (ms; NULL while connected)
 *
 * The index finds an instance's latest deployment (its last target row) without scanning them all.
 */

/** migration is the agent-session schema. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 7,
  name: 'agent-sessions',
  sql: `
CREATE TABLE agent_sessions (
  instance_name      TEXT    NOT NULL PRIMARY KEY,
  agent_version      TEXT    NOT NULL,
  connected_at       INTEGER NOT NULL,
  last_heartbeat_at  INTEGER NOT NULL,
  disconnected_at    INTEGER
) STRICT;

CREATE INDEX deployment_targets_by_target ON deployment_targets (target_id);
`,
} as const;
