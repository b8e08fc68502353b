import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { transactionRunner } from './sqlite-transaction.js';

describe('transactionRunner', () => {
  let dir: string;
  let db: Database.Database;
  const rows = () => db.prepare('SELECT v FROM t ORDER BY v').pluck().all();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-tx-'));
    db = new Database(path.join(dir, 'x.db'));
    db.exec('CREATE TABLE t (v INTEGER)');
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('commits what the function wrote and returns its result', () => {
    const run = transactionRunner(db);
    expect(run(() => (db.exec('INSERT INTO t VALUES (1), (2)'), 'done'))).toBe('done');
    expect(db.inTransaction).toBe(false);
    expect(rows()).toEqual([1, 2]);
  });

  it('writes nothing when the function throws, and throws its error', () => {
    const run = transactionRunner(db);
    expect(() => run(() => { db.exec('INSERT INTO t VALUES (1)'); throw new Error('no'); })).toThrow('no');
    expect(db.inTransaction).toBe(false);
    expect(rows()).toEqual([]);
  });

  it('undoes only a nested call that throws, as a savepoint, and keeps the rest', () => {
    const run = transactionRunner(db);
    run(() => {
      db.exec('INSERT INTO t VALUES (1)');
      expect(() => run(() => { db.exec('INSERT INTO t VALUES (2)'); throw new Error('inner'); })).toThrow('inner');
      run(() => run(() => db.exec('INSERT INTO t VALUES (3)')));
    });
    expect(rows()).toEqual([1, 3]);
  });

  it('refuses a function that returns a promise, and writes nothing of it', () => {
    const run = transactionRunner(db);
    expect(() => run(async () => db.exec('INSERT INTO t VALUES (1)'))).toThrow(/cannot return a promise/);
    expect(db.inTransaction).toBe(false);
    expect(rows()).toEqual([]);
  });

  it('is not confused when SQLite already ended the transaction itself', () => {
    const run = transactionRunner(db);
    expect(() => run(() => { db.exec('INSERT INTO t VALUES (1)'); db.exec('ROLLBACK'); throw new Error('after'); })).toThrow('after');
    expect(db.inTransaction).toBe(false);
    expect(run(() => db.exec('INSERT INTO t VALUES (5)'))).toBeDefined();
    expect(rows()).toEqual([5]);
  });
});
