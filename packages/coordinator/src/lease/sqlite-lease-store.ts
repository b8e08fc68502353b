/**
 * The leases on SQLite: the same statements as on PostgreSQL (pg-lease-store.ts), judged by the
 * coordinator's clock, which on SQLite is the only one (one process holds the data directory). Each
 * call is one statement, and SQLite runs one writer at a time, so acquire cannot race.
 */
import type Database from 'better-sqlite3';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import type { Lease, LeaseStore } from './lease-store.js';
import { checkTtl } from './lease-store.js';

const COLUMNS = 'name, owner, generation, expires_at';
type Row = { name: string; owner: string; generation: number; expires_at: number };
const lease = (r: Row | undefined): Lease | undefined => (r === undefined ? undefined : { name: r.name, owner: r.owner, generation: r.generation, expiresAt: r.expires_at });

/** sqliteLeaseStore keeps leases in the `leases` table of `db` (a migrated coordinator database). */
export function sqliteLeaseStore(db: Database.Database, clock: Pick<Clock, 'now'> = systemClock): LeaseStore {
  const acquire = db.prepare(`INSERT INTO leases AS l (name, owner, expires_at, generation) VALUES (@name, @owner, @now + @ttl, 1)
    ON CONFLICT (name) DO UPDATE SET
      owner = excluded.owner,
      expires_at = excluded.expires_at,
      generation = CASE WHEN l.owner = excluded.owner AND l.expires_at > @now THEN l.generation ELSE l.generation + 1 END
    WHERE l.owner = excluded.owner OR l.expires_at <= @now
    RETURNING ${COLUMNS}`);
  const renew = db.prepare(`UPDATE leases SET expires_at = @now + @ttl
    WHERE name = @name AND owner = @owner AND generation = @generation AND expires_at > @now RETURNING ${COLUMNS}`);
  const release = db.prepare('UPDATE leases SET expires_at = @now WHERE name = @name AND owner = @owner AND generation = @generation AND expires_at > @now');
  const holds = db.prepare('SELECT 1 FROM leases WHERE name = @name AND owner = @owner AND generation = @generation AND expires_at > @now');
  const list = db.prepare(`SELECT ${COLUMNS} FROM leases WHERE expires_at > ? ORDER BY owner, name`);
  return {
    acquire: async (name, owner, ttl) => {
      checkTtl(ttl);
      return lease(acquire.get({ name, owner, ttl, now: clock.now() }) as Row | undefined);
    },
    renew: async (name, owner, generation, ttl) => {
      checkTtl(ttl);
      return lease(renew.get({ name, owner, generation, ttl, now: clock.now() }) as Row | undefined);
    },
    release: async (name, owner, generation) => release.run({ name, owner, generation, now: clock.now() }).changes > 0,
    holds: async (name, owner, generation) => holds.get({ name, owner, generation, now: clock.now() }) !== undefined,
    list: async () => (list.all(clock.now()) as Row[]).map((r) => lease(r)!),
  };
}
