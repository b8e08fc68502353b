/**
 * startPostgres runs a real PostgreSQL server (Debian's `postgresql`, version 15) for one test file:
 * initdb makes a cluster in a temporary directory and pg_ctl starts it listening only on a unix
 * socket in that directory (no TCP port to collide with another test), with trust authentication
 * for the role `fleetdeploy` and fsync off (a test's data need not survive a power loss).
 *
 * PostgreSQL refuses to run as root. Under root (CI, this machine) the cluster belongs to the
 * `postgres` user the Debian package creates, or `nobody` where there is none, and the binaries run
 * through `runuser`. Suites using it go under `describeWithTools(['postgres'], ...)`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

/** PG_BIN is where Debian 12 installs PostgreSQL 15's server programs. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';
const ROLE = 'fleetdeploy';

/** PostgresServer is a running test server. */
export interface PostgresServer {
  /** url is a connection string to its `postgres` database, over the unix socket. */
  url: string;
  /** socketDir is the directory holding the server's socket. */
  socketDir: string;
  /** freshDatabase creates an empty database and returns its connection string. */
  freshDatabase(): Promise<string>;
  /** shutDown stops the server (immediate shutdown, as a crash would) and keeps its files, for startAgain. */
  shutDown(): Promise<void>;
  /** startAgain starts the server shut down by shutDown, at the same socket, with the same databases. */
  startAgain(): Promise<void>;
  /** stop ends the server (immediate shutdown) and removes its directory. */
  stop(): Promise<void>;
}

/** osUser picks the user the server runs as: ourselves unless we are root. */
function osUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return 'postgres';
  } catch {
    return 'nobody';
  }
}

function run(user: string | undefined, program: string, args: string[]): void {
  const [file, argv] = user === undefined ? [path.join(PG_BIN, program), args] : ['runuser', ['-u', user, '--', path.join(PG_BIN, program), ...args]];
  try {
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(`${program} failed: ${e.message}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
  }
}

/** connectionUrl is the URL of `database` on the server whose socket is in `socketDir`. */
export function connectionUrl(socketDir: string, database: string): string {
  return `postgres://${ROLE}@localhost/${database}?host=${encodeURIComponent(socketDir)}`;
}

/** startPostgres initialises and starts a server; call stop() in afterAll. */
export async function startPostgres(): Promise<PostgresServer> {
  const user = osUser();
  // The socket path must stay under the 107-byte limit of sun_path, and under root the server's user
  // must reach the directory (a TMPDIR inside /root would not do): a short directory under /tmp.
  const dir = fs.mkdtempSync(path.join(user === undefined ? os.tmpdir() : '/tmp', 'fd-pg-'));
  if (user !== undefined) execFileSync('chown', [user, dir]);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  let started = false;
  // listen_addresses empty: the unix socket only. fsync off and a small shared_buffers keep it light.
  const start = () => run(user, 'pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', `-k ${dir} -c listen_addresses= -F -c shared_buffers=16MB -c max_connections=50`, 'start']);
  try {
    run(user, 'initdb', ['-D', data, '-U', ROLE, '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    start();
    started = true;
  } catch (err) {
    const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}${text}`);
  }
  const url = connectionUrl(dir, 'postgres');
  return {
    url,
    socketDir: dir,
    freshDatabase: async () => {
      const name = `t_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return connectionUrl(dir, name);
    },
    shutDown: async () => {
      if (started) run(user, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      started = false;
    },
    startAgain: async () => {
      if (started) return;
      start();
      started = true;
    },
    stop: async () => {
      if (started) run(user, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * usePostgres gives the enclosing suite a server, started before its tests and stopped after them
 * (its stop is the suite's first after-hook, so it runs after those the suite adds later); the
 * accessor returns it from inside a test or hook.
 */
export function usePostgres(): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('the PostgreSQL server is not started: use it inside a test or hook of the suite that called usePostgres');
    return server;
  };
}

