/**
 * What the coordinator remembers of each instance's agent (table from migration 007): which version
 * connected, when, when it was last heard from, and when its stream ended. The agent server writes
 * it; `ListInstances` and the deployment status messages read it. Synchronous (better-sqlite3).
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
}

/** AgentSessionStore reads and writes agent sessions. */
export interface AgentSessionStore {
  /** connected starts a session (replacing the instance's previous one). */
  connected(instanceName: string, agentVersion: string, at: number): void;
  /** heartbeat records that the agent was heard from at `at`. */
  heartbeat(instanceName: string, at: number): void;
  /** heartbeats records several, by instance, in one transaction (a fleet's heartbeats, gathered). */
  heartbeats(beats: ReadonlyMap<string, number>): void;
  /** disconnected ends the open session: its last heartbeat is `lastSeen`. */
  disconnected(instanceName: string, at: number, lastSeen: number): void;
  /**
   * closeAbandoned ends the sessions a previous coordinator process left open (it stopped with them
   * connected, or died), at their last heartbeat: no agent is connected to a process just started.
   * Returns how many.
   */
  closeAbandoned(): number;
  get(instanceName: string): AgentSessionRecord | undefined;
}

type Row = { instance_name: string; agent_version: string; connected_at: number; last_heartbeat_at: number; disconnected_at: number | null };

/** createAgentSessionStore prepares the statements over an open, migrated database. */
export function createAgentSessionStore(db: Database.Database): AgentSessionStore {
  const upsert = db.prepare(`INSERT INTO agent_sessions (instance_name, agent_version, connected_at, last_heartbeat_at, disconnected_at) VALUES (?, ?, ?, ?, NULL)
    ON CONFLICT (instance_name) DO UPDATE SET agent_version = excluded.agent_version, connected_at = excluded.connected_at, last_heartbeat_at = excluded.last_heartbeat_at, disconnected_at = NULL`);
  const beat = db.prepare('UPDATE agent_sessions SET last_heartbeat_at = ? WHERE instance_name = ? AND disconnected_at IS NULL');
  const end = db.prepare('UPDATE agent_sessions SET disconnected_at = ?, last_heartbeat_at = MAX(last_heartbeat_at, ?) WHERE instance_name = ? AND disconnected_at IS NULL');
  const abandon = db.prepare('UPDATE agent_sessions SET disconnected_at = last_heartbeat_at WHERE disconnected_at IS NULL');
  const select = db.prepare('SELECT * FROM agent_sessions WHERE instance_name = ?');
  return {
    connected: (name, version, at) => void upsert.run(name, version, at, at),
    heartbeat: (name, at) => void beat.run(at, name),
    heartbeats: db.transaction((beats: ReadonlyMap<string, number>) => {
      for (const [name, at] of beats) beat.run(at, name);
    }),
    disconnected: (name, at, lastSeen) => void end.run(at, lastSeen, name),
    closeAbandoned: () => abandon.run().changes,
    get(name) {
      const r = select.get(name) as Row | undefined;
      if (r === undefined) return undefined;
      return {
        instanceName: r.instance_name,
        agentVersion: r.agent_version,
        connectedAt: r.connected_at,
        lastHeartbeatAt: r.last_heartbeat_at,
        ...(r.disconnected_at === null ? {} : { disconnectedAt: r.disconnected_at }),
      };
    },
  };
}
