// Several coordinator replicas on one throwaway PostgreSQL database, for `bench:fleet --replicas N`:
// each replica is a `fleetdeploy-coordinator serve --database URL` child with its own data
// directory, all sharing one blob directory. The first replica starts alone (it makes the CA and the
// first admin key, which the benchmark's clients read from its data directory), then the others.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { onCleanup, procCpuSeconds, startCoordinator, tempDir } from './fleet-bench.mjs';
import { startPostgres } from './local-postgres.mjs';

/**
 * startReplicaSet starts PostgreSQL and `count` replicas; resolves with them, the agents' address
 * list (comma-separated, as agent.yml's `coordinator:` takes it) and a reader of the database's
 * committed transactions.
 */
export async function startReplicaSet({ count, nodeArgs = [], statements = false }) {
  // Each replica holds a pool of connections plus its wake-up listener; room for all and psql.
  const settings = { synchronous_commit: 'off', max_pred_locks_per_transaction: 4096, ...(statements ? { shared_preload_libraries: 'pg_stat_statements' } : {}) };
  const server = await startPostgres({ maxConnections: 40 * count + 20, sharedBuffers: '256MB', settings });
  onCleanup(() => {
    // stop() is async only in its signature: pg_ctl runs synchronously.
    void server.stop();
  });
  const url = await server.freshDatabase();
  if (statements) await withClient(url, (c) => c.query('CREATE EXTENSION pg_stat_statements'));
  const work = tempDir('fd-bench-replicas-');
  const blobDir = path.join(work, 'blobs');
  const args = ['--database', url, '--blob-dir', blobDir];
  const first = await startCoordinator({ dataDir: path.join(work, 'replica-1'), args, nodeArgs });
  const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => startCoordinator({ dataDir: path.join(work, `replica-${i + 2}`), args, nodeArgs })));
  const replicas = [first, ...rest];
  return {
    url,
    replicas,
    agentAddresses: replicas.map((r) => r.agentAddress).join(','),
    /** transactions is the database's committed plus rolled-back transactions so far (pg_stat_database). */
    async transactions() {
      const { rows } = await withClient(url, (c) => c.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()'));
      return Number(rows[0].n);
    },
    /** topStatements (with `statements`): the `n` statements the server spent the most time in (or, by 'calls', ran the most), with their calls. */
    async topStatements(n, by = 'total_exec_time') {
      const order = by === 'calls' ? 'calls' : 'total_exec_time';
      const { rows } = await withClient(url, (c) => c.query(`SELECT calls, round(total_exec_time)::int AS ms, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q FROM pg_stat_statements ORDER BY ${order} DESC LIMIT $1`, [n]));
      return rows;
    },
    /** serverCpuSeconds is the CPU time of the PostgreSQL server's live processes (its postmaster's and the children's). */
    serverCpuSeconds() {
      const postmaster = Number(fs.readFileSync(path.join(server.socketDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      let children = [];
      try {
        children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).split('\n').filter((l) => l !== '').map(Number);
      } catch {
        /* pgrep exits 1 when there are none */
      }
      return [postmaster, ...children].reduce((a, pid) => a + procCpuSeconds(pid), 0);
    },
  };
}

async function withClient(url, use) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
