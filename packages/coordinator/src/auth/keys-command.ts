/**
 * `fleetdeploy-coordinator keys create|list|revoke`: manages the access keys in a data directory's
 * database, whether or not the daemon is running (SQLite WAL lets both write; the daemon reads keys
 * per request, so a new or revoked key counts at once).
 *
 *   keys create --role deployer      prints the new key as a credentials-file profile, once
 *   keys list [--json]               ids, roles, when made and revoked; never secrets
 *   keys revoke AKIA…                the key stops working at once
 *
 * With `--database` (or `database:` in the configuration) they manage the keys of the PostgreSQL
 * database the replicas share instead: every replica reads keys per request too.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig } from '../config.js';
import { DATABASE_FILE, openSqliteStore } from '../store/sqlite-store.js';
import { requireDataDir } from '../data-dir.js';
import { corruptDatabase, isDatabaseCorruption } from '../store/database-file.js';
import { createAccessKeyStore, restrictDataDir } from './access-keys.js';
import type { AsyncAccessKeyStore } from '../store/pg/pg-side-stores.js';
import { pgAccessKeyStore } from '../store/pg/pg-side-stores.js';
import { promised } from '../store/promised.js';
import { connectPg } from '../storage/pg-storage.js';
import { formatCredentialsFile } from './admin-credentials.js';
import { isRole, ROLE_NAMES } from './roles.js';

interface DataDirOptions {
  config?: string;
  dataDir?: string;
  database?: string;
}

/** keysCommand builds the `keys` command and its subcommands; `now` gives ms since the epoch. */
export function keysCommand(now: () => number = systemClock.now): Command {
  const keys = new Command('keys').description('manage the access keys that sign API and bucket requests');
  const dataDirOptions = (c: Command): Command =>
    c
      .option('-c, --config <file>', 'the coordinator\'s YAML configuration file (for data_dir or database)')
      .option('--data-dir <dir>', 'the coordinator\'s data directory, made by serve (default: ./fleetdeploy-data)')
      .option('--database <url>', 'the PostgreSQL database the replicas share (postgres://user@host/database), instead of a data directory');

  dataDirOptions(keys.command('create').description('make a key and print its id and secret (shown only this once)'))
    .addOption(new Option('--role <role>', 'what the key may do').choices(ROLE_NAMES).makeOptionMandatory())
    .action(async (opts: DataDirOptions & { role: string }) => {
      if (!isRole(opts.role)) throw new ConfigError(`--role must be one of ${ROLE_NAMES.join(', ')}`);
      const role = opts.role;
      await withKeys(opts, async (store) => {
        const key = await store.create(role, now());
        process.stdout.write(
          `# fleetdeploy access key, role ${key.role}, made ${new Date(key.createdAt).toISOString()}; the secret is not shown again\n` +
            formatCredentialsFile({ accessKeyId: key.id, secretAccessKey: key.secret }),
        );
      });
    });

  dataDirOptions(keys.command('list').description('list the keys: id, role, when made and revoked (never secrets)'))
    .option('--json', 'print a JSON array')
    .action(async (opts: DataDirOptions & { json?: boolean }) => {
      await withKeys(opts, async (store) => {
        const all = await store.list();
        if (opts.json === true) {
          process.stdout.write(JSON.stringify(all.map((k) => ({ ...k, createdAt: iso(k.createdAt), revokedAt: k.revokedAt === undefined ? undefined : iso(k.revokedAt) }))) + '\n');
          return;
        }
        const rows = [['ID', 'ROLE', 'CREATED', 'REVOKED'], ...all.map((k) => [k.id, k.role, iso(k.createdAt), k.revokedAt === undefined ? '-' : iso(k.revokedAt)])];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows) process.stdout.write(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
      });
    });

  dataDirOptions(keys.command('revoke').description('revoke a key: requests it signs are refused from now on').argument('<key-id>', 'the access key id (AKIA…)'))
    .action(async (keyId: string, opts: DataDirOptions) => {
      await withKeys(opts, async (store, where) => {
        const key = await store.get(keyId);
        if (key === undefined) throw new ConfigError(`there is no access key ${keyId} in ${where} (see keys list)`);
        if (key.revokedAt !== undefined) {
          process.stdout.write(`${keyId} was revoked already, at ${iso(key.revokedAt)}\n`);
          return;
        }
        await store.revoke(keyId, now());
        process.stdout.write(`revoked ${keyId} (role ${key.role})\n`);
      });
    });
  return keys;
}

/** withKeys opens the database's keys (the data directory's, which serve made, or the shared PostgreSQL one) for one command. */
async function withKeys(opts: DataDirOptions, fn: (store: AsyncAccessKeyStore, where: string) => Promise<void>): Promise<void> {
  const config = loadConfig(opts.config, { dataDir: opts.dataDir, database: opts.database });
  if (config.database !== undefined) {
    const pg = await connectPg(config.database, 1);
    try {
      await fn(pgAccessKeyStore(pg), 'this database');
    } finally {
      await pg.close();
    }
    return;
  }
  const dataDir = config.dataDir;
  requireDataDir(dataDir, opts.dataDir !== undefined || opts.config !== undefined);
  let store: ReturnType<typeof openSqliteStore>;
  try {
    store = openSqliteStore(dataDir);
  } catch (err) {
    if (err instanceof ConfigError) throw err; // an empty or damaged file: its own line says what to do
    throw new ConfigError(`cannot open the database in ${dataDir}: ${(err as Error).message}`);
  }
  try {
    restrictDataDir(dataDir, DATABASE_FILE);
    await fn(promised(createAccessKeyStore(store.db)), 'this data directory');
  } catch (err) {
    // A damaged page the open did not read (it reads the schema only) fails the keys' own query.
    throw isDatabaseCorruption(err) ? corruptDatabase(path.join(dataDir, DATABASE_FILE), dataDir, (err as Error).message) : err;
  } finally {
    store.close();
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
