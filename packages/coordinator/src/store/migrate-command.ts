/**
 * `fleetdeploy-coordinator migrate`: brings a database's schema up to date without serving, so an
 * operator upgrades the one PostgreSQL database several replicas share before starting them (or a
 * data directory's SQLite file before a start). Prints `schema at version N (was M)`; every failure
 * is one line naming what was wrong (the server, the URL, the data directory).
 *
 *   migrate --database postgres://user@host/db   the PostgreSQL database
 *   migrate --data-dir DIR                        the SQLite file of a data directory serve made
 */
import { Command } from 'commander';
import pg from 'pg';
import { ConfigError, loadConfig } from '../config.js';
import { requireDataDir } from '../data-dir.js';
import { lockDataDir } from '../data-dir-lock.js';
import { isDiskFull } from './disk-full.js';
import { connectFailure, redactPassword } from './database-url.js';
import { openDatabase } from './sqlite-store.js';
import { pgMigrate } from './pg/pg-migrate.js';
import { pgMigrations } from './pg/pg-migrations.js';

/** Schema is where a migration left the schema. */
export interface Schema {
  from: number;
  to: number;
}

/** CONNECT_TIMEOUT_MS bounds the wait for a server that neither answers nor refuses (a dropped packet). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * migrateDataDir migrates the SQLite file of `dataDir` the way serve opens it, holding the data
 * directory's lock so that it never changes the schema under a running coordinator.
 */
export function migrateDataDir(dataDir: string): Schema {
  let lock;
  try {
    lock = lockDataDir(dataDir);
  } catch (err) {
    throw describeDataDirFailure(err, dataDir);
  }
  try {
    const { db, schema } = openDatabase(dataDir, { verify: true });
    db.close();
    return schema;
  } catch (err) {
    throw describeDataDirFailure(err, dataDir);
  } finally {
    lock.release();
  }
}

/** describeDataDirFailure turns what the machine refused into one line naming the data directory; other errors pass. */
function describeDataDirFailure(err: unknown, dataDir: string): unknown {
  if (err instanceof ConfigError) return err; // a newer schema, a corrupt or empty file, a running coordinator: already one line
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (/schema version/.test(message)) return new ConfigError(message);
  if (isDiskFull(err)) return new ConfigError(`the data directory ${dataDir} is on a full file system (${code ?? message}): free space there, then migrate again`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR' || code === 'SQLITE_CANTOPEN' || code?.startsWith('SQLITE_READONLY') === true) {
    return new ConfigError(`cannot migrate the data directory ${dataDir}: it is not writable by this user (${message})`);
  }
  return err;
}

/** migratePostgres migrates the PostgreSQL database at `url` under the migration lock replicas share. */
export async function migratePostgres(url: string): Promise<Schema> {
  const where = redactPassword(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => {}); // a connection dropped later fails the query in flight, reported below
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new ConfigError(`cannot connect to the PostgreSQL database ${where}: ${connectFailure(err)}`);
  }
  try {
    return await pgMigrate(client, pgMigrations);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ConfigError(/schema version/.test(message) ? message : `cannot migrate the PostgreSQL database ${where}: ${message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** migrateCommand builds `migrate`. */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('bring the database\'s schema up to date (PostgreSQL with --database, else the data directory\'s SQLite file) and print its version')
    .option('-c, --config <file>', 'the coordinator\'s YAML configuration file (for database or data_dir)')
    .option('--database <url>', 'the PostgreSQL database the replicas share (postgres://user@host/database)')
    .option('--data-dir <dir>', 'the coordinator\'s data directory, made by serve (default: ./fleetdeploy-data)')
    .action(async (opts: { config?: string; database?: string; dataDir?: string }) => {
      const config = loadConfig(opts.config, { dataDir: opts.dataDir, database: opts.database });
      let schema: Schema;
      if (config.database !== undefined) schema = await migratePostgres(config.database);
      else {
        requireDataDir(config.dataDir, opts.dataDir !== undefined || opts.config !== undefined);
        schema = migrateDataDir(config.dataDir);
      }
      console.log(`schema at version ${schema.to} (was ${schema.from})`);
    });
}
