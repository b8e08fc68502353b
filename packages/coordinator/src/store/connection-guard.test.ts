import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncSqliteStore, TransactionYieldedError } from './async-store.js';
import type { AsyncStore } from './async-store.js';
import { openSqliteStore } from './sqlite-store.js';
import type { SqliteStore } from './sqlite-store.js';
import { ConnectionHeldError } from './connection-guard.js';
import type { ApplicationRecord, InstanceRecord } from './records.js';

const app = (name: string): ApplicationRecord => ({ applicationId: `id-${name}`, applicationName: name, computePlatform: 'Server', createTime: 1, linkedToGitHub: false });
const instance = (name: string): InstanceRecord => ({ instanceName: name, instanceArn: `arn:i/${name}`, iamUserArn: `arn:u/${name}`, registerTime: 1, tags: [{ Key: 'k', Value: 'v' }] });
const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the SQLite connection shared by asynchronous transactions and synchronous callers', () => {
  let dir: string;
  let sync: SqliteStore;
  let store: AsyncStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-guard-'));
    sync = openSqliteStore(dir);
    store = asyncSqliteStore(sync);
  });
  afterEach(() => {
    sync.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a synchronous transaction begun while an asynchronous one waits, and rolls the waiting one back', async () => {
    let engineStep: unknown;
    const api = store.transaction(async (tx) => {
      await tx.putApplication(app('api'));
      await timer(5); // the rule broken: real waiting inside the body
      return 'done';
    });
    await timer(1);
    // What an engine step does meanwhile, on the same connection.
    try {
      sync.transaction(() => sync.putApplication(app('engine')));
    } catch (err) {
      engineStep = err;
    }
    expect(engineStep).toBeInstanceOf(ConnectionHeldError);
    expect((engineStep as Error).message).toMatch(/^store\.transaction ran while an asynchronous transaction holds the SQLite connection/);
    await expect(api).rejects.toBeInstanceOf(TransactionYieldedError);
    expect(sync.listApplications()).toEqual([]);
    // Once the connection is free again, the synchronous store works as before.
    sync.transaction(() => sync.putApplication(app('engine')));
    expect(sync.getApplication('engine')?.applicationName).toBe('engine');
  });

  it('refuses a bare synchronous call from another chain of the same turn, without the body yielding', async () => {
    const refused: unknown[] = [];
    const other = async () => {
      await undefined;
      for (const call of [() => sync.putApplication(app('other')), () => sync.getApplication('api')]) {
        try {
          call();
        } catch (err) {
          refused.push(err);
        }
        await undefined; // each turn of this chain runs between two of the body's awaits
      }
    };
    const api = store.transaction(async (tx) => {
      for (let i = 0; i < 5; i++) await tx.getApplication('api');
      await tx.putApplication(app('api'));
    });
    await Promise.all([api, other()]);
    expect(refused).toHaveLength(2);
    for (const err of refused) expect(err).toBeInstanceOf(ConnectionHeldError);
    expect((refused[0] as Error).message).toMatch(/^a synchronous store call ran while an asynchronous transaction holds/);
    expect(sync.listApplications().map((a) => a.applicationName)).toEqual(['api']);
  });

  it('lets the body itself use the connection: tx calls with nested transactions, and synchronous calls made by the body', async () => {
    await store.transaction(async (tx) => {
      await tx.putInstance(instance('i-1')); // a nested db.transaction inside the SQLite store
      await tx.putResourceTags('id-x', [{ Key: 'a', Value: 'b' }]);
      sync.putApplication(app('from-body'));
      await tx.transaction(async (inner) => inner.putApplication(app('savepoint')));
    });
    expect(sync.getInstance('i-1')?.instanceName).toBe('i-1');
    expect(sync.listApplications().map((a) => a.applicationName)).toEqual(['from-body', 'savepoint']);
  });

  it('rolls back a body that yields to the event loop even when nothing else touched the connection', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.putApplication(app('api'));
        await new Promise((resolve) => setImmediate(resolve));
      }),
    ).rejects.toThrow(/rolled back: its body awaited something other than its tx calls/);
    expect(sync.listApplications()).toEqual([]);
    // The store serves the next transaction normally.
    await store.transaction(async (tx) => tx.putApplication(app('next')));
    expect(sync.getApplication('next')?.applicationName).toBe('next');
  });

  it('refuses a second asynchronous adapter opening a transaction on a held connection', async () => {
    const second = asyncSqliteStore(sync);
    let inner: Promise<unknown> | undefined;
    await store.transaction(async (tx) => {
      inner = second.transaction(async (t2) => t2.putApplication(app('second')));
      await tx.putApplication(app('first'));
    });
    await expect(inner).rejects.toThrow(/already held by an asynchronous transaction/);
    expect(sync.listApplications().map((a) => a.applicationName)).toEqual(['first']);
  });
});
