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

  it('refuses a synchronous call from code the body wakes, though the body never yields', async () => {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const refused: unknown[] = [];
    const other = woken.then(() => {
      try {
        sync.putApplication(app('other'));
      } catch (err) {
        refused.push(err);
      }
    });
    await store.transaction(async (tx) => {
      wake(); // the woken code runs between two of the body's awaits
      await tx.getApplication('api');
      await tx.putApplication(app('api'));
    });
    await other;
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(ConnectionHeldError);
    expect((refused[0] as Error).message).toMatch(/^a synchronous store call ran while an asynchronous transaction holds/);
    expect(sync.listApplications().map((a) => a.applicationName)).toEqual(['api']);
  });

  it('begins each transaction on a turn of its own: whoever awaited the one before goes on first, outside both', async () => {
    const seen: string[] = [];
    const first = store
      .transaction(async (tx) => tx.putApplication(app('first')))
      .then(() => {
        // What an operation does once its transaction committed: tell the engine, which writes synchronously.
        sync.transaction(() => sync.putApplication(app('engine')));
        seen.push('engine');
      });
    const second = store.transaction(async (tx) => {
      for (let i = 0; i < 5; i++) await tx.getApplication('first');
      seen.push('second');
      await tx.putApplication(app('second'));
    });
    await Promise.all([first, second]);
    expect(seen).toEqual(['engine', 'second']);
    expect(sync.listApplications().map((a) => a.applicationName)).toEqual(['engine', 'first', 'second']);
  });

  it('makes a call that arrives while a transaction holds the connection wait for its commit', async () => {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const read = woken.then(() => store.getApplication('api'));
    await store.transaction(async (tx) => {
      wake();
      await tx.putApplication(app('api'));
      await tx.getApplication('api');
    });
    expect((await read)?.applicationName).toBe('api');
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
    // Its outcome is taken as it settles: it is refused while `first` still waits, before anyone awaits it.
    let inner: Promise<unknown> | undefined;
    const first = store.transaction(async (tx) => {
      await tx.putApplication(app('first'));
      inner = second.transaction(async (t2) => t2.putApplication(app('second'))).then(
        () => 'committed',
        (err: unknown) => err,
      );
      await timer(5); // the rule broken, so that the second adapter's turn comes while this one holds the connection
    });
    await expect(first).rejects.toBeInstanceOf(TransactionYieldedError);
    expect(await inner).toBeInstanceOf(Error);
    expect(((await inner) as Error).message).toMatch(/already held by an asynchronous transaction/);
    expect(sync.listApplications()).toEqual([]);
  });
});
