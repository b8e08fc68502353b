/**
 * An engine step reads and writes a handful of records per agent report (its command, its target,
 * its deployment), and a batch of reports is one transaction of up to a hundred steps. On PostgreSQL
 * each call is a round trip, and a replica spends its time waiting on them, one after the other.
 * writeBehind is a transaction's handle that keeps the deployments, targets and commands read or
 * written through it, and the stored reports deleted through it, and writes them at the end in a few
 * multi-row statements (flush), before the transaction commits.
 *
 * A nested transaction (a step inside a batch) has no savepoint in the database while all it does is
 * read and keep writes: when it fails, what it kept is undone in memory, and nothing reached the
 * database. A step that must reach the database itself (any other write, a read of a kept table, a
 * raw statement) is undone in memory and run again, from its start, inside a savepoint, with
 * everything kept before it written first; its own writes are written before the savepoint is
 * released. Step bodies can run again: a PostgreSQL transaction refused for a concurrent one is.
 *
 * Records are shared, not copied: the engine never changes a record in place.
 */
import type { AsyncStore } from '../store/async-store.js';
import type { CommandRecord, DeploymentGroupRecord, DeploymentRecord, TargetRecord } from '../store/records.js';

/** WriteBehind is a transaction's handle (`tx`) that keeps records until `flush` writes them. */
export interface WriteBehind {
  readonly tx: AsyncStore;
  /** prefetch reads these commands and their targets in one statement each (per deployment): a batch's reports. */
  prefetch(commandIds: readonly string[]): Promise<void>;
  /** flush writes what is kept; call it last in the transaction's body, outside any nested transaction. */
  flush(): Promise<void>;
}

/** A nested transaction that must reach the database runs again in a savepoint of its own (`depth`: the outermost without one). */
class NeedsSavepoint extends Error {
  constructor(readonly depth: number) {
    super('a nested transaction needs a savepoint');
  }
}

/** The kept records of one table: a copy per key, and (while not written) the depth that wrote it. */
class Kept<T> {
  readonly copies = new Map<string, T | undefined>();
  readonly dirty = new Map<string, number>();
}

const targetKey = (deploymentId: string, targetId: string): string => `${deploymentId}\u0000${targetId}`;

/** readThrough answers from `copies` (a record known to be missing included), else reads and keeps what it read. */
async function readThrough<T>(copies: Map<string, T | undefined>, key: string, read: () => Promise<T | undefined>): Promise<T | undefined> {
  if (copies.has(key)) return copies.get(key);
  const value = await read();
  copies.set(key, value);
  return value;
}

/** Calls that read only tables nothing is kept of: no flush, no savepoint. */
const UNKEPT_READS = new Set<string>([
  'getApplication', 'listApplications', 'getInstance', 'listInstances', 'instancesTagged', 'registeredInstanceWithArn',
  'getGroup', 'listGroups', 'getConfig', 'listConfigs', 'getRevision', 'listRevisions',
  'getHealth', 'listHealth', 'getResourceTags', 'changeCount',
]);

/** writeBehind wraps `tx`, the handle of a transaction's body (not of a nested one). */
export function writeBehind(tx: AsyncStore): WriteBehind {
  const deployments = new Kept<DeploymentRecord>();
  const targets = new Kept<TargetRecord>();
  const commands = new Kept<CommandRecord>();
  /**
   * Groups read by id (each instance's status change reads its group's triggers): read once, until
   * any call reaches the database (it may write one) or a nested transaction fails.
   */
  const groups = new Map<string, DeploymentGroupRecord | undefined>();
  /** Stored reports to delete, by `deployment\0seq`, with the depth that deleted them. */
  const deletes = new Map<string, { deploymentId: string; seq: number; depth: number }>();
  /** How deep the current call is in nested transactions (0: the transaction itself). */
  let depth = 0;
  /** For each depth from 1: whether it runs in a database savepoint; and how to undo what it kept. */
  const savepointed: boolean[] = [true];
  const undo: Array<Array<() => void>> = [[]];

  const keep = <T>(table: Kept<T>, key: string, value: T): void => {
    if (depth > 0) {
      const copy = table.copies.has(key) ? { value: table.copies.get(key) } : undefined;
      const dirtyAt = table.dirty.get(key);
      undo[depth]!.push(() => {
        if (copy === undefined) table.copies.delete(key);
        else table.copies.set(key, copy.value);
        if (dirtyAt === undefined) table.dirty.delete(key);
        else table.dirty.set(key, dirtyAt);
      });
    }
    table.copies.set(key, value);
    table.dirty.set(key, depth);
  };

  /** A call that reaches the database: everything kept goes first, which a depth without a savepoint cannot allow. */
  const reach = async (): Promise<void> => {
    for (let d = 1; d <= depth; d++) if (!savepointed[d]) throw new NeedsSavepoint(d);
    groups.clear();
    await flush();
  };

  async function flush(): Promise<void> {
    const dirtyOf = <T>(table: Kept<T>): T[] => {
      const out = [...table.dirty.keys()].map((k) => table.copies.get(k)!);
      table.dirty.clear();
      return out;
    };
    for (const d of dirtyOf(deployments)) await tx.putDeployment(d);
    const t = dirtyOf(targets);
    if (t.length > 0) await tx.putTargets(t);
    const c = dirtyOf(commands);
    if (c.length > 0) await tx.putCommands(c);
    if (deletes.size > 0) {
      const keys = [...deletes.values()].map(({ deploymentId, seq }) => ({ deploymentId, seq }));
      deletes.clear();
      await tx.deletePendingReports(keys);
    }
  }

  /** Ends a nested depth that succeeded: what it kept belongs to the depth around it. */
  const merge = (d: number): void => {
    for (const table of [deployments, targets, commands] as Kept<unknown>[]) for (const [k, at] of table.dirty) if (at === d) table.dirty.set(k, d - 1);
    for (const del of deletes.values()) if (del.depth === d) del.depth = d - 1;
    if (d - 1 > 0) undo[d - 1]!.push(...undo[d]!);
  };

  const rollBack = (d: number): void => {
    for (const u of undo[d]!.reverse()) u();
    groups.clear();
  };

  async function nested<T>(fn: (inner: AsyncStore) => Promise<T>): Promise<T> {
    const d = ++depth;
    savepointed[d] = false;
    undo[d] = [];
    try {
      const result = await fn(handle);
      merge(d);
      return result;
    } catch (err) {
      rollBack(d);
      if (!(err instanceof NeedsSavepoint) || err.depth !== d) throw err;
    } finally {
      depth = d - 1;
    }
    // Again from the start, in a savepoint, after everything kept around it is written.
    await flush();
    return tx.transaction(async () => {
      const again = ++depth;
      savepointed[again] = true;
      undo[again] = [];
      try {
        const result = await fn(handle);
        await flush();
        merge(again);
        return result;
      } catch (err) {
        rollBack(again);
        throw err;
      } finally {
        depth = again - 1;
      }
    });
  }

  const through: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(tx) as Array<[string, unknown]>) {
    if (typeof method !== 'function') continue;
    const call = method as (...args: unknown[]) => Promise<unknown>;
    through[name] = UNKEPT_READS.has(name)
      ? call
      : async (...args: unknown[]) => {
          await reach();
          return call(...args);
        };
  }

  const handle: AsyncStore = {
    ...(through as AsyncStore),
    getDeployment: (id) => readThrough(deployments.copies, id, () => tx.getDeployment(id)),
    async putDeployment(d) {
      keep(deployments, d.deploymentId, d);
    },
    getGroupById: (id) => readThrough(groups, id, () => tx.getGroupById(id)),
    getTarget: (deploymentId, targetId) => readThrough(targets.copies, targetKey(deploymentId, targetId), () => tx.getTarget(deploymentId, targetId)),
    // A new one is numbered when it is written, after those written before it (putTargets keeps the order).
    async putTarget(t) {
      keep(targets, targetKey(t.deploymentId, t.targetId), t);
    },
    getCommand: (id) => readThrough(commands.copies, id, () => tx.getCommand(id)),
    async getCommands(ids) {
      const missing = ids.filter((id) => !commands.copies.has(id));
      if (missing.length > 0) {
        const found = new Map((await tx.getCommands(missing)).map((c) => [c.commandId, c]));
        for (const id of missing) commands.copies.set(id, found.get(id));
      }
      return ids.flatMap((id) => {
        const c = commands.copies.get(id);
        return c === undefined ? [] : [c];
      });
    },
    async putCommand(c) {
      keep(commands, c.commandId, c);
    },
    async putCommands(cs) {
      for (const c of cs) keep(commands, c.commandId, c);
    },
    async deletePendingReport(deploymentId, seq) {
      const key = `${deploymentId}\u0000${seq}`;
      if (deletes.has(key)) return;
      if (depth > 0) undo[depth]!.push(() => void deletes.delete(key));
      deletes.set(key, { deploymentId, seq, depth });
    },
    transaction: nested,
  };

  return {
    tx: handle,
    async prefetch(commandIds) {
      const found = await handle.getCommands(commandIds);
      const byDeployment = new Map<string, string[]>();
      for (const c of found) {
        if (targets.copies.has(targetKey(c.deploymentId, c.instanceName))) continue;
        const names = byDeployment.get(c.deploymentId) ?? [];
        names.push(c.instanceName);
        byDeployment.set(c.deploymentId, names);
      }
      for (const [deploymentId, names] of byDeployment) {
        const read = new Map((await tx.getTargetsOf(deploymentId, names)).map((t) => [t.targetId, t]));
        for (const n of names) targets.copies.set(targetKey(deploymentId, n), read.get(n));
      }
    },
    flush,
  };
}
