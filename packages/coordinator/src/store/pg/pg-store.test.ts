import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeWithTools } from '../../../../../test/harness/system-tools.js';
import { connectionUrl, usePostgres } from '../../../../../test/harness/postgres.js';
import { defineStoreContract } from '../../testing/store-contract.js';
import { migrations } from '../migrations/index.js';
import { openPgStore } from './pg-store.js';
import type { PgTransactionTiming } from './pg-store.js';
import { pgMigrate } from './pg-migrate.js';
import { pgMigrations } from './pg-migrations.js';

describeWithTools(['postgres'], 'PostgreSQL store', () => {
  const server = usePostgres();

  describe('the store contract', () => {
    defineStoreContract(
      async () => {
        const url = await server().freshDatabase();
        const store = await openPgStore(url, { poolSize: 4 });
        return { store, replica: () => openPgStore(url, { poolSize: 4 }) };
      },
      { concurrentTransactions: true },
    );
  });

  describe('migrations', () => {
    const withClient = async <T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    };

    it('are the SQLite migrations\' versions and names, one for one', () => {
      expect(pgMigrations.map((m) => `${m.version} ${m.name}`)).toEqual(migrations.map((m) => `${m.version} ${m.name}`));
    });

    it('make every table the SQLite migrations make, with the same columns', async () => {
      const url = await server().freshDatabase();
      await withClient(url, (c) => pgMigrate(c, pgMigrations));
      const pgColumns = await withClient(url, async (c) => {
        const { rows } = await c.query<{ t: string; c: string }>("SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'");
        return rows.map((r) => `${r.t}.${r.c}`);
      });
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(':memory:');
      for (const m of migrations) db.exec(m.sql);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
      const sqliteColumns = tables.flatMap((t) => (db.prepare(`PRAGMA table_info(${t})`).all() as Array<{ name: string }>).map((c) => `${t}.${c.name}`));
      db.close();
      // PostgreSQL keeps insertion order in a seq column where SQLite uses its implicit rowid.
      expect(pgColumns.filter((c) => c !== 'commands.seq').sort()).toEqual(sqliteColumns.sort());
    });

    it('migrate once: a second run finds nothing to do, and a newer database is refused', async () => {
      const url = await server().freshDatabase();
      expect(await withClient(url, (c) => pgMigrate(c, pgMigrations.slice(0, 3)))).toEqual({ from: 0, to: 3 });
      expect(await withClient(url, (c) => pgMigrate(c, pgMigrations))).toEqual({ from: 3, to: pgMigrations.length });
      expect(await withClient(url, (c) => pgMigrate(c, pgMigrations))).toEqual({ from: pgMigrations.length, to: pgMigrations.length });
      await withClient(url, (c) => c.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')"));
      await expect(withClient(url, (c) => pgMigrate(c, pgMigrations))).rejects.toThrow(new RegExp(`schema version 99, newer than this coordinator knows \\(${pgMigrations.length}\\)`));
    });

    it('give the targets of a database from before migration 13 the status in their records', async () => {
      const url = await server().freshDatabase();
      await withClient(url, async (c) => {
        await pgMigrate(c, pgMigrations.filter((m) => m.version < 13));
        await c.query('INSERT INTO deployment_targets (deployment_id, target_id, doc) VALUES ($1, $2, $3), ($1, $4, $5)', ['d-1', 'h1', JSON.stringify({ targetId: 'h1', status: 'Succeeded' }), 'h2', JSON.stringify({ targetId: 'h2', status: 'Pending' })]);
        await pgMigrate(c, pgMigrations);
      });
      const store = await openPgStore(url, { poolSize: 1 });
      try {
        expect(await store.countTargets('d-1')).toEqual({ Succeeded: 1, Pending: 1 });
        expect(await store.targetIdsWithStatus('d-1', ['Pending'])).toEqual(['h2']);
      } finally {
        await store.close();
      }
    });

    it('are applied once when several coordinators start at the same time', async () => {
      const url = await server().freshDatabase();
      const opening = await Promise.allSettled(Array.from({ length: 4 }, () => openPgStore(url, { poolSize: 2 })));
      const stores = opening.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      try {
        expect(opening.filter((o) => o.status === 'rejected')).toEqual([]);
        const versions = await withClient(url, async (c) => (await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version));
        expect(versions).toEqual(pgMigrations.map((m) => m.version));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('leave a failed migration undone and say which one failed', async () => {
      const url = await server().freshDatabase();
      const broken = [...pgMigrations.slice(0, 2), { version: 3, name: 'broken', sql: 'CREATE TABLE half_made (a INT); SELECT no_such_column FROM half_made;' }];
      await expect(withClient(url, (c) => pgMigrate(c, broken))).rejects.toThrow(/PostgreSQL migration 3 \(broken\) failed: column "no_such_column" does not exist/);
      const state = await withClient(url, async (c) => ({
        versions: (await c.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version),
        halfMade: (await c.query("SELECT to_regclass('half_made') AS t")).rows[0].t,
      }));
      expect(state).toEqual({ versions: [1, 2], halfMade: null });
    });
  });

  it('tells how each transaction went: its time, its runs (a refused one run again) and whether it committed', async () => {
    const timings: PgTransactionTiming[] = [];
    const store = await openPgStore(await server().freshDatabase(), { poolSize: 2, observeTransaction: (t) => timings.push(t) });
    try {
      await store.transaction(async (tx) => {
        await tx.query('SELECT 1');
        await tx.transaction(async (inner) => inner.query('SELECT 2')); // a savepoint: part of this transaction
      });
      let runs = 0;
      await store.transaction(async (tx) => {
        await tx.query('SELECT 1');
        // Refused as PostgreSQL refuses one for a concurrent transaction (serialization failure), once.
        if (++runs === 1) throw Object.assign(new Error('could not serialize access'), { code: '40001' });
      });
      await expect(store.transaction(async () => { throw new Error('the body failed'); })).rejects.toThrow('the body failed');
      expect(timings.map((t) => ({ runs: t.runs, committed: t.committed }))).toEqual([
        { runs: 1, committed: true },
        { runs: 2, committed: true },
        { runs: 1, committed: false },
      ]);
      expect(timings.every((t) => t.seconds > 0 && t.seconds < 30)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('refuses to open a database that is not there, naming it', async () => {
    await expect(openPgStore(connectionUrl(server().socketDir, 'no_such_db'))).rejects.toThrow(/database "no_such_db" does not exist/);
  });
});
