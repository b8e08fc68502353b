/**
 * Brings a PostgreSQL database's schema up to date. The applied versions are rows of
 * `schema_migrations`; each migration runs in its own transaction with its row, so a crash leaves
 * the database at a well-defined version. Replicas started together would race to migrate: the
 * whole run holds a session-level advisory lock, so the second waits and then finds nothing to do.
 */
import type pg from 'pg';
import type { Migration } from '../migrations/index.js';

/** MIGRATION_LOCK is the advisory lock key every fleetdeploy coordinator migrates under ("fdmigrat"). */
export const MIGRATION_LOCK = '7306030880143466868';

/** pgMigrate applies the migrations newer than the database's version; it refuses a database from a newer coordinator. */
export async function pgMigrate(client: pg.ClientBase, all: readonly Migration[]): Promise<{ from: number; to: number }> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
    const from = rows[0]?.v ?? 0;
    const latest = all.length === 0 ? 0 : all[all.length - 1]!.version;
    if (from > latest) {
      throw new Error(`the PostgreSQL database is at schema version ${from}, newer than this coordinator knows (${latest}); run a newer fleetdeploy-coordinator`);
    }
    for (const m of all) {
      if (m.version <= from) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`PostgreSQL migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
      }
    }
    return { from, to: Math.max(from, latest) };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
