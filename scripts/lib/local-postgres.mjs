// A throwaway PostgreSQL server (Debian's `postgresql`, version 15) for tests and benchmarks: initdb
// makes a cluster in a temporary directory and pg_ctl starts it listening only on a unix socket in
// that directory (no TCP port to collide with anything), with trust authentication for the role
// `fleetdeploy` and fsync off (its data need not survive a power loss).
//
// PostgreSQL refuses to run as root. Under root (CI, this machine) the cluster belongs to the
// `postgres` user the Debian package creates, or `nobody` where there is none, and the binaries run
// through `runuser`. Types: local-postgres.d.mts.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** PG_BIN is where Debian 12 installs PostgreSQL 15's server programs. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';
const ROLE = 'fleetdeploy';

/** osUser picks the user the server runs as: ourselves unless we are root. */
function osUser() {
  if (process.getuid?.() !== 0) return undefined;
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    return 'postgres';
  } catch {
    return 'nobody';
  }
}

function run(user, program, args) {
  const [file, argv] = user === undefined ? [path.join(PG_BIN, program), args] : ['runuser', ['-u', user, '--', path.join(PG_BIN, program), ...args]];
  try {
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (err) {
    throw new Error(`${program} failed: ${err.message}\n${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`);
  }
}

/** connectionUrl is the URL of `database` on the server whose socket is in `socketDir`. */
export function connectionUrl(socketDir, database) {
  return `postgres://${ROLE}@localhost/${database}?host=${encodeURIComponent(socketDir)}`;
}

/** startPostgres initialises and starts a server; `settings` adds `-c name=value` server settings. */
export async function startPostgres({ maxConnections = 50, sharedBuffers = '16MB', settings = {} } = {}) {
  const user = osUser();
  // The socket path must stay under the 107-byte limit of sun_path, and under root the server's user
  // must reach the directory (a TMPDIR inside /root would not do): a short directory under /tmp.
  const dir = fs.mkdtempSync(path.join(user === undefined ? os.tmpdir() : '/tmp', 'fd-pg-'));
  if (user !== undefined) execFileSync('chown', [user, dir]);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'server.log');
  let started = false;
  const extra = Object.entries(settings).map(([k, v]) => ` -c ${k}=${v}`).join('');
  // listen_addresses empty: the unix socket only. fsync off and small shared_buffers keep it light.
  const options = `-k ${dir} -c listen_addresses= -F -c shared_buffers=${sharedBuffers} -c max_connections=${maxConnections}${extra}`;
  const start = () => run(user, 'pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', options, 'start']);
  try {
    run(user, 'initdb', ['-D', data, '-U', ROLE, '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
    start();
    started = true;
  } catch (err) {
    const text = fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '';
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${err.message}${text}`);
  }
  const url = connectionUrl(dir, 'postgres');
  const stopNow = () => run(user, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  return {
    url,
    socketDir: dir,
    async freshDatabase() {
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
    async shutDown() {
      if (started) stopNow();
      started = false;
    },
    async startAgain() {
      if (started) return;
      start();
      started = true;
    },
    async stop() {
      if (started) stopNow();
      started = false;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
