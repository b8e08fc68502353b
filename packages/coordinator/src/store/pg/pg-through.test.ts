import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asyncSqliteStore } from '../async-store.js';
import type { AsyncStore } from '../async-store.js';
import { openSqliteStore } from '../sqlite-store.js';
import type { PgQuery } from './pg-store.js';
import { pgThrough } from './pg-side-stores.js';

describe('pgThrough', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('opens the side store over a handle that runs statements', () => {
    const handle = { query: () => Promise.resolve({ rows: [], rowCount: 0 }) } as unknown as AsyncStore & PgQuery;
    const seen: PgQuery[] = [];
    const open = pgThrough((db) => (seen.push(db), { opened: true }), 'certificate store');
    expect(open(handle)).toEqual({ opened: true });
    expect(seen).toEqual([handle]);
  });

  it('refuses another AsyncStore, naming the side store, since its writes would not join that store\'s transactions', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-pgthrough-'));
    const sqlite = openSqliteStore(dir);
    try {
      const open = pgThrough(() => ({}), 'certificate store');
      expect(() => open(asyncSqliteStore(sqlite))).toThrow(/the PostgreSQL certificate store needs a PgStore or one of its transaction handles/);
    } finally {
      sqlite.close();
    }
  });
});
