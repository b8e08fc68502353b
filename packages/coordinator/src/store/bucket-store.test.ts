import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBucketStore, DEFAULT_CONTENT_TYPE } from './bucket-store.js';
import type { BucketStore, NewObject } from './bucket-store.js';
import { migration } from './migrations/002-bucket.js';
import { multipartEtag } from './multipart-completion.js';

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

describe('buckets', () => {
  it('creates, gets, lists by name and deletes buckets', () => {
    expect(store.createBucket('zeta', 2000)).toEqual({ name: 'zeta', createdAt: 2000 });
    store.createBucket('alpha', 1000);
    expect(store.getBucket('alpha')).toEqual({ name: 'alpha', createdAt: 1000 });
    expect(store.listBuckets().map((b) => b.name)).toEqual(['alpha', 'zeta']);
    store.deleteBucket('alpha');
    expect(store.getBucket('alpha')).toBeUndefined();
    expect(store.listBuckets().map((b) => b.name)).toEqual(['zeta']);
  });

  it('refuses a second bucket of the same name: BucketAlreadyOwnedByYou', () => {
    store.createBucket('b', 1);
    expect(() => store.createBucket('b', 2)).toThrow(expect.objectContaining({ code: 'BucketAlreadyOwnedByYou' }));
    expect(store.getBucket('b')?.createdAt).toBe(1);
  });

  it('refuses to delete a missing bucket (NoSuchBucket) or one with objects (BucketNotEmpty)', () => {
    expect(() => store.deleteBucket('nope')).toThrow(expect.objectContaining({ code: 'NoSuchBucket', name: 'BucketStoreError' }));
    store.createBucket('b', 1);
    store.putObject(obj('k'), 5);
    expect(() => store.deleteBucket('b')).toThrow(expect.objectContaining({ code: 'BucketNotEmpty' }));
    expect(store.getBucket('b')).toBeDefined();
  });

  it('deleting a bucket aborts its multipart uploads', () => {
    store.createBucket('b', 1);
    const u = store.createUpload({ bucket: 'b', key: 'k' }, 2);
    store.putPart({ uploadId: u.uploadId, partNumber: 1, sha256: sha('c'), size: 1, etag: '"x"' }, 3);
    store.deleteBucket('b');
    expect(store.getUpload(u.uploadId)).toBeUndefined();
    expect(db.prepare('SELECT count(*) FROM bucket_upload_parts').pluck().get()).toBe(0);
  });
});

describe('objects', () => {
  beforeEach(() => store.createBucket('b', 1));

  it('records an object with its blob, ETag, content type (default binary/octet-stream) and time', () => {
    expect(store.putObject(obj('app.zip'), 1234)).toEqual({
      bucket: 'b',
      key: 'app.zip',
      sha256: sha('a'),
      size: 3,
      etag: '"900150983cd24fb0d6963f7d28e17f72"',
      lastModified: 1234,
      contentType: DEFAULT_CONTENT_TYPE,
    });
    store.putObject(obj('app.zip', { sha256: sha('b'), size: 9, etag: '"e"', contentType: 'application/zip' }), 2000);
    expect(store.getObject('b', 'app.zip')).toMatchObject({ sha256: sha('b'), size: 9, etag: '"e"', contentType: 'application/zip', lastModified: 2000 });
    expect(store.getObject('b', 'other')).toBeUndefined();
    expect(store.getObject('other', 'app.zip')).toBeUndefined();
  });

  it('refuses objects in a missing bucket: NoSuchBucket', () => {
    expect(() => store.putObject(obj('k', { bucket: 'nope' }), 1)).toThrow(expect.objectContaining({ code: 'NoSuchBucket' }));
    expect(() => store.listObjects('nope')).toThrow(expect.objectContaining({ code: 'NoSuchBucket' }));
    expect(() => store.deleteObject('nope', 'k')).toThrow(expect.objectContaining({ code: 'NoSuchBucket' }));
  });

  it('deletes an object and returns it; deleting a missing key returns undefined', () => {
    store.putObject(obj('k'), 1);
    expect(store.deleteObject('b', 'k')?.key).toBe('k');
    expect(store.getObject('b', 'k')).toBeUndefined();
    expect(store.deleteObject('b', 'k')).toBeUndefined();
  });
});

describe('listObjects', () => {
  const keys = ['a.txt', 'photos/2024/jan.jpg', 'photos/2024/feb.jpg', 'photos/2025/mar.jpg', 'photos/index.html', 'videos/x.mp4', 'z'];
  beforeEach(() => {
    store.createBucket('b', 1);
    for (const key of keys) store.putObject(obj(key), 1);
  });
  const names = (l: ReturnType<BucketStore['listObjects']>) => ({ keys: l.objects.map((o) => o.key), prefixes: l.commonPrefixes });

  it('lists every key in order without a delimiter', () => {
    const l = store.listObjects('b');
    expect(l.objects.map((o) => o.key)).toEqual([...keys].sort());
    expect(l.isTruncated).toBe(false);
    expect(l.next).toBeUndefined();
  });

  it('rolls keys up into common prefixes with a delimiter, under a prefix', () => {
    expect(names(store.listObjects('b', { delimiter: '/' }))).toEqual({ keys: ['a.txt', 'z'], prefixes: ['photos/', 'videos/'] });
    expect(names(store.listObjects('b', { prefix: 'photos/', delimiter: '/' }))).toEqual({
      keys: ['photos/index.html'],
      prefixes: ['photos/2024/', 'photos/2025/'],
    });
    expect(names(store.listObjects('b', { prefix: 'photos/2024/' }))).toEqual({ keys: ['photos/2024/feb.jpg', 'photos/2024/jan.jpg'], prefixes: [] });
    expect(names(store.listObjects('b', { prefix: 'nothing' }))).toEqual({ keys: [], prefixes: [] });
  });

  it('pages with maxKeys counting keys and prefixes; next resumes after a prefix without repeating it', () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let page = 0; page < 10; page++) {
      const l = store.listObjects('b', { delimiter: '/', maxKeys: 1, after });
      seen.push(...l.objects.map((o) => o.key), ...l.commonPrefixes);
      if (!l.isTruncated) break;
      after = l.next;
    }
    expect(seen).toEqual(['a.txt', 'photos/', 'videos/', 'z']);
  });

  it('treats after as exclusive (start-after) and stops truncation exactly at the last item', () => {
    expect(names(store.listObjects('b', { after: 'photos/index.html' }))).toEqual({ keys: ['videos/x.mp4', 'z'], prefixes: [] });
    const l = store.listObjects('b', { maxKeys: 7 });
    expect(l.objects).toHaveLength(7);
    expect(l.isTruncated).toBe(false);
    expect(store.listObjects('b', { maxKeys: 6 })).toMatchObject({ isTruncated: true, next: 'videos/x.mp4' });
  });

  it('returns nothing for maxKeys 0 and caps pages at 1000', () => {
    expect(store.listObjects('b', { maxKeys: 0 })).toEqual({ objects: [], commonPrefixes: [], isTruncated: false });
    const insert = db.transaction(() => {
      for (let i = 0; i < 1100; i++) store.putObject(obj(`many/${String(i).padStart(4, '0')}`), 1);
    });
    insert();
    const l = store.listObjects('b', { prefix: 'many/', maxKeys: 5000 });
    expect(l.objects).toHaveLength(1000);
    expect(l.isTruncated).toBe(true);
  });

  it('orders keys by UTF-8 bytes, as S3 does (U+FF5E sorts before U+1F600, unlike UTF-16 order)', () => {
    store.createBucket('u', 1);
    for (const key of ['\u{1F600}', '\uFF5E', 'A']) store.putObject(obj(key, { bucket: 'u' }), 1);
    expect(store.listObjects('u').objects.map((o) => o.key)).toEqual(['A', '\uFF5E', '\u{1F600}']);
  });
});

describe('multipart uploads', () => {
  beforeEach(() => store.createBucket('b', 1));
  const part = (uploadId: string, partNumber: number, size: number, etag: string) =>
    store.putPart({ uploadId, partNumber, sha256: sha(String(partNumber)), size, etag }, 100 + partNumber);

  it('creates an upload with a fresh random id and the content type given', () => {
    const a = store.createUpload({ bucket: 'b', key: 'k', contentType: 'application/zip' }, 7);
    const b = store.createUpload({ bucket: 'b', key: 'k' }, 8);
    expect(a.uploadId).not.toBe(b.uploadId);
    expect(a.uploadId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(store.getUpload(a.uploadId)).toEqual({ uploadId: a.uploadId, bucket: 'b', key: 'k', contentType: 'application/zip', initiated: 7 });
    expect(b.contentType).toBe(DEFAULT_CONTENT_TYPE);
    expect(() => store.createUpload({ bucket: 'nope', key: 'k' }, 1)).toThrow(expect.objectContaining({ code: 'NoSuchBucket' }));
  });

  it('records parts (a re-sent part replaces the earlier one) and lists them in pages', () => {
    const { uploadId } = store.createUpload({ bucket: 'b', key: 'k' }, 1);
    part(uploadId, 3, 10, '"c"');
    part(uploadId, 1, 10, '"old"');
    part(uploadId, 1, 11, '"a"');
    part(uploadId, 2, 10, '"b"');
    const all = store.listParts(uploadId);
    expect(all.parts.map((p) => [p.partNumber, p.size, p.etag])).toEqual([[1, 11, '"a"'], [2, 10, '"b"'], [3, 10, '"c"']]);
    expect(all.isTruncated).toBe(false);
    const first = store.listParts(uploadId, { maxParts: 2 });
    expect(first).toMatchObject({ isTruncated: true, nextPartNumberMarker: 2 });
    expect(store.listParts(uploadId, { partNumberMarker: 2 }).parts.map((p) => p.partNumber)).toEqual([3]);
  });

  it('completes: checks the list, records the object with the multipart ETag and forgets the upload', () => {
    const { uploadId } = store.createUpload({ bucket: 'b', key: 'big.zip', contentType: 'application/zip' }, 1);
    part(uploadId, 1, 10, '"0cc175b9c0f1b6a831c399e269772661"');
    part(uploadId, 2, 4, '"92eb5ffee6ae2fec3ad71c777531578f"');
    const order = store.planCompletion(uploadId, [
      { partNumber: 1, etag: '0cc175b9c0f1b6a831c399e269772661' },
      { partNumber: 2, etag: '"92eb5ffee6ae2fec3ad71c777531578f"' },
    ]);
    expect(order.parts.map((p) => p.sha256)).toEqual([sha('1'), sha('2')]);
    expect(order.size).toBe(14);
    expect(order.etag).toBe(multipartEtag(['0cc175b9c0f1b6a831c399e269772661', '92eb5ffee6ae2fec3ad71c777531578f']));
    const record = store.completeUpload(uploadId, { sha256: sha('f'), size: 14, etag: order.etag }, 500);
    expect(record).toEqual({ bucket: 'b', key: 'big.zip', sha256: sha('f'), size: 14, etag: order.etag, lastModified: 500, contentType: 'application/zip' });
    expect(store.getObject('b', 'big.zip')).toEqual(record);
    expect(store.getUpload(uploadId)).toBeUndefined();
    expect(db.prepare('SELECT count(*) FROM bucket_upload_parts').pluck().get()).toBe(0);
    expect(() => store.completeUpload(uploadId, { sha256: sha('f'), size: 14, etag: order.etag }, 501)).toThrow(
      expect.objectContaining({ code: 'NoSuchUpload' }),
    );
  });

  it('refuses bad part lists: InvalidPart, InvalidPartOrder, EntityTooSmall', () => {
    const { uploadId } = store.createUpload({ bucket: 'b', key: 'k' }, 1);
    part(uploadId, 1, 5, '"a"');
    part(uploadId, 2, 20, '"b"');
    expect(() => store.planCompletion(uploadId, [{ partNumber: 1, etag: '"zz"' }])).toThrow(expect.objectContaining({ code: 'InvalidPart' }));
    expect(() => store.planCompletion(uploadId, [{ partNumber: 2, etag: 'b' }, { partNumber: 1, etag: 'a' }])).toThrow(
      expect.objectContaining({ code: 'InvalidPartOrder' }),
    );
    expect(() => store.planCompletion(uploadId, [{ partNumber: 1, etag: 'a' }, { partNumber: 2, etag: 'b' }])).toThrow(
      expect.objectContaining({ code: 'EntityTooSmall' }),
    );
    expect(store.planCompletion(uploadId, [{ partNumber: 2, etag: 'b' }]).size).toBe(20);
  });

  it('aborts an upload; unknown uploads are NoSuchUpload everywhere', () => {
    const { uploadId } = store.createUpload({ bucket: 'b', key: 'k' }, 1);
    part(uploadId, 1, 5, '"a"');
    store.abortUpload(uploadId);
    expect(store.getUpload(uploadId)).toBeUndefined();
    const noSuch = expect.objectContaining({ code: 'NoSuchUpload' });
    expect(() => store.abortUpload(uploadId)).toThrow(noSuch);
    expect(() => part(uploadId, 1, 5, '"a"')).toThrow(noSuch);
    expect(() => store.listParts(uploadId)).toThrow(noSuch);
    expect(() => store.planCompletion(uploadId, [{ partNumber: 1, etag: 'a' }])).toThrow(noSuch);
  });
});

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
