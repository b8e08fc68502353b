/**
 * The leases on PostgreSQL, shared by every replica: each call is one statement, judged by the
 * database server's clock (why: lease-store.ts).
 *
 * Race safety of acquire: it is one INSERT … ON CONFLICT (name) DO UPDATE … WHERE. When two replicas
 * race for the same name, PostgreSQL locks the conflicting row for the first; the second waits, then
 * evaluates the WHERE against the row as the first committed it (READ COMMITTED's re-check of the
 * newest row version), finds another owner's live lease and updates nothing. With no row yet, the
 * second insert waits on the first's speculative insertion and then takes the conflict path the
 * same way. So exactly one wins, and the generation it writes is computed from the committed row,
 * never from a stale read. Inside a SERIALIZABLE transaction (a PgTransaction as `db`) the loser's
 * conflict is a serialization failure instead, and the transaction runs again.
 *
 * clock_timestamp(), not now(): now() is the start of the transaction the statement runs in, which
 * inside a long transaction would judge expiry, and stamp a new one, seconds in the past.
 */
import type { PgQuery } from '../store/pg/pg-store.js';
import type { Lease, LeaseStore } from './lease-store.js';
import { checkTtl } from './lease-store.js';

/**
 * CLOCK is the statement's one instant, the database's clock in epoch milliseconds (SQLite's unit):
 * a CTE calling a volatile function is never folded into the query but evaluated once, so the
 * expiry written and the expiry judged use the same instant. Taken before any wait for a row lock, which only makes a lease look held a
 * moment longer, never expired too soon.
 */
const CLOCK = 'WITH clock AS (SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now)';
const AT = '(SELECT now FROM clock)';
const COLUMNS = 'name, owner, generation, expires_at';

type Row = { name: string; owner: string; generation: string | number; expires_at: string | number };
// BIGINT columns come back from pg as strings; milliseconds and generations fit a double exactly.
const lease = (r: Row): Lease => ({ name: r.name, owner: r.owner, generation: Number(r.generation), expiresAt: Number(r.expires_at) });

/** pgLeaseStore keeps leases in `leases` through `db`: the pool (autocommit) or a transaction's handle. */
export function pgLeaseStore(db: PgQuery): LeaseStore {
  return {
    acquire: async (name, owner, ttlMs) => {
      checkTtl(ttlMs);
      const { rows } = await db.query(
        `${CLOCK}
         INSERT INTO leases AS l (name, owner, expires_at, generation) SELECT $1, $2, ${AT} + $3::bigint, 1
         ON CONFLICT (name) DO UPDATE SET
           owner = excluded.owner,
           expires_at = excluded.expires_at,
           generation = CASE WHEN l.owner = excluded.owner AND l.expires_at > ${AT} THEN l.generation ELSE l.generation + 1 END
         WHERE l.owner = excluded.owner OR l.expires_at <= ${AT}
         RETURNING ${COLUMNS}`,
        [name, owner, ttlMs],
      );
      return rows.length === 0 ? undefined : lease(rows[0] as Row);
    },
    renew: async (name, owner, generation, ttlMs) => {
      checkTtl(ttlMs);
      const { rows } = await db.query(
        `${CLOCK}
         UPDATE leases SET expires_at = ${AT} + $4::bigint
         WHERE name = $1 AND owner = $2 AND generation = $3 AND expires_at > ${AT}
         RETURNING ${COLUMNS}`,
        [name, owner, generation, ttlMs],
      );
      return rows.length === 0 ? undefined : lease(rows[0] as Row);
    },
    release: async (name, owner, generation) => {
      const r = await db.query(`${CLOCK} UPDATE leases SET expires_at = ${AT} WHERE name = $1 AND owner = $2 AND generation = $3 AND expires_at > ${AT}`, [name, owner, generation]);
      return (r.rowCount ?? 0) > 0;
    },
    // FOR SHARE: a takeover (acquire's UPDATE) waits until the transaction that checked ends, so the
    // writes a fencing check let through commit before the next tenure begins, never after it.
    holds: async (name, owner, generation) =>
      (await db.query(`${CLOCK} SELECT 1 FROM leases WHERE name = $1 AND owner = $2 AND generation = $3 AND expires_at > ${AT} FOR SHARE OF leases`, [name, owner, generation])).rows.length > 0,
    // COLLATE "C": byte order, as SQLite sorts.
    list: async () => (await db.query(`${CLOCK} SELECT ${COLUMNS} FROM leases WHERE expires_at > ${AT} ORDER BY owner COLLATE "C", name COLLATE "C"`)).rows.map((r) => lease(r as Row)),
  };
}
