/**
 * The PostgreSQL store, for several coordinators sharing one database: an {@link AsyncStore} over a
 * `pg` connection pool, with the same tables as SQLite (pg-migrations.ts) and the same records,
 * JSON documents beside the columns they are found by.
 *
 * Transactions run at SERIALIZABLE on one pooled connection. When PostgreSQL refuses one for a
 * concurrent transaction (serialization failure 40001, deadlock 40P01) it is rolled back and its
 * body runs again from the start, a bounded number of times, so two replicas deciding on the same
 * rows each see the other's committed effect instead of overwriting it. A call outside a
 * transaction is one statement (autocommit), atomic on its own; the two that write several rows
 * (deleteApplication, putResourceTags) open their own transaction.
 *
 * changeCount on PostgreSQL: how many rows this PgStore's own committed writes inserted, changed or
 * deleted, counted from each statement's row count (a transaction's count is added when it commits,
 * never for one rolled back). Other replicas' writes do not count: the one caller (the engine) asks
 * whether *its* step stored something.
 */
import pg from 'pg';
import type { AsyncStore } from '../async-store.js';
import { TransactionEndedError, TransactionScope } from '../async-store.js';
import type { DeploymentQuery } from '../store.js';
import type { DeploymentRecord, InstanceRecord, PendingReportRecord, TargetRecord } from '../records.js';
import type { Tag } from '../../fleet/tag-match.js';
import { deploymentFromDoc, deploymentToDoc } from '../deployment-doc.js';
import { pgMigrate } from './pg-migrate.js';
import { pgMigrations } from './pg-migrations.js';
import { isRetryable } from '../retryable.js';

/**
 * PgQuery runs one SQL statement: on the pool, or on a transaction's connection. The side stores
 * (pg-side-stores.ts) take one, so that their writes join the transaction they are made in.
 */
export interface PgQuery {
  query(text: string, values?: unknown[]): Promise<pg.QueryResult>;
}

/** PgTransaction is a PgStore transaction's handle: the store's calls, and raw statements, on its connection. */
export interface PgTransaction extends AsyncStore, PgQuery {
  /** transaction opens a savepoint; its body gets this same handle, raw statements included. */
  transaction<T>(fn: (tx: PgTransaction) => Promise<T>): Promise<T>;
}

/** PgStore is the store of coordinators sharing one PostgreSQL database. */
export interface PgStore extends AsyncStore, PgQuery {
  readonly pool: pg.Pool;
  transaction<T>(fn: (tx: PgTransaction) => Promise<T>): Promise<T>;
}

/** PgOpenOptions: the pool's size (default 10 connections), and how long a connection may take to open (default: no limit). */
export interface PgOpenOptions {
  poolSize?: number;
  connectTimeoutMs?: number;
  /** observeTransaction hears how each transaction went, once it ended (for /metrics); a savepoint is part of its transaction. */
  observeTransaction?: (timing: PgTransactionTiming) => void;
}

/**
 * PgTransactionTiming is one transaction as this process saw it: `seconds` from asking for it to its
 * commit or its final failure, the wait for a pooled connection and every run included; `runs` is
 * how many times its body ran (more than 1: refused for a concurrent transaction and run again).
 */
export interface PgTransactionTiming {
  seconds: number;
  runs: number;
  committed: boolean;
}

/**
 * RETRY_BUDGET_MS bounds how long a transaction refused for a concurrent one keeps running again.
 * A count of 20 was spent in under a second by 150 registrations at once through three replicas,
 * and by a deployment's start (1,000 targets) beside other deployments' reports: the start then
 * failed for good and the deployment stayed Created. Time, not attempts, is what to bound.
 */
export const RETRY_BUDGET_MS = 30_000;
/** TARGET_ROWS_PER_INSERT is how many targets one INSERT of addTargets carries. */
const TARGET_ROWS_PER_INSERT = 250;

export { isRetryable };

type Exec = (name: string, text: string, values?: unknown[]) => Promise<pg.QueryResult>;
type Doc = { doc: string };

const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE']);
const written = (r: pg.QueryResult): number => (WRITES.has(r.command) ? (r.rowCount ?? 0) : 0);
const one = <T>(r: pg.QueryResult): T | undefined => (r.rows.length === 0 ? undefined : (JSON.parse((r.rows[0] as Doc).doc) as T));
const all = <T>(r: pg.QueryResult): T[] => r.rows.map((row) => JSON.parse((row as Doc).doc) as T);
const oneDeployment = (r: pg.QueryResult): DeploymentRecord | undefined => (r.rows.length === 0 ? undefined : deploymentFromDoc((r.rows[0] as Doc).doc));
const allDeployments = (r: pg.QueryResult): DeploymentRecord[] => r.rows.map((row) => deploymentFromDoc((row as Doc).doc));

/** sleep waits a little, more after each refused attempt, with jitter so racing replicas part ways. */
const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(250, 2 ** attempt)));

/**
 * storeMethods are the Store's calls over `exec` (the pool outside a transaction, the transaction's
 * connection inside), with `atomically` for the calls that write several rows: it runs its body in a
 * transaction (or a savepoint of the open one) and hands it that transaction's `exec`.
 */
function storeMethods(exec: Exec, atomically: <T>(fn: (exec: Exec) => Promise<T>) => Promise<T>): Omit<AsyncStore, 'transaction' | 'changeCount' | 'close'> {
  const json = JSON.stringify;
  return {
    putApplication: async (a) => void (await exec('putApp', 'INSERT INTO applications (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [a.applicationName, json(a)])),
    getApplication: async (name) => one(await exec('getApp', 'SELECT doc FROM applications WHERE name = $1', [name])),
    listApplications: async () => all(await exec('listApps', 'SELECT doc FROM applications ORDER BY name')),
    deleteApplication: (name) =>
      atomically(async (exec) => {
        await exec('delAppGroups', 'DELETE FROM deployment_groups WHERE application = $1', [name]);
        await exec('delAppRevisions', 'DELETE FROM revisions WHERE application = $1', [name]);
        await exec('delApp', 'DELETE FROM applications WHERE name = $1', [name]);
      }),

    // instance_tags (migration 11) mirrors the tags of registered instances, for the lookups by tag.
    putInstance: (i) =>
      atomically(async (exec) => {
        await exec('putInstance', 'INSERT INTO instances (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [i.instanceName, json(i)]);
        await exec('delInstanceTags', 'DELETE FROM instance_tags WHERE instance = $1', [i.instanceName]);
        if (i.deregisterTime !== undefined || i.tags.length === 0) return;
        await exec(
          'putInstanceTags',
          'INSERT INTO instance_tags (instance, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v) ON CONFLICT DO NOTHING',
          [i.instanceName, i.tags.map((t) => t.Key), i.tags.map((t) => t.Value)],
        );
      }),
    // One statement, no read first: over a deregistered record only (the WHERE of DO UPDATE), and
    // refused by migration 20's unique indexes when an ARN is another registered instance's. A
    // concurrent registration of the same name or ARN waits for this one and then sees it.
    // In a savepoint of its own inside a transaction, so a refusal leaves the transaction usable.
    registerInstance: async (i) => {
      try {
        return await atomically(async (exec) => {
          const { rows } = await exec(
            'registerInstance',
            `INSERT INTO instances (name, doc) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET doc = excluded.doc WHERE (instances.doc::jsonb)->>'deregisterTime' IS NOT NULL
             RETURNING (xmax = 0) AS inserted`,
            [i.instanceName, json(i)],
          );
          if (rows.length === 0) return 'nameTaken' as const;
          // A deregistered record's tags left with it (putInstance); a new one has none.
          if ((rows[0] as { inserted: boolean }).inserted === false) await exec('delInstanceTags', 'DELETE FROM instance_tags WHERE instance = $1', [i.instanceName]);
          return 'registered' as const;
        });
      } catch (err) {
        const constraint = (err as { code?: string; constraint?: string }).code === '23505' ? (err as { constraint?: string }).constraint : undefined;
        if (constraint === 'registered_instances_unique_user_arn') return 'iamUserArnTaken';
        if (constraint === 'registered_instances_unique_session_arn') return 'iamSessionArnTaken';
        throw err;
      }
    },
    getInstance: async (name) => one(await exec('getInstance', 'SELECT doc FROM instances WHERE name = $1', [name])),
    listInstances: async () => all(await exec('listInstances', 'SELECT doc FROM instances ORDER BY name')),
    instancesTagged: async (filters) => {
      const found = new Map<string, InstanceRecord>();
      for (const f of filters) {
        const r =
          f.Type === 'KEY_AND_VALUE'
            ? await exec('taggedKeyValue', 'SELECT i.doc FROM instance_tags t JOIN instances i ON i.name = t.instance WHERE t.key = $1 AND t.value = $2', [f.Key, f.Value])
            : f.Type === 'KEY_ONLY'
              ? await exec('taggedKey', 'SELECT i.doc FROM instance_tags t JOIN instances i ON i.name = t.instance WHERE t.key = $1', [f.Key])
              : await exec('taggedValue', 'SELECT i.doc FROM instance_tags t JOIN instances i ON i.name = t.instance WHERE t.value = $1', [f.Value]);
        // instance_tags holds registered instances only; the doc is checked too, as the record of truth.
        for (const i of all<InstanceRecord>(r)) if (i.deregisterTime === undefined && !found.has(i.instanceName)) found.set(i.instanceName, i);
      }
      return [...found.values()].sort((a, b) => (a.instanceName < b.instanceName ? -1 : a.instanceName > b.instanceName ? 1 : 0));
    },
    // The WHERE repeats the partial indexes' condition (migration 11) so that PostgreSQL uses them.
    registeredInstanceWithArn: async (kind, arn) =>
      (
        await exec(
          kind === 'iamUserArn' ? 'instanceByUserArn' : 'instanceBySessionArn',
          `SELECT name FROM instances WHERE (doc::jsonb)->>'${kind}' = $1 AND (doc::jsonb)->>'deregisterTime' IS NULL LIMIT 1`,
          [arn],
        )
      ).rows[0]?.name as string | undefined,

    putGroup: async (g) =>
      void (await exec(
        'putGroup',
        'INSERT INTO deployment_groups (application, name, id, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET application = excluded.application, name = excluded.name, doc = excluded.doc',
        [g.applicationName, g.deploymentGroupName, g.deploymentGroupId, json(g)],
      )),
    getGroup: async (app, name) => one(await exec('getGroup', 'SELECT doc FROM deployment_groups WHERE application = $1 AND name = $2', [app, name])),
    getGroupById: async (id) => one(await exec('getGroupById', 'SELECT doc FROM deployment_groups WHERE id = $1', [id])),
    listGroups: async (app) =>
      all(
        app === undefined
          ? await exec('listGroups', 'SELECT doc FROM deployment_groups ORDER BY application, name')
          : await exec('listAppGroups', 'SELECT doc FROM deployment_groups WHERE application = $1 ORDER BY name', [app]),
      ),
    deleteGroup: async (app, name) => void (await exec('delGroup', 'DELETE FROM deployment_groups WHERE application = $1 AND name = $2', [app, name])),

    putConfig: async (c) => void (await exec('putConfig', 'INSERT INTO deployment_configs (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [c.deploymentConfigName, json(c)])),
    getConfig: async (name) => one(await exec('getConfig', 'SELECT doc FROM deployment_configs WHERE name = $1', [name])),
    listConfigs: async () => all(await exec('listConfigs', 'SELECT doc FROM deployment_configs ORDER BY name')),
    deleteConfig: async (name) => void (await exec('delConfig', 'DELETE FROM deployment_configs WHERE name = $1', [name])),

    putRevision: async (r) =>
      void (await exec(
        'putRevision',
        'INSERT INTO revisions (application, revision_key, register_time, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (application, revision_key) DO UPDATE SET doc = excluded.doc',
        [r.applicationName, r.revisionKey, r.registerTime, json(r)],
      )),
    getRevision: async (app, key) => one(await exec('getRevision', 'SELECT doc FROM revisions WHERE application = $1 AND revision_key = $2', [app, key])),
    listRevisions: async (app) => all(await exec('listRevisions', 'SELECT doc FROM revisions WHERE application = $1 ORDER BY register_time, revision_key', [app])),

    putDeployment: async (d: DeploymentRecord) =>
      void (await exec(
        'putDeployment',
        `INSERT INTO deployments (id, application, group_name, status, create_time, doc) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, doc = excluded.doc`,
        [d.deploymentId, d.applicationName, d.deploymentGroupName, d.status, d.createTime, deploymentToDoc(d)],
      )),
    getDeployment: async (id) => oneDeployment(await exec('getDeployment', 'SELECT doc FROM deployments WHERE id = $1', [id])),
    // A missing filter matches all, as in the SQLite store.
    listDeploymentIds: async (q: DeploymentQuery) =>
      (
        await exec(
          'listDeploymentIds',
          `SELECT id FROM deployments
           WHERE ($1::text IS NULL OR application = $1) AND ($2::text IS NULL OR group_name = $2)
             AND ($3::text[] IS NULL OR cardinality($3::text[]) = 0 OR status = ANY($3::text[]))
             AND ($4::bigint IS NULL OR create_time >= $4) AND ($5::bigint IS NULL OR create_time <= $5)
           ORDER BY seq DESC`,
          [q.applicationName ?? null, q.deploymentGroupName ?? null, q.statuses === undefined ? null : [...q.statuses], q.createdAfter ?? null, q.createdBefore ?? null],
        )
      ).rows.map((r: { id: string }) => r.id),
    activeDeployments: async () => allDeployments(await exec('activeDeployments', "SELECT doc FROM deployments WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped') ORDER BY seq")),
    activeDeploymentOfGroup: async (groupId) =>
      oneDeployment(await exec('activeOfGroup', "SELECT doc FROM deployments WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped') AND (doc::jsonb)->>'deploymentGroupId' = $1 ORDER BY seq LIMIT 1", [groupId])),
    activeGroupIds: async () =>
      new Set((await exec('activeGroupIds', "SELECT DISTINCT (doc::jsonb)->>'deploymentGroupId' AS id FROM deployments WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped')")).rows.map((r: { id: string }) => r.id)),

    // A new target takes the next number of the sequence; an update keeps its number (and so its place).
    putTarget: async (t: TargetRecord) =>
      void (await exec('putTarget', 'INSERT INTO deployment_targets (deployment_id, target_id, doc, status) VALUES ($1, $2, $3, $4) ON CONFLICT (deployment_id, target_id) DO UPDATE SET doc = excluded.doc, status = excluded.status', [t.deploymentId, t.targetId, json(t), t.status])),
    // Targets new to their deployment, numbered in the order given (the sequence's order), in statements of 250.
    addTargets: (targets) =>
      atomically(async (exec) => {
        for (let i = 0; i < targets.length; i += TARGET_ROWS_PER_INSERT) {
          const rows = targets.slice(i, i + TARGET_ROWS_PER_INSERT);
          await exec(
            'addTargets',
            'INSERT INTO deployment_targets (deployment_id, target_id, doc, status) SELECT d, t, doc, st FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(d, t, doc, st, n) ORDER BY n',
            [rows.map((t) => t.deploymentId), rows.map((t) => t.targetId), rows.map((t) => json(t)), rows.map((t) => t.status)],
          );
        }
      }),
    // Several as putTarget each: new ones numbered in the order given, existing ones keeping their place.
    putTargets: async (targets) => {
      for (let i = 0; i < targets.length; i += TARGET_ROWS_PER_INSERT) {
        const rows = targets.slice(i, i + TARGET_ROWS_PER_INSERT);
        await exec(
          'putTargets',
          `INSERT INTO deployment_targets (deployment_id, target_id, doc, status) SELECT d, t, doc, st FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS r(d, t, doc, st, n) ORDER BY n
           ON CONFLICT (deployment_id, target_id) DO UPDATE SET doc = excluded.doc, status = excluded.status`,
          [rows.map((t) => t.deploymentId), rows.map((t) => t.targetId), rows.map((t) => json(t)), rows.map((t) => t.status)],
        );
      }
    },
    getTargetsOf: async (dep, ids) => (ids.length === 0 ? [] : all(await exec('getTargetsOf', 'SELECT doc FROM deployment_targets WHERE deployment_id = $1 AND target_id = ANY($2::text[])', [dep, [...ids]]))),
    getTarget: async (dep, target) => one(await exec('getTarget', 'SELECT doc FROM deployment_targets WHERE deployment_id = $1 AND target_id = $2', [dep, target])),
    listTargets: async (dep) => all(await exec('listTargets', 'SELECT doc FROM deployment_targets WHERE deployment_id = $1 ORDER BY seq', [dep])),
    countTargets: async (dep) => {
      const { rows } = await exec('countTargets', 'SELECT status, COUNT(*)::int AS n FROM deployment_targets WHERE deployment_id = $1 GROUP BY status', [dep]);
      return Object.fromEntries((rows as { status: string; n: number }[]).map((r) => [r.status, r.n]));
    },
    targetIdsWithStatus: async (dep, statuses) => {
      const { rows } = await exec('targetIdsWithStatus', 'SELECT target_id FROM deployment_targets WHERE deployment_id = $1 AND status = ANY($2::text[])', [dep, [...statuses]]);
      return (rows as { target_id: string }[]).map((r) => r.target_id);
    },
    targetIdsAwaitingAgent: async (dep) => {
      const { rows } = await exec(
        'targetIdsAwaitingAgent',
        // A probe of agent_sessions' key per target, not a join: the planner would hash the whole
        // sessions table (every agent's, its rows rewritten by each heartbeat) for each poll.
        `SELECT t.target_id FROM deployment_targets t
         WHERE t.deployment_id = $1 AND t.status IN ('Pending', 'InProgress')
           AND (SELECT s.disconnected_at IS NULL FROM agent_sessions s WHERE s.instance_name = t.target_id) IS NOT TRUE`,
        [dep],
      );
      return (rows as { target_id: string }[]).map((r) => r.target_id);
    },
    lastTargetOf: async (instance) => one(await exec('lastTargetOf', 'SELECT doc FROM deployment_targets WHERE target_id = $1 ORDER BY seq DESC LIMIT 1', [instance])),

    putCommand: async (c) =>
      void (await exec('putCommand', 'INSERT INTO commands (id, instance, open, doc) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET open = excluded.open, doc = excluded.doc', [c.commandId, c.instanceName, c.state === 'done' ? 0 : 1, json(c)])),
    // Several at once, numbered in the order given (a new one's seq is its creation order).
    putCommands: async (commands) => {
      if (commands.length === 0) return;
      await exec(
        'putCommands',
        `INSERT INTO commands (id, instance, open, doc) SELECT id, instance, open, doc FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) WITH ORDINALITY AS r(id, instance, open, doc, n) ORDER BY n
         ON CONFLICT (id) DO UPDATE SET open = excluded.open, doc = excluded.doc`,
        [commands.map((c) => c.commandId), commands.map((c) => c.instanceName), commands.map((c) => (c.state === 'done' ? 0 : 1)), commands.map((c) => json(c))],
      );
    },
    getCommand: async (id) => one(await exec('getCommand', 'SELECT doc FROM commands WHERE id = $1', [id])),
    getCommands: async (ids) => (ids.length === 0 ? [] : all(await exec('getCommands', 'SELECT doc FROM commands WHERE id = ANY($1::text[])', [[...ids]]))),
    openCommandsOf: async (names) => (names.length === 0 ? [] : all(await exec('openCommandsOf', 'SELECT doc FROM commands WHERE open = 1 AND instance = ANY($1::text[]) ORDER BY seq', [[...names]]))),
    openCommands: async (instance) =>
      all(
        instance === undefined
          ? await exec('openCommands', 'SELECT doc FROM commands WHERE open = 1 ORDER BY seq')
          : await exec('openCommandsFor', 'SELECT doc FROM commands WHERE open = 1 AND instance = $1 ORDER BY seq', [instance]),
      ),

    addPendingReports: async (reports) => {
      if (reports.length === 0) return;
      await exec(
        'addPendingReports',
        'INSERT INTO pending_reports (deployment_id, instance, command_id, received_at, doc) SELECT d, i, c, at, doc FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[]) WITH ORDINALITY AS r(d, i, c, at, doc, n) ORDER BY n',
        [reports.map((r) => r.deploymentId), reports.map((r) => r.instanceName), reports.map((r) => r.commandId), reports.map((r) => r.receivedAt), reports.map((r) => json(r))],
      );
    },
    pendingReports: async (deploymentId) =>
      (deploymentId === undefined
        ? await exec('pendingReports', 'SELECT seq, doc FROM pending_reports ORDER BY seq')
        : await exec('pendingReportsOf', 'SELECT seq, doc FROM pending_reports WHERE deployment_id = $1 ORDER BY seq', [deploymentId])
      ).rows.map((r: { seq: string; doc: string }): PendingReportRecord => ({ ...(JSON.parse(r.doc) as Omit<PendingReportRecord, 'seq'>), seq: Number(r.seq) })),
    deletePendingReport: async (deploymentId, seq) => void (await exec('deletePendingReport', 'DELETE FROM pending_reports WHERE deployment_id = $1 AND seq = $2', [deploymentId, seq])),
    deletePendingReports: async (keys) => {
      if (keys.length === 0) return;
      await exec('deletePendingReports', 'DELETE FROM pending_reports p USING unnest($1::text[], $2::bigint[]) AS k(d, s) WHERE p.deployment_id = k.d AND p.seq = k.s', [keys.map((k) => k.deploymentId), keys.map((k) => k.seq)]);
    },

    putHealth: async (h) => void (await exec('putHealth', 'INSERT INTO instance_health (group_id, instance, doc) VALUES ($1, $2, $3) ON CONFLICT (group_id, instance) DO UPDATE SET doc = excluded.doc', [h.deploymentGroupId, h.instanceName, json(h)])),
    getHealth: async (group, instance) => one(await exec('getHealth', 'SELECT doc FROM instance_health WHERE group_id = $1 AND instance = $2', [group, instance])),
    listHealth: async (group) => all(await exec('listHealth', 'SELECT doc FROM instance_health WHERE group_id = $1 ORDER BY instance', [group])),

    getResourceTags: async (id) => (await exec('getTags', 'SELECT key, value FROM resource_tags WHERE resource_id = $1 ORDER BY position', [id])).rows.map((r: { key: string; value: string }): Tag => ({ Key: r.key, Value: r.value })),
    putResourceTags: (id, tags) =>
      atomically(async (exec) => {
        await exec('delTags', 'DELETE FROM resource_tags WHERE resource_id = $1', [id]);
        for (const [i, t] of tags.entries()) await exec('putTag', 'INSERT INTO resource_tags (resource_id, key, value, position) VALUES ($1, $2, $3, $4)', [id, t.Key, t.Value, i]);
      }),
  };
}

/** guardEach makes every method first call `admit` with its name, which throws to refuse the call. */
function guardEach<M extends object>(methods: M, admit: (name: string) => void): M {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods) as Array<[string, (...args: unknown[]) => Promise<unknown>]>) {
    out[name] = async (...args: unknown[]) => {
      admit(name);
      return method(...args);
    };
  }
  return out as M;
}

/**
 * openPgStore connects to `url`, migrates the database (under the migration lock, see
 * pg-migrate.ts) and returns the store. A database it cannot reach or migrate is an error naming it.
 */
export async function openPgStore(url: string, options: PgOpenOptions = {}): Promise<PgStore> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, ...(options.connectTimeoutMs === undefined ? {} : { connectionTimeoutMillis: options.connectTimeoutMs }) });
  // An idle connection the server dropped emits 'error' on the pool; without a listener that would
  // end the process. The next query takes a fresh connection and reports any real problem itself.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    try {
      await pgMigrate(client, pgMigrations);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end();
    throw err;
  }
  return pgStoreOver(pool, options.observeTransaction);
}

function pgStoreOver(pool: pg.Pool, observe: PgOpenOptions['observeTransaction']): PgStore {
  const scope = new TransactionScope();
  let changes = 0;

  const transactionWith = async <T>(fn: (tx: PgTransaction, exec: Exec) => Promise<T>): Promise<T> => {
    if (observe === undefined) return runTransaction(fn, performance.now(), () => {});
    const began = performance.now();
    let runs = 0;
    let committed = false;
    try {
      const result = await runTransaction(fn, began, () => runs++);
      committed = true;
      return result;
    } finally {
      observe({ seconds: (performance.now() - began) / 1000, runs, committed });
    }
  };

  /** runTransaction runs `fn` in a transaction, again while it is refused for a concurrent one (within the budget); `ran` counts the runs. */
  const runTransaction = async <T>(fn: (tx: PgTransaction, exec: Exec) => Promise<T>, began: number, ran: () => void): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const client = await pool.connect();
      let pending = 0;
      let savepoints = 0;
      let ended = false;
      const exec: Exec = async (name, text, values) => {
        const r = await client.query(name === '' ? { text, values } : { name, text, values });
        pending += written(r);
        return r;
      };
      // A nested transaction is a savepoint on the same connection.
      const savepoint = async <U>(inner: (tx: PgTransaction, exec: Exec) => Promise<U>): Promise<U> => {
        if (ended) throw new TransactionEndedError('transaction');
        const point = `fd_sp_${++savepoints}`;
        await client.query(`SAVEPOINT ${point}`);
        const before = pending;
        try {
          const result = await inner(tx, exec);
          await client.query(`RELEASE SAVEPOINT ${point}`);
          return result;
        } catch (err) {
          await client.query(`ROLLBACK TO SAVEPOINT ${point}`);
          pending = before;
          throw err;
        }
      };
      // After release the connection may carry another transaction: a late call must not reach it.
      const txMethods = guardEach(storeMethods(exec, (inner) => savepoint((_, e) => inner(e))), (name) => {
        if (ended) throw new TransactionEndedError(name);
      });
      const tx: PgTransaction = {
        ...txMethods,
        query: async (text, values) => {
          if (ended) throw new TransactionEndedError('query');
          return exec('', text, values);
        },
        transaction: (inner) => savepoint((t) => inner(t)),
        changeCount: async () => changes,
        close: () => Promise.reject(new Error('close the store, not a transaction handle')),
      };
      let broken: Error | undefined;
      try {
        await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
        ran();
        const result = await scope.run(() => fn(tx, exec));
        await client.query('COMMIT');
        changes += pending;
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error;
        }
        if (isRetryable(err) && performance.now() - began < RETRY_BUDGET_MS) {
          await backoff(attempt);
          continue;
        }
        throw err;
      } finally {
        ended = true;
        client.release(broken);
      }
    }
  };

  const transaction = <T>(fn: (tx: PgTransaction) => Promise<T>): Promise<T> => {
    try {
      scope.check('transaction');
    } catch (err) {
      return Promise.reject(err);
    }
    return transactionWith((tx) => fn(tx));
  };

  const exec: Exec = async (name, text, values) => {
    const r = await pool.query(name === '' ? { text, values } : { name, text, values });
    changes += written(r);
    return r;
  };
  // A call on the store itself from inside a transaction body would escape the transaction: refuse it.
  const guarded = guardEach(
    storeMethods(exec, (fn) => transactionWith((_, e) => fn(e))),
    (name) => scope.check(name),
  );
  return {
    ...guarded,
    query: async (text, values) => {
      scope.check('query');
      return exec('', text, values);
    },
    pool,
    transaction,
    changeCount: async () => changes,
    close: () => pool.end(),
  };
}
