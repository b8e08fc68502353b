import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBucketStore } from './bucket-store.js';
import type { BucketStore, NewObject } from './bucket-store.js';
import { migration } from './migrations/002-bucket.js';

let dir: string;
let db: Database.Database;
let store: BucketStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bucket-store-'));
  db = new Database(path.join(dir, 'coordinator.db'));
  db.pragma('journal_mode = WAL');
  db.exec(migration.sql);
  store = createBucketStore(db, { minPartSize: 10 });
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (c: string): string => c.repeat(64);
const obj = (key: string, extra: Partial<NewObject> = {}): NewObject => ({
  bucket: 'b',
  key,
  sha256: sha('a'),
  size: 3,
  etag: '"900150983cd24fb0d6963f7d28e17f72"',
  ...extra,
});

describe('migration 002-bucket', () => {
  it('is version 2 named bucket and creates the four bucket tables', () => {
    expect(migration).toMatchObject({ version: 2, name: 'bucket' });
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    expect(tables).toEqual(['bucket_buckets', 'bucket_objects', 'bucket_upload_parts', 'bucket_uploads']);
  });
});

// The store's behaviour is the side store contract's (testing/side-store-contract.ts), run on SQLite and PostgreSQL.
describe('durability', () => {
  it('keeps everything across a reopen of the database file', () => {
    store.createBucket('b', 1);
    store.putObject(obj('k'), 2);
    const { uploadId } = store.createUpload({ bucket: 'b', key: 'u' }, 3);
    db.close();
    db = new Database(path.join(dir, 'coordinator.db'));
    const reopened = createBucketStore(db);
    expect(reopened.getObject('b', 'k')?.lastModified).toBe(2);
    expect(reopened.getUpload(uploadId)?.key).toBe('u');
  });
});
