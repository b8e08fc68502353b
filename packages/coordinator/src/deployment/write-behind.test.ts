import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import type { AsyncStore } from '../store/async-store.js';
import type { CommandRecord } from '../store/records.js';
import { deploymentRecord, groupRecord } from '../testing/record-builders.js';
import { newTarget } from './instance-lifecycle.js';
import { writeBehind } from './write-behind.js';

const command = (id: string, instanceName: string, over: Partial<CommandRecord> = {}): CommandRecord => ({
  commandId: id,
  deploymentId: 'd-1',
  instanceName,
  lifecycleEvent: 'Install',
  state: 'pending',
  createdAt: 1,
  deadlineAt: 2,
  ...over,
});

describe('writeBehind', () => {
  let dir: string;
  let store: SqliteStore;
  let db: AsyncStore;
  /** The calls that reached the transaction's handle, by name. */
  let calls: string[];
  const counting = (tx: AsyncStore): AsyncStore => {
    const out: Record<string, unknown> = {};
    for (const [name, method] of Object.entries(tx)) {
      out[name] = typeof method === 'function' ? (...args: unknown[]) => (calls.push(name), (method as (...a: unknown[]) => unknown)(...args)) : method;
    }
    return out as AsyncStore;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-write-behind-'));
    store = openSqliteStore(path.join(dir, 'fleetdeploy.db'));
    db = asyncSqliteStore(store);
    calls = [];
    store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'InProgress' }));
    store.putTarget(newTarget('d-1', 'h1', 1));
    store.putTarget(newTarget('d-1', 'h2', 1));
    store.putCommand(command('c1', 'h1'));
    store.putCommand(command('c2', 'h2'));
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads each record once and writes what it kept in one statement per table when flushed', async () => {
    await db.transaction(async (tx) => {
      const kept = writeBehind(counting(tx));
      await kept.prefetch(['c1', 'c2', 'c9']);
      expect(calls).toEqual(['getCommands', 'getTargetsOf']);
      expect((await kept.tx.getCommand('c1'))?.state).toBe('pending');
      expect(await kept.tx.getCommand('c9')).toBeUndefined();
      expect((await kept.tx.getTarget('d-1', 'h2'))?.targetId).toBe('h2');
      await kept.tx.getDeployment('d-1');
      await kept.tx.getDeployment('d-1');
      expect(calls).toEqual(['getCommands', 'getTargetsOf', 'getDeployment']);
      await kept.tx.putCommand(command('c1', 'h1', { state: 'done' }));
      await kept.tx.putCommand(command('c3', 'h1'));
      await kept.tx.putTarget({ ...newTarget('d-1', 'h1', 1), status: 'Succeeded' });
      await kept.tx.putTarget(newTarget('d-1', 'h3', 1));
      await kept.tx.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Succeeded' }));
      // Kept: read back from memory, not yet in the database.
      expect((await kept.tx.getCommand('c1'))?.state).toBe('done');
      expect(store.getCommand('c1')?.state).toBe('pending');
      await kept.flush();
      expect(calls.slice(3)).toEqual(['putDeployment', 'putTargets', 'putCommands']);
    });
    expect(store.getCommand('c1')?.state).toBe('done');
    expect(store.openCommands().map((c) => c.commandId)).toEqual(['c2', 'c3']);
    expect(store.listTargets('d-1').map((t) => `${t.targetId}:${t.status}`)).toEqual(['h1:Succeeded', 'h2:Pending', 'h3:Pending']);
    expect(store.getDeployment('d-1')?.status).toBe('Succeeded');
  });

  it('undoes in memory what a failed nested transaction kept, leaving what was kept around it', async () => {
    await db.transaction(async (tx) => {
      const kept = writeBehind(tx);
      await kept.tx.putCommand(command('c1', 'h1', { state: 'acked' }));
      await expect(
        kept.tx.transaction(async (inner) => {
          await inner.putCommand(command('c1', 'h1', { state: 'done' }));
          await inner.putCommand(command('c4', 'h1'));
          await inner.deletePendingReport('d-1', 1);
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect((await kept.tx.getCommand('c1'))?.state).toBe('acked');
      expect(await kept.tx.getCommand('c4')).toBeUndefined();
      // A nested transaction that succeeds keeps its writes for the flush.
      await kept.tx.transaction((inner) => inner.putCommand(command('c5', 'h2')));
      await kept.flush();
    });
    expect(store.getCommand('c1')?.state).toBe('acked');
    expect(store.getCommand('c4')).toBeUndefined();
    expect(store.getCommand('c5')?.state).toBe('pending');
  });

  it('runs a nested transaction that must reach the database again in a savepoint, after writing what was kept before it', async () => {
    let runs = 0;
    await db.transaction(async (tx) => {
      const kept = writeBehind(tx);
      await kept.tx.putCommand(command('c1', 'h1', { state: 'done' }));
      await kept.tx.transaction(async (inner) => {
        runs++;
        await inner.putCommand(command('c6', 'h2'));
        // A read of a kept table from the database sees everything kept before it.
        expect((await inner.openCommands()).map((c) => c.commandId)).toEqual(['c2', 'c6']);
        await inner.putHealth({ deploymentGroupId: 'g', instanceName: 'h2', health: 'Healthy' });
      });
      await kept.flush();
    });
    expect(runs).toBe(2);
    expect(store.openCommands().map((c) => c.commandId)).toEqual(['c2', 'c6']);
    expect(store.getHealth('g', 'h2')?.health).toBe('Healthy');
  });

  it('undoes, in the database and in memory, a nested transaction that failed in its savepoint', async () => {
    await db.transaction(async (tx) => {
      const kept = writeBehind(tx);
      await kept.tx.putCommand(command('c1', 'h1', { state: 'acked' }));
      await expect(
        kept.tx.transaction(async (inner) => {
          await inner.putHealth({ deploymentGroupId: 'g', instanceName: 'h1', health: 'Unhealthy' });
          await inner.putCommand(command('c1', 'h1', { state: 'done' }));
          await inner.addTargets([newTarget('d-1', 'h7', 1)]);
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect((await kept.tx.getCommand('c1'))?.state).toBe('acked');
      await kept.flush();
    });
    expect(store.getHealth('g', 'h1')).toBeUndefined();
    expect(store.getTarget('d-1', 'h7')).toBeUndefined();
    // What was kept before the savepoint was written before it: the savepoint's rollback left it.
    expect(store.getCommand('c1')?.state).toBe('acked');
  });

  it('reads a group by id once, and again after a call that reached the database', async () => {
    store.putGroup(groupRecord({ deploymentGroupId: 'g-1', deploymentGroupName: 'web' }));
    await db.transaction(async (tx) => {
      const kept = writeBehind(counting(tx));
      expect((await kept.tx.getGroupById('g-1'))?.deploymentGroupName).toBe('web');
      await kept.tx.getGroupById('g-1');
      expect(calls).toEqual(['getGroupById']);
      await kept.tx.putGroup(groupRecord({ deploymentGroupId: 'g-1', deploymentGroupName: 'web-2' }));
      expect((await kept.tx.getGroupById('g-1'))?.deploymentGroupName).toBe('web-2');
      expect(calls).toEqual(['getGroupById', 'putGroup', 'getGroupById']);
    });
  });

  it('deletes the stored reports it was told to, together, when flushed', async () => {
    store.addPendingReports([
      { deploymentId: 'd-1', instanceName: 'h1', commandId: 'c1', receivedAt: 1 },
      { deploymentId: 'd-1', instanceName: 'h2', commandId: 'c2', receivedAt: 2 },
    ]);
    const [a, b] = store.pendingReports('d-1');
    await db.transaction(async (tx) => {
      const kept = writeBehind(counting(tx));
      await kept.tx.deletePendingReport('d-1', a!.seq);
      await kept.tx.deletePendingReport('d-1', b!.seq);
      expect(store.pendingReports('d-1')).toHaveLength(2);
      await kept.flush();
      expect(calls).toEqual(['deletePendingReports']);
    });
    expect(store.pendingReports('d-1')).toEqual([]);
  });
});
