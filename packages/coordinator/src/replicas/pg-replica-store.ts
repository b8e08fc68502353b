/**
 * Replica membership on PostgreSQL, shared by every replica: each call is one statement, judged by
 * the database server's clock (clock_timestamp(), as the leases are: lease/pg-lease-store.ts).
 *
 * reap is one statement whose data-modifying CTEs delete the dead rows and close the sessions their
 * replicas held, together or not at all. Two replicas reaping at once: the second's DELETE waits on
 * the first's row lock, then re-checks the row, finds it deleted and skips it, so its UPDATE closes
 * nothing for that replica either: each dead replica is reaped once. A session the agent has
 * meanwhile opened on a live replica is re-checked the same way and left alone (its held_by changed).
 * A renewal racing with the reaping is likewise decided by whichever commits first.
 */
import type { PgQuery } from '../store/pg/pg-store.js';
import type { ReapedReplica, ReplicaRecord, ReplicaStore } from './replica-store.js';
import { checkReplicaTtl } from './replica-store.js';

const CLOCK = 'WITH clock AS (SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now)';
const AT = '(SELECT now FROM clock)';
const COLUMNS = 'id, started_at, api_url, agent_address, alive_until';

type Row = { id: string; started_at: string | number; api_url: string; agent_address: string; alive_until: string | number };
// BIGINT columns come back as strings; epoch milliseconds fit a double exactly.
const record = (r: Row): ReplicaRecord => ({ id: r.id, startedAt: Number(r.started_at), apiUrl: r.api_url, agentAddress: r.agent_address, aliveUntil: Number(r.alive_until) });

/** pgReplicaStore keeps membership rows in `replicas` through `db`. */
export function pgReplicaStore(db: PgQuery): ReplicaStore {
  return {
    join: async (replica, ttlMs) => {
      checkReplicaTtl(ttlMs);
      const { rows } = await db.query(
        `${CLOCK}
         INSERT INTO replicas (${COLUMNS}) SELECT $1, $2, $3, $4, ${AT} + $5::bigint
         ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, api_url = excluded.api_url, agent_address = excluded.agent_address, alive_until = excluded.alive_until
         RETURNING ${COLUMNS}`,
        [replica.id, replica.startedAt, replica.apiUrl, replica.agentAddress, ttlMs],
      );
      return record(rows[0] as Row);
    },
    renew: async (id, ttlMs) => {
      checkReplicaTtl(ttlMs);
      const { rows } = await db.query(`${CLOCK} UPDATE replicas SET alive_until = ${AT} + $2::bigint WHERE id = $1 AND alive_until > ${AT} RETURNING ${COLUMNS}`, [id, ttlMs]);
      return rows.length === 0 ? undefined : record(rows[0] as Row);
    },
    leave: async (id) => ((await db.query('DELETE FROM replicas WHERE id = $1', [id])).rowCount ?? 0) > 0,
    // COLLATE "C": byte order, as SQLite sorts.
    live: async () => (await db.query(`${CLOCK} SELECT ${COLUMNS} FROM replicas WHERE alive_until > ${AT} ORDER BY id COLLATE "C"`)).rows.map((r) => record(r as Row)),
    reap: async (self, options) => {
      const { rows } = await db.query(
        `${CLOCK},
         gone AS (DELETE FROM replicas WHERE id <> $1 AND ($2::boolean OR alive_until <= ${AT}) RETURNING id, api_url, agent_address),
         closed AS (UPDATE agent_sessions s SET disconnected_at = s.last_heartbeat_at FROM gone
                    WHERE s.held_by = gone.id AND s.disconnected_at IS NULL RETURNING s.held_by)
         SELECT gone.id, gone.api_url, gone.agent_address, (SELECT count(*) FROM closed WHERE closed.held_by = gone.id)::int AS closed_sessions
         FROM gone ORDER BY gone.id COLLATE "C"`,
        [self, options?.everyOther === true],
      );
      return (rows as Array<{ id: string; api_url: string; agent_address: string; closed_sessions: number }>).map(
        (r): ReapedReplica => ({ id: r.id, apiUrl: r.api_url, agentAddress: r.agent_address, closedSessions: r.closed_sessions }),
      );
    },
  };
}
