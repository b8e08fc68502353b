import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asyncSqliteStore } from './async-store.js';
import { openSqliteStore } from './sqlite-store.js';
import { defineStoreContract } from '../testing/store-contract.js';
import { createLoopPriority } from '../loop-priority.js';

describe('SQLite store through the asynchronous adapter: the store contract', () => {
  defineStoreContract(
    async () => {
      const store = asyncSqliteStore(openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-async-sqlite-'))));
      return { store, replica: async () => store };
    },
    { concurrentTransactions: false },
  );
});

describe('SQLite store through the asynchronous adapter: transaction time', () => {
  it('tells observe the time of each outermost transaction, committed or rolled back', async () => {
    const seconds: number[] = [];
    const sync = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-async-sqlite-')));
    const store = asyncSqliteStore(sync, { observe: (s) => seconds.push(s) });
    await store.transaction(async (tx) => tx.transaction(async (inner) => inner.getApplication('a')));
    await expect(store.transaction(async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await store.getApplication('a'); // not a transaction
    expect(seconds).toHaveLength(2);
    for (const s of seconds) expect(s).toBeGreaterThan(0);
    sync.close();
  });
});

describe('SQLite store through the asynchronous adapter: loop priority', () => {
  it('counts the transactions waiting for their turn, so the engine\'s background turns can give way to them', async () => {
    const priority = createLoopPriority();
    const sync = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-async-sqlite-')));
    const store = asyncSqliteStore(sync, { priority });
    const seen: number[] = [];
    const first = store.transaction(async (tx) => void seen.push(priority.waiting(), (await tx.listApplications()).length));
    const second = store.transaction(async () => void seen.push(priority.waiting()));
    expect(priority.waiting()).toBe(2); // neither has had its turn yet
    await Promise.all([first, second]);
    expect(seen).toEqual([1, 0, 0]); // the second waited while the first ran
    expect(priority.waiting()).toBe(0);
    sync.close();
  });
});
