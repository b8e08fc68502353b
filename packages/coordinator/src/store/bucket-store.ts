/**
 * The revision bucket's metadata in SQLite (tables from migration 002-bucket): buckets, the objects
 * in them and multipart uploads in progress. Object bytes are not here; each record names its blob
 * by SHA-256. Every method is synchronous (better-sqlite3) and each change is one transaction.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { planCompletion } from './multipart-completion.js';
import type { CompletionRejection, RequestedPart } from './multipart-completion.js';

/** BucketRecord is one bucket; `createdAt` is in ms since the epoch. */
export interface BucketRecord {
  name: string;
  createdAt: number;
}

/** ObjectRecord is one object: which blob holds its bytes, and what S3 reports about it. */
export interface ObjectRecord {
  bucket: string;
  key: string;
  sha256: string;
  size: number;
  /** etag is as S3 sends it, quoted: `"<md5 hex>"` or `"<hex>-<parts>"`. */
  etag: string;
  /** lastModified is in ms since the epoch. */
  lastModified: number;
  contentType: string;
}

/** NewObject is what {@link BucketStore.putObject} needs; the content type defaults to S3's. */
export interface NewObject {
  bucket: string;
  key: string;
  sha256: string;
  size: number;
  etag: string;
  contentType?: string;
}

/** UploadRecord is a multipart upload in progress. */
export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  contentType: string;
  initiated: number;
}

/** PartRecord is one received part of a multipart upload. */
export interface PartRecord {
  uploadId: string;
  partNumber: number;
  sha256: string;
  size: number;
  etag: string;
  lastModified: number;
}

/**
 * ListObjectsOptions narrows a listing. `after` is exclusive: a key, a start-after value or the
 * `next` of a previous page. When `delimiter` is set, keys with the delimiter after the prefix are
 * rolled up into common prefixes; an `after` that is itself such a common prefix skips all its keys.
 */
export interface ListObjectsOptions {
  prefix?: string;
  after?: string;
  delimiter?: string;
  /** maxKeys caps objects plus common prefixes; default and ceiling {@link MAX_LIST_KEYS}. */
  maxKeys?: number;
}

/** ObjectListing is one page: `next` (set when truncated) is the last key or prefix on it. */
export interface ObjectListing {
  objects: ObjectRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  next?: string;
}

/** ListPartsOptions pages through parts: those numbered above `partNumberMarker`, at most `maxParts`. */
export interface ListPartsOptions {
  partNumberMarker?: number;
  maxParts?: number;
}

/** PartListing is one page of parts; `nextPartNumberMarker` is set when truncated. */
export interface PartListing {
  upload: UploadRecord;
  parts: PartRecord[];
  isTruncated: boolean;
  nextPartNumberMarker?: number;
}

/** CompletionOrder is an accepted part list: the parts to concatenate, in order, and the result's ETag. */
export interface CompletionOrder {
  upload: UploadRecord;
  parts: PartRecord[];
  etag: string;
  size: number;
}

/** DEFAULT_CONTENT_TYPE is what S3 records for an object stored without a Content-Type. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/** MAX_LIST_KEYS is the largest page S3 returns, and the default page size. */
export const MAX_LIST_KEYS = 1000;

/** BucketStoreErrorCode lists the refusals the store makes; each is also an S3 error code. */
export type BucketStoreErrorCode =
  | 'NoSuchBucket'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'NoSuchUpload'
  | CompletionRejection;

/** BucketStoreError is what the store throws when a request cannot be done; branch on `code`. */
export class BucketStoreError extends Error {
  readonly code: BucketStoreErrorCode;

  constructor(code: BucketStoreErrorCode, message: string) {
    super(message);
    this.name = 'BucketStoreError';
    this.code = code;
  }
}

/** isBucketStoreError tells a {@link BucketStoreError} apart from anything else thrown, by shape. */
export function isBucketStoreError(err: unknown): err is BucketStoreError {
  return err instanceof Error && err.name === 'BucketStoreError' && 'code' in err;
}

/** BucketStore is the metadata store made by {@link createBucketStore}. */
export interface BucketStore {
  /** createBucket adds a bucket; BucketAlreadyOwnedByYou if it exists. Names are checked by the API. */
  createBucket(name: string, now: number): BucketRecord;
  getBucket(name: string): BucketRecord | undefined;
  /** listBuckets returns every bucket by name. */
  listBuckets(): BucketRecord[];
  /** deleteBucket removes an empty bucket and aborts its uploads; NoSuchBucket, BucketNotEmpty. */
  deleteBucket(name: string): void;
  /** putObject records (or replaces) an object whose blob is already stored; NoSuchBucket. */
  putObject(object: NewObject, now: number): ObjectRecord;
  getObject(bucket: string, key: string): ObjectRecord | undefined;
  /** listObjects returns one page in key order (UTF-8 byte order); NoSuchBucket. */
  listObjects(bucket: string, options?: ListObjectsOptions): ObjectListing;
  /** deleteObject removes an object and returns it, or undefined when there was none; NoSuchBucket. */
  deleteObject(bucket: string, key: string): ObjectRecord | undefined;
  /** createUpload starts a multipart upload with a fresh random id; NoSuchBucket. */
  createUpload(upload: { bucket: string; key: string; contentType?: string }, now: number): UploadRecord;
  getUpload(uploadId: string): UploadRecord | undefined;
  /** putPart records (or replaces) a received part whose blob is stored; NoSuchUpload. */
  putPart(part: Omit<PartRecord, 'lastModified'>, now: number): PartRecord;
  /** listParts returns the parts received so far, by part number; NoSuchUpload. */
  listParts(uploadId: string, options?: ListPartsOptions): PartListing;
  /**
   * planCompletion checks a CompleteMultipartUpload part list (see `planCompletion` in
   * multipart-completion.ts); NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall.
   */
  planCompletion(uploadId: string, requested: readonly RequestedPart[]): CompletionOrder;
  /**
   * completeUpload records the assembled object and forgets the upload, in one transaction;
   * NoSuchUpload if it was aborted or completed meanwhile.
   */
  completeUpload(uploadId: string, blob: { sha256: string; size: number; etag: string }, now: number): ObjectRecord;
  /** abortUpload forgets an upload and its parts; NoSuchUpload. */
  abortUpload(uploadId: string): void;
}

/** BucketStoreOptions tune the store; `minPartSize` exists so tests can use small parts. */
export interface BucketStoreOptions {
  minPartSize?: number;
}

interface ObjectRow {
  bucket: string;
  key: string;
  sha256: string;
  size: number;
  etag: string;
  content_type: string;
  last_modified: number;
}

interface UploadRow {
  upload_id: string;
  bucket: string;
  key: string;
  content_type: string;
  initiated: number;
}

interface PartRow {
  upload_id: string;
  part_number: number;
  sha256: string;
  size: number;
  etag: string;
  last_modified: number;
}

const toObject = (r: ObjectRow): ObjectRecord => ({
  bucket: r.bucket,
  key: r.key,
  sha256: r.sha256,
  size: r.size,
  etag: r.etag,
  lastModified: r.last_modified,
  contentType: r.content_type,
});

const toUpload = (r: UploadRow): UploadRecord => ({
  uploadId: r.upload_id,
  bucket: r.bucket,
  key: r.key,
  contentType: r.content_type,
  initiated: r.initiated,
});

const toPart = (r: PartRow): PartRecord => ({
  uploadId: r.upload_id,
  partNumber: r.part_number,
  sha256: r.sha256,
  size: r.size,
  etag: r.etag,
  lastModified: r.last_modified,
});

/**
 * createBucketStore makes a {@link BucketStore} over a database that has migration 002-bucket
 * applied. It prepares its statements once; build one per database connection.
 */
export function createBucketStore(db: Database.Database, options: BucketStoreOptions = {}): BucketStore {
  const q = {
    getBucket: db.prepare<[string], { name: string; created_at: number }>(
      'SELECT name, created_at FROM bucket_buckets WHERE name = ?',
    ),
    listBuckets: db.prepare<[], { name: string; created_at: number }>(
      'SELECT name, created_at FROM bucket_buckets ORDER BY name',
    ),
    insertBucket: db.prepare('INSERT INTO bucket_buckets (name, created_at) VALUES (?, ?)'),
    deleteBucket: db.prepare('DELETE FROM bucket_buckets WHERE name = ?'),
    anyObject: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM bucket_objects WHERE bucket = ? LIMIT 1'),
    deleteBucketParts: db.prepare(
      'DELETE FROM bucket_upload_parts WHERE upload_id IN (SELECT upload_id FROM bucket_uploads WHERE bucket = ?)',
    ),
    deleteBucketUploads: db.prepare('DELETE FROM bucket_uploads WHERE bucket = ?'),
    upsertObject: db.prepare(
      `INSERT INTO bucket_objects (bucket, key, sha256, size, etag, content_type, last_modified)
       VALUES (@bucket, @key, @sha256, @size, @etag, @content_type, @last_modified)
       ON CONFLICT (bucket, key) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
         etag = excluded.etag, content_type = excluded.content_type, last_modified = excluded.last_modified`,
    ),
    getObject: db.prepare<[string, string], ObjectRow>('SELECT * FROM bucket_objects WHERE bucket = ? AND key = ?'),
    listFrom: db.prepare<{ bucket: string; prefix: string; after: string }, ObjectRow>(
      'SELECT * FROM bucket_objects WHERE bucket = @bucket AND key >= @prefix AND key > @after ORDER BY key',
    ),
    deleteObject: db.prepare('DELETE FROM bucket_objects WHERE bucket = ? AND key = ?'),
    insertUpload: db.prepare(
      'INSERT INTO bucket_uploads (upload_id, bucket, key, content_type, initiated) VALUES (?, ?, ?, ?, ?)',
    ),
    getUpload: db.prepare<[string], UploadRow>('SELECT * FROM bucket_uploads WHERE upload_id = ?'),
    deleteUpload: db.prepare('DELETE FROM bucket_uploads WHERE upload_id = ?'),
    upsertPart: db.prepare(
      `INSERT INTO bucket_upload_parts (upload_id, part_number, sha256, size, etag, last_modified)
       VALUES (@upload_id, @part_number, @sha256, @size, @etag, @last_modified)
       ON CONFLICT (upload_id, part_number) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
         etag = excluded.etag, last_modified = excluded.last_modified`,
    ),
    listParts: db.prepare<[string, number, number], PartRow>(
      'SELECT * FROM bucket_upload_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?',
    ),
    allParts: db.prepare<[string], PartRow>('SELECT * FROM bucket_upload_parts WHERE upload_id = ? ORDER BY part_number'),
    deleteParts: db.prepare('DELETE FROM bucket_upload_parts WHERE upload_id = ?'),
  };

  function requireBucket(name: string): void {
    if (q.getBucket.get(name) === undefined) {
      throw new BucketStoreError('NoSuchBucket', `bucket ${JSON.stringify(name)} does not exist`);
    }
  }

  function requireUpload(uploadId: string): UploadRecord {
    const row = q.getUpload.get(uploadId);
    if (row === undefined) throw new BucketStoreError('NoSuchUpload', `upload ${JSON.stringify(uploadId)} does not exist`);
    return toUpload(row);
  }

  const createBucket = db.transaction((name: string, now: number): BucketRecord => {
    if (q.getBucket.get(name) !== undefined) {
      throw new BucketStoreError('BucketAlreadyOwnedByYou', `bucket ${JSON.stringify(name)} already exists`);
    }
    q.insertBucket.run(name, now);
    return { name, createdAt: now };
  });

  const deleteBucket = db.transaction((name: string): void => {
    requireBucket(name);
    if (q.anyObject.get(name) !== undefined) {
      throw new BucketStoreError('BucketNotEmpty', `bucket ${JSON.stringify(name)} is not empty`);
    }
    q.deleteBucketParts.run(name);
    q.deleteBucketUploads.run(name);
    q.deleteBucket.run(name);
  });

  const putObject = db.transaction((o: NewObject, now: number): ObjectRecord => {
    requireBucket(o.bucket);
    const record: ObjectRecord = {
      bucket: o.bucket,
      key: o.key,
      sha256: o.sha256,
      size: o.size,
      etag: o.etag,
      lastModified: now,
      contentType: o.contentType ?? DEFAULT_CONTENT_TYPE,
    };
    q.upsertObject.run(objectRow(record));
    return record;
  });

  function listObjects(bucket: string, opts: ListObjectsOptions = {}): ObjectListing {
    requireBucket(bucket);
    const prefix = opts.prefix ?? '';
    const delimiter = opts.delimiter === '' ? undefined : opts.delimiter;
    const maxKeys = Math.min(opts.maxKeys ?? MAX_LIST_KEYS, MAX_LIST_KEYS);
    const listing: ObjectListing = { objects: [], commonPrefixes: [], isTruncated: false };
    if (maxKeys <= 0) return listing;
    const after = opts.after ?? '';
    let skip = delimiter !== undefined ? rollUp(after, prefix, delimiter) : undefined;
    if (skip !== after) skip = undefined;
    let count = 0;
    for (const row of q.listFrom.iterate({ bucket, prefix, after })) {
      if (!row.key.startsWith(prefix)) break;
      if (skip !== undefined && row.key.startsWith(skip)) continue;
      const common = delimiter !== undefined ? rollUp(row.key, prefix, delimiter) : undefined;
      if (count === maxKeys) {
        listing.isTruncated = true;
        break;
      }
      count++;
      if (common !== undefined) {
        listing.commonPrefixes.push(common);
        listing.next = common;
        skip = common;
      } else {
        listing.objects.push(toObject(row));
        listing.next = row.key;
      }
    }
    if (!listing.isTruncated) delete listing.next;
    return listing;
  }

  const deleteObject = db.transaction((bucket: string, key: string): ObjectRecord | undefined => {
    requireBucket(bucket);
    const row = q.getObject.get(bucket, key);
    if (row === undefined) return undefined;
    q.deleteObject.run(bucket, key);
    return toObject(row);
  });

  const createUpload = db.transaction(
    (u: { bucket: string; key: string; contentType?: string }, now: number): UploadRecord => {
      requireBucket(u.bucket);
      const record: UploadRecord = {
        uploadId: randomBytes(24).toString('base64url'),
        bucket: u.bucket,
        key: u.key,
        contentType: u.contentType ?? DEFAULT_CONTENT_TYPE,
        initiated: now,
      };
      q.insertUpload.run(record.uploadId, record.bucket, record.key, record.contentType, record.initiated);
      return record;
    },
  );

  const putPart = db.transaction((p: Omit<PartRecord, 'lastModified'>, now: number): PartRecord => {
    requireUpload(p.uploadId);
    const record: PartRecord = { ...p, lastModified: now };
    q.upsertPart.run({
      upload_id: record.uploadId,
      part_number: record.partNumber,
      sha256: record.sha256,
      size: record.size,
      etag: record.etag,
      last_modified: record.lastModified,
    });
    return record;
  });

  function listParts(uploadId: string, opts: ListPartsOptions = {}): PartListing {
    const upload = requireUpload(uploadId);
    const maxParts = Math.min(opts.maxParts ?? MAX_LIST_KEYS, MAX_LIST_KEYS);
    const rows = q.listParts.all(uploadId, opts.partNumberMarker ?? 0, Math.max(maxParts, 0) + 1);
    const isTruncated = rows.length > maxParts;
    const parts = rows.slice(0, Math.max(maxParts, 0)).map(toPart);
    const listing: PartListing = { upload, parts, isTruncated };
    if (isTruncated) listing.nextPartNumberMarker = parts.at(-1)?.partNumber ?? opts.partNumberMarker ?? 0;
    return listing;
  }

  function planUpload(uploadId: string, requested: readonly RequestedPart[]): CompletionOrder {
    const upload = requireUpload(uploadId);
    const stored = q.allParts.all(uploadId).map(toPart);
    const plan = planCompletion(requested, stored, options.minPartSize);
    if (!plan.ok) throw new BucketStoreError(plan.code, plan.message);
    return { upload, parts: plan.parts, etag: plan.etag, size: plan.size };
  }

  const completeUpload = db.transaction(
    (uploadId: string, blob: { sha256: string; size: number; etag: string }, now: number): ObjectRecord => {
      const upload = requireUpload(uploadId);
      const record: ObjectRecord = {
        bucket: upload.bucket,
        key: upload.key,
        sha256: blob.sha256,
        size: blob.size,
        etag: blob.etag,
        lastModified: now,
        contentType: upload.contentType,
      };
      q.upsertObject.run(objectRow(record));
      q.deleteParts.run(uploadId);
      q.deleteUpload.run(uploadId);
      return record;
    },
  );

  const abortUpload = db.transaction((uploadId: string): void => {
    requireUpload(uploadId);
    q.deleteParts.run(uploadId);
    q.deleteUpload.run(uploadId);
  });

  return {
    createBucket: (name, now) => createBucket(name, now),
    getBucket: (name) => {
      const row = q.getBucket.get(name);
      return row === undefined ? undefined : { name: row.name, createdAt: row.created_at };
    },
    listBuckets: () => q.listBuckets.all().map((r) => ({ name: r.name, createdAt: r.created_at })),
    deleteBucket: (name) => deleteBucket(name),
    putObject: (o, now) => putObject(o, now),
    getObject: (bucket, key) => {
      const row = q.getObject.get(bucket, key);
      return row === undefined ? undefined : toObject(row);
    },
    listObjects,
    deleteObject: (bucket, key) => deleteObject(bucket, key),
    createUpload: (u, now) => createUpload(u, now),
    getUpload: (uploadId) => {
      const row = q.getUpload.get(uploadId);
      return row === undefined ? undefined : toUpload(row);
    },
    putPart: (p, now) => putPart(p, now),
    listParts,
    planCompletion: planUpload,
    completeUpload: (uploadId, blob, now) => completeUpload(uploadId, blob, now),
    abortUpload: (uploadId) => abortUpload(uploadId),
  };
}

/**
 * rollUp gives the common prefix `key` belongs to under `prefix` and `delimiter` (the key up to and
 * including the first delimiter after the prefix), or undefined when the key has none. Example:
 * rollUp('a/b/c', 'a/', '/') is 'a/b/'; rollUp('a/b', 'a/', '/') is undefined.
 */
function rollUp(key: string, prefix: string, delimiter: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

function objectRow(r: ObjectRecord): ObjectRow {
  return {
    bucket: r.bucket,
    key: r.key,
    sha256: r.sha256,
    size: r.size,
    etag: r.etag,
    content_type: r.contentType,
    last_modified: r.lastModified,
  };
}
