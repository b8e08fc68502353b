/**
 * `fleetdeploy-coordinator migrate` as an operator runs it: on a data directory's SQLite file and on
 * a real PostgreSQL database, it brings the schema up to date and prints one line; each way it can
 * fail is one ERROR line naming what was wrong, and exit code 1.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { COORDINATOR_BIN } from './harness/coordinator.js';
import { describeWithTools } from './harness/system-tools.js';
import { connectionUrl, usePostgres } from './harness/postgres.js';
import { expectOneErrorLine } from './harness/process-checks.js';
import { migrate } from '../packages/coordinator/src/store/migrate.js';
import { migrations } from '../packages/coordinator/src/store/migrations/index.js';
import { pgMigrate } from '../packages/coordinator/src/store/pg/pg-migrate.js';
import { pgMigrations } from '../packages/coordinator/src/store/pg/pg-migrations.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** coordinator runs `fleetdeploy-coordinator migrate args` (as `user` when given); a run that hangs is killed and reported as -1. */
function migrateRun(args: string[], user?: string): Promise<Run> {
  const [file, argv] = user === undefined ? [process.execPath, [COORDINATOR_BIN, 'migrate', ...args]] : ['runuser', ['-u', user, '--', process.execPath, COORDINATOR_BIN, 'migrate', ...args]];
  // The other user cannot read the test run's CA file, which Node would warn about on stderr.
  const env = user === undefined ? process.env : { ...process.env, NODE_EXTRA_CA_CERTS: undefined };
  return new Promise((resolve) => {
    execFile(file, argv, { timeout: 20_000, env }, (err, stdout, stderr) => {
      const e = err as { code?: number; killed?: boolean } | null;
      resolve({ code: e ? (e.killed ? -1 : (e.code ?? -2)) : 0, stdout, stderr });
    });
  });
}

const LATEST = migrations[migrations.length - 1]!.version;

function expectMigrated(r: Run, from: number): void {
  expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `schema at version ${LATEST} (was ${from})\n`, stderr: '' });
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** dataDirAt makes a data directory whose database was left at `version` by an older coordinator. */
function dataDirAt(version: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-migrate-'));
  const db = new Database(path.join(dir, 'coordinator.db'));
  db.pragma('journal_mode = WAL');
  migrate(db, migrations.filter((m) => m.version <= version));
  db.close();
  return dir;
}

describe('fleetdeploy-coordinator migrate --data-dir', () => {
  it('brings an older data directory\'s database up to date, then finds nothing to do', async () => {
    const dir = dataDirAt(LATEST - 1);
    expectMigrated(await migrateRun(['--data-dir', dir]), LATEST - 1);
    const db = new Database(path.join(dir, 'coordinator.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'leases'").pluck().get()).toBe('leases');
    db.close();
    expectMigrated(await migrateRun(['--data-dir', dir]), LATEST);
    expect(fs.existsSync(path.join(dir, 'coordinator.pid'))).toBe(false); // the lock is let go
  });

  it('refuses a database from a newer coordinator, leaving it as it is', async () => {
    const dir = dataDirAt(LATEST);
    const db = new Database(path.join(dir, 'coordinator.db'));
    db.pragma('user_version = 99');
    db.close();
    expectOneErrorLine(await migrateRun(['--data-dir', dir]), new RegExp(`^ERROR: the data directory's database is at schema version 99, newer than this coordinator knows \\(${LATEST}\\); run a newer fleetdeploy-coordinator$`));
  });

  it('refuses a data directory that does not exist, naming it, and makes none', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-migrate-')), 'dta');
    expectOneErrorLine(await migrateRun(['--data-dir', dir]), new RegExp(`^ERROR: the data directory ${escape(dir)} does not exist: .*only fleetdeploy-coordinator serve creates one$`));
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('refuses a data directory it cannot write, naming it', async () => {
    const dir = dataDirAt(LATEST - 1);
    fs.chmodSync(path.dirname(dir), 0o755);
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(path.join(dir, 'coordinator.db'), 0o644);
    // Root writes anywhere: run as another user, to whom the directory is read-only.
    const asUser = process.getuid?.() === 0 ? 'nobody' : undefined;
    if (asUser === undefined) fs.chmodSync(dir, 0o555);
    const r = await migrateRun(['--data-dir', dir], asUser);
    expectOneErrorLine(r, new RegExp(`^ERROR: cannot migrate the data directory ${escape(dir)}: it is not writable by this user \\(.*(EACCES|permission denied|readonly)`));
    const db = new Database(path.join(dir, 'coordinator.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST - 1);
    db.close();
  });

  it('refuses an empty database file rather than making a new coordinator of it, naming the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-migrate-'));
    fs.writeFileSync(path.join(dir, 'coordinator.db'), '');
    expectOneErrorLine(await migrateRun(['--data-dir', dir]), new RegExp(`^ERROR: the database ${escape(path.join(dir, 'coordinator.db'))} is empty \\(0 bytes\\)`));
    expect(fs.statSync(path.join(dir, 'coordinator.db')).size).toBe(0);
  });

  it('refuses to change the schema under a running coordinator', async () => {
    const dir = dataDirAt(LATEST - 1);
    fs.writeFileSync(path.join(dir, 'coordinator.pid'), `${process.pid}\n\n`); // this test's process stands for it
    expectOneErrorLine(await migrateRun(['--data-dir', dir]), new RegExp(`^ERROR: another coordinator \\(pid ${process.pid}\\) is running on the data directory ${escape(dir)}`));
  });
});

describeWithTools(['postgres'], 'fleetdeploy-coordinator migrate --database', () => {
  const server = usePostgres();

  const withClient = async <T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  it('makes the schema of an empty database, brings an older one up to date, then finds nothing to do', async () => {
    expectMigrated(await migrateRun(['--database', await server().freshDatabase()]), 0);
    const url = await server().freshDatabase();
    await withClient(url, (c) => pgMigrate(c, pgMigrations.slice(0, -1)));
    expectMigrated(await migrateRun(['--database', url]), LATEST - 1);
    expect(await withClient(url, async (c) => (await c.query("SELECT to_regclass('leases') AS t")).rows[0].t)).toBe('leases');
    expectMigrated(await migrateRun(['--database', url]), LATEST);
  });

  it('takes the database from the configuration file', async () => {
    const url = await server().freshDatabase();
    const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-migrate-')), 'c.yml');
    fs.writeFileSync(config, `database: ${url}\n`);
    expectMigrated(await migrateRun(['--config', config]), 0);
  });

  it('refuses a database from a newer coordinator', async () => {
    const url = await server().freshDatabase();
    await withClient(url, async (c) => {
      await pgMigrate(c, pgMigrations);
      await c.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')");
    });
    expectOneErrorLine(await migrateRun(['--database', url]), new RegExp(`^ERROR: the PostgreSQL database is at schema version 99, newer than this coordinator knows \\(${LATEST}\\); run a newer fleetdeploy-coordinator$`));
  });

  it('names a database the server does not have', async () => {
    const url = connectionUrl(server().socketDir, 'no_such_db');
    expectOneErrorLine(await migrateRun(['--database', url]), new RegExp(`^ERROR: cannot connect to the PostgreSQL database ${escape(url)}: database "no_such_db" does not exist$`));
  });
});

describe('fleetdeploy-coordinator migrate --database, without a server to reach', () => {
  it('names the server it cannot reach, hiding the password', async () => {
    // A loopback port nobody listens on: taken, then let go.
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    await new Promise((resolve) => holder.close(resolve));
    const r = await migrateRun(['--database', `postgres://fd:secret@127.0.0.1:${port}/fleet`]);
    expectOneErrorLine(r, new RegExp(`^ERROR: cannot connect to the PostgreSQL database postgres://fd:\\*\\*\\*@127\\.0\\.0\\.1:${port}/fleet: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`));
    expect(r.stderr).not.toContain('secret');
  });

  it.each([
    ['a URL of another scheme', 'mysql://db/fleet', /^ERROR: --database: expected a postgres:\/\/ URL .*got the scheme "mysql"$/],
    ['a URL naming no database', 'postgres://fd@db.example/', /^ERROR: --database: names no database in postgres:\/\/fd@db\.example\/ /],
    ['no URL at all', 'fleet', /^ERROR: --database: expected a postgres:\/\/user@host\/database URL, got "fleet"$/],
  ])('refuses %s, naming the option', async (_what, url, pattern) => {
    expectOneErrorLine(await migrateRun(['--database', url]), pattern);
  });
});
