/**
 * What the coordinator remembers of each instance's agent (table from migration 007): which version
 * connected, when, when it was last heard from, and when its stream ended. The agent server writes
 * it; `ListInstances` and the deployment status messages read it. Synchronous (better-sqlite3).
 *
 * Several coordinator replicas on one database (issue 13): each session records the replica id whose
 * stream it is (migration 016), given when the store is made, and a store changes only the open
 * sessions its replica holds. So a replica that starts closes only what it left open itself (an
 * earlier process under the same replica id: give each replica an id that survives its restarts,
 * such as its host name), never the sessions of other live replicas; and the late end of a stream
 * on replica A leaves alone the session the agent has since opened on replica B.
 *
 * A coordinator that runs alone (SQLite, one process under the data directory's lock) gives no
 * replica id: its sessions have no holder (NULL), which is also what the rows from before migration
 * 016 have, and its start closes them all, as before. A replica's start closes those too: they were
 * left by a lone coordinator or an older version. The sessions of a replica that dies and never
 * comes back are closed by a live replica once it sees the dead one's membership row lapse
 * (replicas/membership.ts); there is no expiry by heartbeat age.
 */
import type Database from 'better-sqlite3';

/** AgentSessionRecord is an instance's latest agent session. */
export interface AgentSessionRecord {
  instanceName: string;
  agentVersion: string;
  /** When the current (or last) stream was accepted, epoch ms. */
  connectedAt: number;
  /** When a message last came from the agent, epoch ms (written with each heartbeat). */
  lastHeartbeatAt: number;
  /** When the stream ended; undefined while the agent is connected. */
  disconnectedAt?: number;
  /** The replica id whose stream it is (or was); undefined for a coordinator that runs alone. */
  heldBy?: string;
}

/** AgentSessionStore reads and writes agent sessions. */
export interface AgentSessionStore {
  /** connected starts a session held by this store's replica (replacing the instance's previous one, wherever it was). */
  connected(instanceName: string, agentVersion: string, at: number): void;
  /** heartbeat records that the agent was heard from at `at`, if this replica holds its open session. */
  heartbeat(instanceName: string, at: number): void;
  /** heartbeats records several, by instance, in one transaction (a fleet's heartbeats, gathered). */
  heartbeats(beats: ReadonlyMap<string, number>): void;
  /** disconnected ends the open session if this replica holds it: its last heartbeat is `lastSeen`. */
  disconnected(instanceName: string, at: number, lastSeen: number): void;
  /**
   * closeAbandoned ends the sessions a previous coordinator process left open (it stopped with them
   * connected, or died), at their last heartbeat: no agent is connected to a process just started.
   * Only those held by this store's replica id or by none (see above). Returns how many.
   */
  closeAbandoned(): number;
  get(instanceName: string): AgentSessionRecord | undefined;
  /**
   * notConnected names those of `instanceNames` whose agent is not connected now, with its last
   * session (none for one that never connected): one read on PostgreSQL, answering only about those.
   */
  notConnected(instanceNames: readonly string[]): Array<{ instanceName: string; session?: AgentSessionRecord }>;
}

type Row = { instance_name: string; agent_version: string; connected_at: number; last_heartbeat_at: number; disconnected_at: number | null; held_by: string | null };

/**
 * createAgentSessionStore prepares the statements over an open, migrated database, for the replica
 * `replicaId` (undefined: a coordinator that runs alone). `held_by IS ?` matches NULL to NULL.
 */
export function createAgentSessionStore(db: Database.Database, replicaId?: string): AgentSessionStore {
  const holder = replicaId ?? null;
  const upsert = db.prepare(`INSERT INTO agent_sessions (instance_name, agent_version, connected_at, last_heartbeat_at, disconnected_at, held_by) VALUES (?, ?, ?, ?, NULL, ?)
    ON CONFLICT (instance_name) DO UPDATE SET agent_version = excluded.agent_version, connected_at = excluded.connected_at, last_heartbeat_at = excluded.last_heartbeat_at, disconnected_at = NULL, held_by = excluded.held_by`);
  const beat = db.prepare('UPDATE agent_sessions SET last_heartbeat_at = ? WHERE instance_name = ? AND disconnected_at IS NULL AND held_by IS ?');
  const end = db.prepare('UPDATE agent_sessions SET disconnected_at = ?, last_heartbeat_at = MAX(last_heartbeat_at, ?) WHERE instance_name = ? AND disconnected_at IS NULL AND held_by IS ?');
  const abandon = db.prepare('UPDATE agent_sessions SET disconnected_at = last_heartbeat_at WHERE disconnected_at IS NULL AND (held_by IS NULL OR held_by IS ?)');
  const select = db.prepare('SELECT * FROM agent_sessions WHERE instance_name = ?');
  return {
    connected: (name, version, at) => void upsert.run(name, version, at, at, holder),
    heartbeat: (name, at) => void beat.run(at, name, holder),
    heartbeats: db.transaction((beats: ReadonlyMap<string, number>) => {
      for (const [name, at] of beats) beat.run(at, name, holder);
    }),
    disconnected: (name, at, lastSeen) => void end.run(at, lastSeen, name, holder),
    closeAbandoned: () => abandon.run(holder).changes,
    get(name) {
      const r = select.get(name) as Row | undefined;
      return r === undefined ? undefined : record(r);
    },
    notConnected: (names) =>
      names.flatMap((instanceName) => {
        const r = select.get(instanceName) as Row | undefined;
        if (r === undefined) return [{ instanceName }];
        return r.disconnected_at === null ? [] : [{ instanceName, session: record(r) }];
      }),
  };
}

function record(r: Row): AgentSessionRecord {
  return {
    instanceName: r.instance_name,
    agentVersion: r.agent_version,
    connectedAt: r.connected_at,
    lastHeartbeatAt: r.last_heartbeat_at,
    ...(r.disconnected_at === null ? {} : { disconnectedAt: r.disconnected_at }),
    ...(r.held_by === null ? {} : { heldBy: r.held_by }),
  };
}
