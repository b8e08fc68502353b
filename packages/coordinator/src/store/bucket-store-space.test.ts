/**
 * The bucket store's part in freeing space: which blobs each change releases, listing and expiring
 * unfinished uploads, and the per-bucket quota. Real SQLite in a temp dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBucketStore, isBucketStoreError } from './bucket-store.js';
import type { BucketStore, NewObject } from './bucket-store.js';
import { migration } from './migrations/002-bucket.js';

let dir: string;
let db: Database.Database;
let store: BucketStore;
let released: string[][];
let quotas: Record<string, number>;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bucket-space-'));
  db = new Database(path.join(dir, 'coordinator.db'));
  db.exec(migration.sql);
  released = [];
  quotas = {};
  store = createBucketStore(db, { minPartSize: 10, quotaBytes: (b) => quotas[b], released: (s) => released.push([...s]) });
  store.createBucket('b', 1);
});
afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (c: string): string => c.repeat(64);
const obj = (key: string, digit: string, size = 3): NewObject => ({ bucket: 'b', key, sha256: sha(digit), size, etag: `"${digit}"` });
const part = (uploadId: string, partNumber: number, digit: string, size = 10) => ({ uploadId, partNumber, sha256: sha(digit), size, etag: `"${digit}"` });

/** refusal runs `fn` and returns the code and message of the BucketStoreError it throws. */
function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isBucketStoreError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('released blobs', () => {
  it('an overwrite releases the old blob, not a rewrite of the same bytes; a delete releases its blob', () => {
    store.putObject(obj('k', 'a'), 1);
    expect(released).toEqual([]);
    store.putObject(obj('k', 'a'), 2);
    expect(released).toEqual([]);
    store.putObject(obj('k', 'b'), 3);
    expect(released).toEqual([[sha('a')]]);
    store.deleteObject('b', 'k');
    expect(released).toEqual([[sha('a')], [sha('b')]]);
    store.deleteObject('b', 'k');
    expect(released).toHaveLength(2);
  });

  it('a completed upload releases its parts and the object it replaced, but not the blob it now names', () => {
    store.putObject(obj('k', 'c'), 1);
    const u = store.createUpload({ bucket: 'b', key: 'k' }, 1);
    store.putPart(part(u.uploadId, 1, 'd'), 2);
    store.putPart(part(u.uploadId, 1, 'e'), 3);
    expect(released).toEqual([[sha('d')]]);
    store.putPart(part(u.uploadId, 2, 'f'), 3);
    store.completeUpload(u.uploadId, { sha256: sha('f'), size: 20, etag: '"x-2"' }, 4);
    expect(released[1]!.sort()).toEqual([sha('c'), sha('e')]);
  });

  it('abort, bucket deletion and expiry release the parts of the uploads they end', () => {
    const a = store.createUpload({ bucket: 'b', key: 'k' }, 1);
    store.putPart(part(a.uploadId, 1, '1'), 1);
    store.abortUpload(a.uploadId);
    expect(released).toEqual([[sha('1')]]);

    const old = store.createUpload({ bucket: 'b', key: 'old' }, 100);
    store.putPart(part(old.uploadId, 1, '2'), 100);
    const fresh = store.createUpload({ bucket: 'b', key: 'fresh' }, 200);
    store.putPart(part(fresh.uploadId, 1, '3'), 200);
    expect(store.expireUploads(150).map((u) => u.uploadId)).toEqual([old.uploadId]);
    expect(released[1]).toEqual([sha('2')]);
    expect(store.getUpload(old.uploadId)).toBeUndefined();
    expect(store.listParts(fresh.uploadId).parts).toHaveLength(1);
    expect(store.expireUploads(150)).toEqual([]);
    expect(released).toHaveLength(2);

    store.deleteBucket('b');
    expect(released[2]).toEqual([sha('3')]);
  });

  it('a refused change releases nothing', () => {
    store.putObject(obj('k', 'a'), 1);
    store.createBucket('full', 1);
    store.putObject({ ...obj('k', 'a'), bucket: 'full' }, 1);
    expect(refusal(() => store.deleteBucket('full')).code).toBe('BucketNotEmpty');
    expect(refusal(() => store.abortUpload('nope')).code).toBe('NoSuchUpload');
    expect(released).toEqual([]);
  });
});

describe('listUploads', () => {
  it('lists by key then initiation, rolls up by delimiter and pages with key and upload-id markers', () => {
    const a1 = store.createUpload({ bucket: 'b', key: 'a' }, 1);
    const a2 = store.createUpload({ bucket: 'b', key: 'a' }, 2);
    const d = store.createUpload({ bucket: 'b', key: 'dir/x' }, 3);
    store.createUpload({ bucket: 'b', key: 'dir/y' }, 4);
    const z = store.createUpload({ bucket: 'b', key: 'z' }, 0);
    const ids = (l: { uploads: { uploadId: string }[] }) => l.uploads.map((u) => u.uploadId);

    const all = store.listUploads('b');
    expect(all.uploads.map((u) => u.key)).toEqual(['a', 'a', 'dir/x', 'dir/y', 'z']);
    expect(ids(all).slice(0, 2)).toEqual([a1.uploadId, a2.uploadId]);
    expect(all).toMatchObject({ isTruncated: false, commonPrefixes: [] });
    expect(all.nextKeyMarker).toBeUndefined();

    const rolled = store.listUploads('b', { delimiter: '/' });
    expect(rolled.commonPrefixes).toEqual(['dir/']);
    expect(ids(rolled)).toEqual([a1.uploadId, a2.uploadId, z.uploadId]);

    const first = store.listUploads('b', { maxUploads: 1 });
    expect(first).toMatchObject({ isTruncated: true, nextKeyMarker: 'a', nextUploadIdMarker: a1.uploadId });
    const second = store.listUploads('b', { maxUploads: 2, keyMarker: 'a', uploadIdMarker: a1.uploadId });
    expect(ids(second)).toEqual([a2.uploadId, d.uploadId]);
    expect(ids(store.listUploads('b', { keyMarker: 'a' }))[0]).toBe(d.uploadId);
    expect(ids(store.listUploads('b', { prefix: 'dir/', keyMarker: 'dir/x' }))).toHaveLength(1);
    expect(store.listUploads('b', { maxUploads: 0 }).uploads).toEqual([]);
    expect(refusal(() => store.listUploads('nope')).code).toBe('NoSuchBucket');
  });
});

describe('the quota', () => {
  it('counts objects and parts, refuses a write past it with QuotaExceeded naming the numbers, and lets a replacement reuse its room', () => {
    quotas.b = 100;
    store.putObject(obj('k', 'a', 60), 1);
    expect(store.usage('b')).toBe(60);
    expect(store.room('b', { key: 'other' })).toBe(40);
    expect(store.room('b', { key: 'k' })).toBe(100);

    const r = refusal(() => store.putObject(obj('other', 'b', 41), 2));
    expect(r.code).toBe('QuotaExceeded');
    expect(r.message).toMatch(/Bucket b is over its quota: it holds 60 bytes .*its quota is 100 bytes \(bucket_quota_bytes\), and this write of 41 bytes does not fit/);
    expect(r.message).toMatch(/aws s3api list-multipart-uploads/);
    expect(store.getObject('b', 'other')).toBeUndefined();
    store.putObject(obj('k', 'c', 100), 3); // replaces the 60 bytes

    const u = store.createUpload({ bucket: 'b', key: 'big' }, 4);
    expect(refusal(() => store.putPart(part(u.uploadId, 1, 'd', 1), 5)).code).toBe('QuotaExceeded');
    store.putObject(obj('k', 'c', 50), 6);
    store.putPart(part(u.uploadId, 1, 'd', 30), 7);
    expect(store.usage('b')).toBe(80);
    expect(store.room('b', { uploadId: u.uploadId, partNumber: 1 })).toBe(50);
    store.putPart(part(u.uploadId, 1, 'e', 50), 8); // replaces part 1's 30 bytes
    expect(() => store.checkQuota('b', { key: 'x' }, 1)).toThrow(/over its quota/);
    expect(() => store.checkQuota('b', { key: 'x' }, 0)).not.toThrow();
  });

  it('applies to the bucket it is set for only', () => {
    quotas.small = 1;
    store.createBucket('small', 1);
    expect(store.room('b', { key: 'k' })).toBeUndefined();
    store.putObject(obj('k', 'a', 1_000_000), 1);
    expect(refusal(() => store.putObject({ ...obj('k', 'a', 2) , bucket: 'small' }, 1)).code).toBe('QuotaExceeded');
  });
});
