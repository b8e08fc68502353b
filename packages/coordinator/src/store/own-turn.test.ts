import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ownTurn } from './own-turn.js';
import type { SqliteStore } from './sqlite-store.js';
import { openSqliteStore } from './sqlite-store.js';

describe('ownTurn', () => {
  let dir: string;
  let store: SqliteStore;
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const open = (): SqliteStore => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-own-turn-'));
    store = openSqliteStore(dir);
    return store;
  };

  /**
   * twoChains opens a transaction held across a few awaits of settled promises (as an asynchronous
   * transaction's body awaits its tx calls) and, in the same turn, starts a chain that looks at the
   * connection through `wrap`.
   */
  async function twoChains(wrap: <T>(fn: () => T | Promise<T>) => Promise<T>): Promise<boolean[]> {
    const { db } = open();
    const seen: boolean[] = [];
    const tx = wrap(async () => {
      db.exec('BEGIN IMMEDIATE');
      for (let i = 0; i < 5; i++) await Promise.resolve();
      db.exec('COMMIT');
    });
    const looks = (async () => {
      for (let i = 0; i < 5; i++) seen.push(await wrap(() => db.inTransaction));
    })();
    await Promise.all([tx, looks]);
    return seen;
  }

  it('without it, a chain of the same turn finds another chain\'s transaction open on the shared connection', async () => {
    const seen = await twoChains(async (fn) => fn());
    expect(seen).toContain(true);
  });

  it('with it, no synchronous call meets another chain\'s open transaction', async () => {
    const seen = await twoChains(ownTurn);
    expect(seen).toEqual([false, false, false, false, false]);
  });

  it('runs the function\'s value, its rejection or its throw through the promise', async () => {
    expect(await ownTurn(() => 7)).toBe(7);
    await expect(ownTurn(() => Promise.reject(new Error('rejected')))).rejects.toThrow('rejected');
    await expect(
      ownTurn(() => {
        throw new Error('thrown');
      }),
    ).rejects.toThrow('thrown');
  });
});
