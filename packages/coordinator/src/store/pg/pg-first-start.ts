/**
 * What replicas starting together on one PostgreSQL database must do once between them: make the
 * shared CA and the first admin key. Both run under one session-level advisory lock, so a replica
 * that finds the database empty makes them while the others wait, and they then find them made.
 * (A unique insert alone would do for the CA, one row; the first admin key is "a key when there is
 * none", which only mutual exclusion makes happen once.)
 */
import type pg from 'pg';
import type { AuthorityPems } from '../../ca/authority.js';
import type { SharedAuthorityRow } from '../../ca/shared-authority.js';
import type { PgQuery } from './pg-store.js';

/** FIRST_START_LOCK is the advisory lock key of the first-start work ("fdfirsts"), apart from the migration lock. */
export const FIRST_START_LOCK = '7306030880151728243';

/** withFirstStartLock runs `fn` holding the first-start lock on a connection of its own, released however `fn` ends. */
export async function withFirstStartLock<T>(pool: pg.Pool, fn: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [FIRST_START_LOCK]);
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [FIRST_START_LOCK]).catch((err: unknown) => {
        broken = err as Error; // a session lock ends with its connection: destroy it rather than reuse it
      });
    }
  } finally {
    client.release(broken);
  }
}

/** pgAuthorityRow keeps the shared CA in `certificate_authority` (migration 18). */
export function pgAuthorityRow(db: PgQuery): SharedAuthorityRow {
  return {
    read: async () => {
      const { rows } = await db.query('SELECT cert_pem, key_pem FROM certificate_authority WHERE id = 1');
      return rows.length === 0 ? undefined : ({ certPem: rows[0].cert_pem as string, keyPem: rows[0].key_pem as string } satisfies AuthorityPems);
    },
    insert: async (pems, now) => {
      await db.query('INSERT INTO certificate_authority (id, cert_pem, key_pem, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING', [pems.certPem, pems.keyPem, now]);
    },
  };
}
