/**
 * The embedded store: one SQLite file in the data directory (better-sqlite3, WAL). Records are JSON
 * documents beside the columns they are found by; statements are prepared once.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { DeploymentQuery, RegisterOutcome, Store } from './store.js';
import type {
  ApplicationRecord,
  CommandRecord,
  DeploymentConfigRecord,
  DeploymentGroupRecord,
  DeploymentRecord,
  InstanceHealthRecord,
  PendingReportRecord,
  InstanceRecord,
  RevisionRecord,
  TargetRecord,
} from './records.js';
import type { Tag, TagFilter } from '../fleet/tag-match.js';
import { deploymentFromDoc, deploymentToDoc } from './deployment-doc.js';
import { migrate } from './migrate.js';
import { transactionRunner } from './sqlite-transaction.js';
import { migrations } from './migrations/index.js';
import { checkIntegrity, corruptDatabase, isDatabaseCorruption, refuseEmptyDatabase } from './database-file.js';
import { connectionGuard } from './connection-guard.js';
import type { ConnectionGuard } from './connection-guard.js';

/** DATABASE_FILE is the store's file name inside the data directory. */
export const DATABASE_FILE = 'coordinator.db';

type Row = { doc: string };
const parse = <T>(row: unknown): T | undefined => (row === undefined ? undefined : (JSON.parse((row as Row).doc) as T));
const parseAll = <T>(rows: unknown[]): T[] => rows.map((r) => JSON.parse((r as Row).doc) as T);

/**
 * DOC_CACHE_SIZE bounds {@link DocCache}: the deployments being driven now, with room to spare.
 */
const DOC_CACHE_SIZE = 64;

/**
 * DocCache remembers the parse of a deployment's JSON document by id, with the row's `rev`: every
 * putDeployment writes a rev never written before (this process's nonce and a counter that a
 * rolled-back transaction does not rewind), so a row whose rev is the cached one holds exactly the
 * cached document, whoever reads it. Why: a deployment's doc holds its plan, one entry per target;
 * the engine reads it for every command it sends, every ack and every result, so with 1,000
 * targets re-parsing it was a quarter of the coordinator's CPU in bench-fleet, and reading its text
 * back to compare still an eighth. A row without a rev (written before migration 011) is parsed
 * each time. The parsed records are shared between callers, which never mutate records (they copy
 * with spread, as the engine and the planners do).
 */
class DocCache<T> {
  private readonly entries = new Map<string, { rev: string; value: T }>();
  constructor(private readonly parseDoc: (doc: string) => T) {}
  /** get returns the cached parse when `rev` is the cached one, else parses `readDoc()` and keeps it. */
  get(id: string, rev: string | null | undefined, readDoc: () => string | undefined): T | undefined {
    if (rev === undefined) return undefined; // no such row
    const hit = this.entries.get(id);
    if (rev !== null && hit !== undefined && hit.rev === rev) return hit.value;
    const doc = readDoc();
    if (doc === undefined) return undefined;
    const value = this.parseDoc(doc);
    this.entries.delete(id);
    if (rev === null) return value;
    this.remember(id, rev, value);
    return value;
  }

  /**
   * remember keeps `value` as the parse of the document just written with `rev`. Writers hand over
   * a record they never change afterwards (records are copied with spread), so it is what a parse of
   * the row would give, without parsing: the engine writes a deployment, plan and all, after every
   * instance that finishes, and reads it again at the next report. A write that is rolled back
   * leaves the row's earlier rev, which is then not the cached one.
   */
  remember(id: string, rev: string, value: T): void {
    this.entries.delete(id);
    this.entries.set(id, { rev, value });
    if (this.entries.size > DOC_CACHE_SIZE) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** SqliteStore is the {@link Store} of one coordinator, with the database handle for the bucket's store. */
export interface SqliteStore extends Store {
  readonly db: Database.Database;
  /**
   * queryCount is how many statements of this store have run (each run, get or all counts once), and
   * rowsRead how many rows their get and all returned: tests compare them before and after a call to
   * check that neither the call's queries nor what they read grow with the fleet.
   */
  queryCount(): number;
  rowsRead(): number;
}

/** TARGET_ROWS_PER_INSERT is how many targets one INSERT of {@link Store.addTargets} carries (SQLite allows 32,766 parameters). */
const TARGET_ROWS_PER_INSERT = 250;

/** QueryCounter is what {@link SqliteStore.queryCount} and {@link SqliteStore.rowsRead} report. */
interface QueryCounter {
  queries: number;
  rows: number;
}

/**
 * countCalls makes each statement count its runs and the rows it returned in `counter` (the store's
 * query-counting hook), and refuse to run inside another caller's asynchronous transaction (`guard`).
 */
function countCalls<S extends object>(statements: S, counter: QueryCounter, guard: ConnectionGuard): S {
  for (const st of Object.values(statements) as Database.Statement[]) {
    for (const method of ['run', 'get', 'all'] as const) {
      const original = st[method] as (...args: unknown[]) => unknown;
      Object.defineProperty(st, method, {
        value: (...args: unknown[]) => {
          guard.check('a synchronous store call');
          counter.queries++;
          const result = original.apply(st, args);
          if (method === 'get' && result !== undefined) counter.rows++;
          if (method === 'all') counter.rows += (result as unknown[]).length;
          return result;
        },
      });
    }
  }
  return statements;
}

/** OpenOptions: `verify` reads the whole file (PRAGMA quick_check) before using it, as `serve` does. */
export interface OpenOptions {
  verify?: boolean;
}

/**
 * openDatabase opens (creating and migrating) `<dataDir>/coordinator.db` as {@link openSqliteStore}
 * uses it, and says which schema version it was at (`from`) and is at now (`to`); the `migrate`
 * command opens it this way too.
 */
export function openDatabase(dataDir: string, options: OpenOptions = {}): { db: Database.Database; schema: { from: number; to: number } } {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, DATABASE_FILE);
  refuseEmptyDatabase(file, dataDir);
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const problem = options.verify === true ? checkIntegrity(db) : undefined;
    if (problem !== undefined) throw corruptDatabase(file, dataDir, problem);
    return { db, schema: migrate(db, migrations) };
  } catch (err) {
    db.close();
    throw isDatabaseCorruption(err) ? corruptDatabase(file, dataDir, (err as Error).message) : err;
  }
}

/**
 * openSqliteStore opens (creating and migrating) `<dataDir>/coordinator.db`. `synchronous = NORMAL`
 * in WAL mode keeps every committed transaction across a process crash (SIGKILL); only a power loss
 * may lose the last few, which the agents' unacknowledged results then replay. An empty file or one
 * SQLite finds damaged is refused with a {@link DatabaseFileError}.
 */
export function openSqliteStore(dataDir: string, options: OpenOptions = {}): SqliteStore {
  const { db } = openDatabase(dataDir, options);

  const counter: QueryCounter = { queries: 0, rows: 0 };
  const guard = connectionGuard(db);
  const s = countCalls({
    putApp: db.prepare('INSERT INTO applications (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc'),
    getApp: db.prepare('SELECT doc FROM applications WHERE name = ?'),
    listApps: db.prepare('SELECT doc FROM applications ORDER BY name'),
    delApp: db.prepare('DELETE FROM applications WHERE name = ?'),
    delAppGroups: db.prepare('DELETE FROM deployment_groups WHERE application = ?'),
    delAppRevisions: db.prepare('DELETE FROM revisions WHERE application = ?'),
    putInstance: db.prepare('INSERT INTO instances (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc'),
    getInstance: db.prepare('SELECT doc FROM instances WHERE name = ?'),
    listInstances: db.prepare('SELECT doc FROM instances ORDER BY name'),
    putGroup: db.prepare('INSERT INTO deployment_groups (application, name, id, doc) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET application = excluded.application, name = excluded.name, doc = excluded.doc'),
    getGroup: db.prepare('SELECT doc FROM deployment_groups WHERE application = ? AND name = ?'),
    getGroupById: db.prepare('SELECT doc FROM deployment_groups WHERE id = ?'),
    listGroups: db.prepare('SELECT doc FROM deployment_groups ORDER BY application, name'),
    listAppGroups: db.prepare('SELECT doc FROM deployment_groups WHERE application = ? ORDER BY name'),
    delGroup: db.prepare('DELETE FROM deployment_groups WHERE application = ? AND name = ?'),
    putConfig: db.prepare('INSERT INTO deployment_configs (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc'),
    getConfig: db.prepare('SELECT doc FROM deployment_configs WHERE name = ?'),
    listConfigs: db.prepare('SELECT doc FROM deployment_configs ORDER BY name'),
    delConfig: db.prepare('DELETE FROM deployment_configs WHERE name = ?'),
    putRevision: db.prepare('INSERT INTO revisions (application, revision_key, register_time, doc) VALUES (?, ?, ?, ?) ON CONFLICT (application, revision_key) DO UPDATE SET doc = excluded.doc'),
    getRevision: db.prepare('SELECT doc FROM revisions WHERE application = ? AND revision_key = ?'),
    listRevisions: db.prepare('SELECT doc FROM revisions WHERE application = ? ORDER BY register_time, revision_key'),
    putDeployment: db.prepare(`INSERT INTO deployments (id, application, group_name, status, create_time, seq, doc, rev)
      VALUES (@id, @application, @group, @status, @createTime, (SELECT COALESCE(MAX(seq), 0) + 1 FROM deployments), @doc, @rev)
      ON CONFLICT (id) DO UPDATE SET status = excluded.status, doc = excluded.doc, rev = excluded.rev`),
    getDeployment: db.prepare('SELECT doc FROM deployments WHERE id = ?').pluck(),
    getDeploymentRev: db.prepare('SELECT rev FROM deployments WHERE id = ?').pluck(),
    // A filter given as NULL matches all; statuses come as a JSON array ('[]' matches all), as PostgreSQL takes an array.
    listDeploymentIds: db
      .prepare(
        `SELECT id FROM deployments
         WHERE (@application IS NULL OR application = @application) AND (@group IS NULL OR group_name = @group)
           AND (@statuses = '[]' OR status IN (SELECT value FROM json_each(@statuses)))
           AND (@after IS NULL OR create_time >= @after) AND (@before IS NULL OR create_time <= @before)
         ORDER BY seq DESC`,
      )
      .pluck(),
    activeDeployments: db.prepare("SELECT doc FROM deployments WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped') ORDER BY seq"),
    // putTarget is an UPDATE, then an INSERT when the row is new: the INSERT's MAX(seq) subquery
    // visits every target row of the deployment (no index has seq), which, evaluated on every update
    // as INSERT ... ON CONFLICT did, made each result O(targets). Same rows, same seq as before.
    updateTarget: db.prepare('UPDATE deployment_targets SET doc = @doc, status = @status WHERE deployment_id = @deployment AND target_id = @target'),
    insertTarget: db.prepare(`INSERT INTO deployment_targets (deployment_id, target_id, seq, doc, status)
      VALUES (@deployment, @target, (SELECT COALESCE(MAX(seq), 0) + 1 FROM deployment_targets WHERE deployment_id = @deployment), @doc, @status)`),
    countTargets: db.prepare('SELECT status, COUNT(*) AS n FROM deployment_targets WHERE deployment_id = ? GROUP BY status'),
    getTarget: db.prepare('SELECT doc FROM deployment_targets WHERE deployment_id = ? AND target_id = ?'),
    targetIdsAwaitingAgent: db
      .prepare(
        `SELECT t.target_id FROM deployment_targets t LEFT JOIN agent_sessions s ON s.instance_name = t.target_id
         WHERE t.deployment_id = ? AND t.status IN ('Pending', 'InProgress') AND (s.instance_name IS NULL OR s.disconnected_at IS NOT NULL)`,
      )
      .pluck(),
    getTargetsOf: db.prepare('SELECT doc FROM deployment_targets WHERE deployment_id = ? AND target_id IN (SELECT value FROM json_each(?))'),
    listTargets: db.prepare('SELECT doc FROM deployment_targets WHERE deployment_id = ? ORDER BY seq'),
    // rowid order is insertion order: the latest deployment to target the instance (index from migration 007).
    lastTargetOf: db.prepare('SELECT doc FROM deployment_targets WHERE target_id = ? ORDER BY rowid DESC LIMIT 1'),
    putCommand: db.prepare('INSERT INTO commands (id, instance, open, doc) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET open = excluded.open, doc = excluded.doc'),
    getCommand: db.prepare('SELECT doc FROM commands WHERE id = ?'),
    openCommands: db.prepare('SELECT doc FROM commands WHERE open = 1 ORDER BY rowid'),
    openCommandsFor: db.prepare('SELECT doc FROM commands WHERE open = 1 AND instance = ? ORDER BY rowid'),
    // A JSON array of ids or names as one parameter: any number of them, one prepared statement.
    getCommands: db.prepare('SELECT doc FROM commands WHERE id IN (SELECT value FROM json_each(?))'),
    openCommandsOf: db.prepare('SELECT doc FROM commands WHERE open = 1 AND instance IN (SELECT value FROM json_each(?)) ORDER BY rowid'),
    addPendingReport: db.prepare('INSERT INTO pending_reports (deployment_id, instance, command_id, received_at, doc) VALUES (?, ?, ?, ?, ?)'),
    pendingReports: db.prepare('SELECT seq, doc FROM pending_reports ORDER BY seq'),
    pendingReportsOf: db.prepare('SELECT seq, doc FROM pending_reports WHERE deployment_id = ? ORDER BY seq'),
    deletePendingReport: db.prepare('DELETE FROM pending_reports WHERE deployment_id = ? AND seq = ?'),
    putHealth: db.prepare('INSERT INTO instance_health (group_id, instance, doc) VALUES (?, ?, ?) ON CONFLICT (group_id, instance) DO UPDATE SET doc = excluded.doc'),
    getHealth: db.prepare('SELECT doc FROM instance_health WHERE group_id = ? AND instance = ?'),
    listHealth: db.prepare('SELECT doc FROM instance_health WHERE group_id = ? ORDER BY instance'),
    getTags: db.prepare('SELECT key AS Key, value AS Value FROM resource_tags WHERE resource_id = ? ORDER BY position'),
    delTags: db.prepare('DELETE FROM resource_tags WHERE resource_id = ?'),
    putTag: db.prepare('INSERT INTO resource_tags (resource_id, key, value, position) VALUES (?, ?, ?, ?)'),
    // instance_tags (migration 011) mirrors the tags of registered instances, for the lookups by tag.
    delInstanceTags: db.prepare('DELETE FROM instance_tags WHERE instance = ?'),
    putInstanceTag: db.prepare('INSERT OR IGNORE INTO instance_tags (instance, key, value) VALUES (?, ?, ?)'),
    taggedKeyValue: db.prepare('SELECT i.doc FROM instance_tags t JOIN instances i ON i.name = t.instance WHERE t.key = ? AND t.value = ?'),
    taggedKey: db.prepare('SELECT i.doc FROM instance_tags t JOIN instances i ON i.name = t.instance WHERE t.key = ?'),
    taggedValue: db.prepare('SELECT i.doc FROM instance_tags t JOIN instances i ON i.name = t.instance WHERE t.value = ?'),
    // The WHERE repeats the partial indexes' condition (migration 011) so that SQLite uses them.
    instanceByUserArn: db.prepare("SELECT name FROM instances WHERE json_extract(doc, '$.iamUserArn') = ? AND json_extract(doc, '$.deregisterTime') IS NULL LIMIT 1").pluck(),
    instanceBySessionArn: db.prepare("SELECT name FROM instances WHERE json_extract(doc, '$.iamSessionArn') = ? AND json_extract(doc, '$.deregisterTime') IS NULL LIMIT 1").pluck(),
    activeOfGroup: db.prepare("SELECT id FROM deployments WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped') AND json_extract(doc, '$.deploymentGroupId') = ? ORDER BY seq LIMIT 1").pluck(),
    activeGroupIds: db.prepare("SELECT DISTINCT json_extract(doc, '$.deploymentGroupId') FROM deployments WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped')").pluck(),
    maxTargetSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM deployment_targets WHERE deployment_id = ?').pluck(),
  }, counter, guard);
  /** Multi-row target INSERTs by row count, prepared when first needed. */
  /** preparedBySize prepares (and counts) one statement per size `n` of a variable-length list, once. */
  const preparedBySize = (sql: (n: number) => string): ((n: number) => Database.Statement) => {
    const prepared = new Map<number, Database.Statement>();
    return (n) => {
      let st = prepared.get(n);
      if (st === undefined) {
        st = countCalls({ st: db.prepare(sql(n)) }, counter, guard).st;
        prepared.set(n, st);
      }
      return st;
    };
  };
  const repeated = (n: number, item: string): string => Array.from({ length: n }, () => item).join(', ');
  const targetIdsWithStatus = preparedBySize((statuses) => `SELECT target_id FROM deployment_targets WHERE deployment_id = ? AND status IN (${repeated(statuses, '?')})`);
  const insertTargets = preparedBySize((rows) => `INSERT INTO deployment_targets (deployment_id, target_id, seq, doc, status) VALUES ${repeated(rows, '(?, ?, ?, ?, ?)')}`);
  const tagged: Record<TagFilter['Type'], (f: TagFilter) => unknown[]> = {
    KEY_AND_VALUE: (f) => s.taggedKeyValue.all(f.Key, f.Value),
    KEY_ONLY: (f) => s.taggedKey.all(f.Key),
    VALUE_ONLY: (f) => s.taggedValue.all(f.Value),
  };

  const deployments = new DocCache<DeploymentRecord>(deploymentFromDoc);
  // instance_tags (migration 11) mirrors the tags of registered instances, for the lookups by tag.
  const putInstance = (i: InstanceRecord): void =>
    db.transaction(() => {
      s.putInstance.run(i.instanceName, JSON.stringify(i));
      s.delInstanceTags.run(i.instanceName);
      if (i.deregisterTime === undefined) for (const t of i.tags) s.putInstanceTag.run(i.instanceName, t.Key, t.Value);
    })();
  const instanceWithArn = (kind: 'iamUserArn' | 'iamSessionArn', arn: string): string | undefined =>
    (kind === 'iamUserArn' ? s.instanceByUserArn.get(arn) : s.instanceBySessionArn.get(arn)) as string | undefined;
  const putTarget = (t: TargetRecord): void => {
    const row = { deployment: t.deploymentId, target: t.targetId, doc: JSON.stringify(t), status: t.status };
    if (s.updateTarget.run(row).changes === 0) s.insertTarget.run(row);
  };
  const getDeployment = (id: string): DeploymentRecord | undefined => deployments.get(id, s.getDeploymentRev.get(id) as string | null | undefined, () => s.getDeployment.get(id) as string | undefined);
  /** Each write's rev: this opening's nonce and a counter (see DocCache). */
  const revNonce = randomUUID();
  let revCounter = 0;
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  const inTransaction = transactionRunner(db);

  return {
    db,
    transaction: <T>(fn: () => T): T => {
      guard.check('store.transaction');
      return inTransaction(fn);
    },
    changeCount: () => totalChanges.get() as number,
    queryCount: () => counter.queries,
    rowsRead: () => counter.rows,
    close: () => db.close(),

    putApplication: (a: ApplicationRecord) => void s.putApp.run(a.applicationName, JSON.stringify(a)),
    getApplication: (name) => parse(s.getApp.get(name)),
    listApplications: () => parseAll(s.listApps.all()),
    deleteApplication: (name) => {
      db.transaction(() => {
        s.delAppGroups.run(name);
        s.delAppRevisions.run(name);
        s.delApp.run(name);
      })();
    },

    putInstance,
    getInstance: (name) => parse(s.getInstance.get(name)),
    listInstances: () => parseAll(s.listInstances.all()),
    instancesTagged: (filters) => {
      const found = new Map<string, InstanceRecord>();
      for (const f of filters) {
        for (const row of tagged[f.Type](f)) {
          const i = parse<InstanceRecord>(row)!;
          // instance_tags holds registered instances only; the doc is checked too, as the record of truth.
          if (i.deregisterTime === undefined && !found.has(i.instanceName)) found.set(i.instanceName, i);
        }
      }
      return [...found.values()].sort((a, b) => (a.instanceName < b.instanceName ? -1 : a.instanceName > b.instanceName ? 1 : 0));
    },
    // One writer at a time on SQLite: the checks and the write cannot be interleaved with another's.
    registerInstance: (i) =>
      db.transaction((): RegisterOutcome => {
        const existing = parse<InstanceRecord>(s.getInstance.get(i.instanceName));
        if (existing !== undefined && existing.deregisterTime === undefined) return 'nameTaken';
        const heldByAnother = (kind: 'iamUserArn' | 'iamSessionArn', arn: string | undefined): boolean => {
          const found = arn === undefined ? undefined : instanceWithArn(kind, arn);
          return found !== undefined && found !== i.instanceName;
        };
        if (heldByAnother('iamSessionArn', i.iamSessionArn)) return 'iamSessionArnTaken';
        if (heldByAnother('iamUserArn', i.iamUserArn)) return 'iamUserArnTaken';
        putInstance(i);
        return 'registered';
      })(),
    registeredInstanceWithArn: instanceWithArn,

    putGroup: (g: DeploymentGroupRecord) => void s.putGroup.run(g.applicationName, g.deploymentGroupName, g.deploymentGroupId, JSON.stringify(g)),
    getGroup: (app, name) => parse(s.getGroup.get(app, name)),
    getGroupById: (id) => parse(s.getGroupById.get(id)),
    listGroups: (app) => parseAll(app === undefined ? s.listGroups.all() : s.listAppGroups.all(app)),
    deleteGroup: (app, name) => void s.delGroup.run(app, name),

    putConfig: (c: DeploymentConfigRecord) => void s.putConfig.run(c.deploymentConfigName, JSON.stringify(c)),
    getConfig: (name) => parse(s.getConfig.get(name)),
    listConfigs: () => parseAll(s.listConfigs.all()),
    deleteConfig: (name) => void s.delConfig.run(name),

    putRevision: (r: RevisionRecord) => void s.putRevision.run(r.applicationName, r.revisionKey, r.registerTime, JSON.stringify(r)),
    getRevision: (app, key) => parse(s.getRevision.get(app, key)),
    listRevisions: (app) => parseAll(s.listRevisions.all(app)),

    putDeployment: (d: DeploymentRecord) => {
      const rev = `${revNonce}:${++revCounter}`;
      s.putDeployment.run({ id: d.deploymentId, application: d.applicationName, group: d.deploymentGroupName, status: d.status, createTime: d.createTime, doc: deploymentToDoc(d), rev });
      deployments.remember(d.deploymentId, rev, d);
    },
    getDeployment,
    listDeploymentIds: (q: DeploymentQuery) =>
      s.listDeploymentIds.all({
        application: q.applicationName ?? null,
        group: q.deploymentGroupName ?? null,
        statuses: JSON.stringify(q.statuses ?? []),
        after: q.createdAfter ?? null,
        before: q.createdBefore ?? null,
      }) as string[],
    activeDeployments: () => (s.activeDeployments.all() as Row[]).map((r) => deploymentFromDoc(r.doc)),
    activeDeploymentOfGroup: (groupId) => {
      const id = s.activeOfGroup.get(groupId) as string | undefined;
      return id === undefined ? undefined : getDeployment(id);
    },
    activeGroupIds: () => new Set(s.activeGroupIds.all() as string[]),

    putTarget,
    putTargets: (targets) => {
      for (const t of targets) putTarget(t);
    },
    getTargetsOf: (dep, ids) => (ids.length === 0 ? [] : parseAll(s.getTargetsOf.all(dep, JSON.stringify(ids)))),
    addTargets: (targets) => {
      if (targets.length === 0) return;
      db.transaction(() => {
        const base = new Map<string, number>();
        const params: unknown[] = [];
        for (const t of targets) {
          const seq = (base.get(t.deploymentId) ?? (s.maxTargetSeq.get(t.deploymentId) as number)) + 1;
          base.set(t.deploymentId, seq);
          params.push(t.deploymentId, t.targetId, seq, JSON.stringify(t), t.status);
        }
        for (let i = 0; i < targets.length; i += TARGET_ROWS_PER_INSERT) {
          const rows = Math.min(TARGET_ROWS_PER_INSERT, targets.length - i);
          insertTargets(rows).run(...params.slice(i * 5, (i + rows) * 5));
        }
      })();
    },
    getTarget: (dep, target) => parse(s.getTarget.get(dep, target)),
    listTargets: (dep) => parseAll(s.listTargets.all(dep)),
    countTargets: (dep) => Object.fromEntries((s.countTargets.all(dep) as { status: string; n: number }[]).map((r) => [r.status, r.n])),
    targetIdsWithStatus: (dep, statuses) => {
      if (statuses.length === 0) return [];
      return (targetIdsWithStatus(statuses.length).all(dep, ...statuses) as { target_id: string }[]).map((r) => r.target_id);
    },
    targetIdsAwaitingAgent: (dep) => s.targetIdsAwaitingAgent.all(dep) as string[],
    lastTargetOf: (instance) => parse(s.lastTargetOf.get(instance)),

    putCommand: (c: CommandRecord) => void s.putCommand.run(c.commandId, c.instanceName, c.state === 'done' ? 0 : 1, JSON.stringify(c)),
    putCommands: (commands) => {
      for (const c of commands) s.putCommand.run(c.commandId, c.instanceName, c.state === 'done' ? 0 : 1, JSON.stringify(c));
    },
    getCommand: (id) => parse(s.getCommand.get(id)),
    getCommands: (ids) => (ids.length === 0 ? [] : parseAll(s.getCommands.all(JSON.stringify(ids)))),
    openCommands: (instance) => parseAll(instance === undefined ? s.openCommands.all() : s.openCommandsFor.all(instance)),
    openCommandsOf: (names) => (names.length === 0 ? [] : parseAll(s.openCommandsOf.all(JSON.stringify(names)))),

    addPendingReports: (reports) => {
      for (const r of reports) s.addPendingReport.run(r.deploymentId, r.instanceName, r.commandId, r.receivedAt, JSON.stringify(r));
    },
    pendingReports: (deploymentId) =>
      ((deploymentId === undefined ? s.pendingReports.all() : s.pendingReportsOf.all(deploymentId)) as { seq: number; doc: string }[]).map((r): PendingReportRecord => ({ ...(JSON.parse(r.doc) as Omit<PendingReportRecord, 'seq'>), seq: r.seq })),
    deletePendingReport: (deploymentId, seq) => void s.deletePendingReport.run(deploymentId, seq),
    deletePendingReports: (keys) => {
      for (const k of keys) s.deletePendingReport.run(k.deploymentId, k.seq);
    },

    putHealth: (h: InstanceHealthRecord) => void s.putHealth.run(h.deploymentGroupId, h.instanceName, JSON.stringify(h)),
    getHealth: (group, instance) => parse(s.getHealth.get(group, instance)),
    listHealth: (group) => parseAll(s.listHealth.all(group)),

    getResourceTags: (id) => s.getTags.all(id) as Tag[],
    putResourceTags: (id, tags) => {
      db.transaction(() => {
        s.delTags.run(id);
        tags.forEach((t, i) => s.putTag.run(id, t.Key, t.Value, i));
      })();
    },
  };
}
