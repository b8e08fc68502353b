/**
 * Replica membership on SQLite: the statements of pg-replica-store.ts, judged by the coordinator's
 * clock, which on SQLite is the only one (one process holds the data directory). reap is one
 * transaction; SQLite runs one writer at a time.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { ReapedReplica, ReplicaRecord, ReplicaStore } from './replica-store.js';
import { checkReplicaTtl } from './replica-store.js';

type Row = { id: string; started_at: number; api_url: string; agent_address: string; alive_until: number };
const COLUMNS = 'id, started_at, api_url, agent_address, alive_until';
const record = (r: Row): ReplicaRecord => ({ id: r.id, startedAt: r.started_at, apiUrl: r.api_url, agentAddress: r.agent_address, aliveUntil: r.alive_until });

/** sqliteReplicaStore keeps membership rows in the `replicas` table of `db` (a migrated coordinator database). */
export function sqliteReplicaStore(db: Database.Database, clock: Pick<Clock, 'now'> = systemClock): ReplicaStore {
  const join = db.prepare(`INSERT INTO replicas (${COLUMNS}) VALUES (@id, @startedAt, @apiUrl, @agentAddress, @now + @ttl)
    ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, api_url = excluded.api_url, agent_address = excluded.agent_address, alive_until = excluded.alive_until
    RETURNING ${COLUMNS}`);
  const renew = db.prepare(`UPDATE replicas SET alive_until = @now + @ttl WHERE id = @id AND alive_until > @now RETURNING ${COLUMNS}`);
  const leave = db.prepare('DELETE FROM replicas WHERE id = ?');
  const live = db.prepare(`SELECT ${COLUMNS} FROM replicas WHERE alive_until > ? ORDER BY id`);
  const dead = db.prepare(`SELECT ${COLUMNS} FROM replicas WHERE id <> @self AND (@everyOther OR alive_until <= @now) ORDER BY id`);
  const closeSessions = db.prepare('UPDATE agent_sessions SET disconnected_at = last_heartbeat_at WHERE disconnected_at IS NULL AND held_by = ?');
  const remove = db.prepare('DELETE FROM replicas WHERE id = ?');
  const reap = db.transaction((self: string, everyOther: boolean): ReapedReplica[] =>
    (dead.all({ self, everyOther: everyOther ? 1 : 0, now: clock.now() }) as Row[]).map((r) => {
      remove.run(r.id);
      return { id: r.id, apiUrl: r.api_url, agentAddress: r.agent_address, closedSessions: closeSessions.run(r.id).changes };
    }),
  );
  return {
    join: async (replica, ttl) => {
      checkReplicaTtl(ttl);
      return record(join.get({ ...replica, ttl, now: clock.now() }) as Row);
    },
    renew: async (id, ttl) => {
      checkReplicaTtl(ttl);
      const r = renew.get({ id, ttl, now: clock.now() }) as Row | undefined;
      return r === undefined ? undefined : record(r);
    },
    leave: async (id) => leave.run(id).changes > 0,
    live: async () => (live.all(clock.now()) as Row[]).map(record),
    reap: async (self, options) => reap(self, options?.everyOther === true),
  };
}
