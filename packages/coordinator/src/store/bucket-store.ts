/**
 * The revision bucket's metadata in SQLite (tables from migration 002-bucket): buckets, the objects
 * in them and multipart uploads in progress. Object bytes are not here; each record names its blob
 * by SHA-256. Every method is synchronous (better-sqlite3) and each change is one transaction.
 *
 * A change that drops a reference to a blob (an overwrite, a delete, a completed, aborted or expired
 * upload) tells `options.released` the blobs it dropped, after its transaction, so the collector can
 * free them (artifacts/blob-collector.ts). An optional quota per bucket bounds the bytes a bucket
 * holds: its objects plus the parts of its unfinished uploads, each counted once per reference.
 */
import { newUploadId } from './upload-id.js';
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
  | 'QuotaExceeded'
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

/** ListUploadsOptions narrow a ListMultipartUploads page, as S3's key-marker, upload-id-marker and max-uploads. */
export interface ListUploadsOptions {
  prefix?: string;
  delimiter?: string;
  /** keyMarker: uploads of later keys (or of this key, after `uploadIdMarker`'s upload). */
  keyMarker?: string;
  uploadIdMarker?: string;
  /** maxUploads caps uploads plus common prefixes; default and ceiling {@link MAX_LIST_KEYS}. */
  maxUploads?: number;
}

/** UploadListing is one page of unfinished uploads, by key and then by initiation time. */
export interface UploadListing {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Set when truncated: where the next page starts. */
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

/** QuotaWrite is what a write would replace: the object at `key`, or part `partNumber` of an upload. */
export type QuotaWrite = { key: string } | { uploadId: string; partNumber: number };

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
  /** listUploads returns one page of a bucket's unfinished uploads; NoSuchBucket. */
  listUploads(bucket: string, options?: ListUploadsOptions): UploadListing;
  /** expireUploads aborts every upload initiated before `initiatedBefore` (ms) and returns them. */
  expireUploads(initiatedBefore: number): UploadRecord[];
  /** usage is the bytes a bucket holds: its objects and the parts of its unfinished uploads. */
  usage(bucket: string): number;
  /**
   * room is how many bytes a write may store in the bucket without passing its quota, given what it
   * replaces; undefined when the bucket has no quota. putObject and putPart refuse a write past it
   * with QuotaExceeded.
   */
  room(bucket: string, write: QuotaWrite): number | undefined;
  /** checkQuota throws QuotaExceeded when storing `size` bytes by this write would pass the bucket's quota. */
  checkQuota(bucket: string, write: QuotaWrite, size: number): void;
}

/** BucketStoreOptions tune the store; `minPartSize` exists so tests can use small parts. */
export interface BucketStoreOptions {
  minPartSize?: number;
  /** quotaBytes is a bucket's quota in bytes, or undefined for none (config `bucket_quota_bytes`). */
  quotaBytes?: (bucket: string) => number | undefined;
  /** released hears, after each committed change, the blobs whose references it dropped (maybe still referenced elsewhere). */
  released?: (sha256s: readonly string[]) => void;
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
    bucketUploads: db.prepare<{ bucket: string; prefix: string }, UploadRow>(
      'SELECT * FROM bucket_uploads WHERE bucket = @bucket AND key >= @prefix ORDER BY key, initiated, upload_id',
    ),
    uploadsBefore: db.prepare<[number], UploadRow>('SELECT * FROM bucket_uploads WHERE initiated < ? ORDER BY initiated'),
    uploadPartHashes: db.prepare<[string], { sha256: string }>('SELECT DISTINCT sha256 FROM bucket_upload_parts WHERE upload_id = ?'),
    bucketPartHashes: db.prepare<[string], { sha256: string }>(
      'SELECT DISTINCT sha256 FROM bucket_upload_parts WHERE upload_id IN (SELECT upload_id FROM bucket_uploads WHERE bucket = ?)',
    ),
    getPart: db.prepare<[string, number], PartRow>('SELECT * FROM bucket_upload_parts WHERE upload_id = ? AND part_number = ?'),
    objectBytes: db.prepare<[string], { total: number }>('SELECT COALESCE(SUM(size), 0) AS total FROM bucket_objects WHERE bucket = ?'),
    partBytes: db.prepare<[string], { total: number }>(
      'SELECT COALESCE(SUM(size), 0) AS total FROM bucket_upload_parts WHERE upload_id IN (SELECT upload_id FROM bucket_uploads WHERE bucket = ?)',
    ),
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

  const released = (sha256s: readonly string[]): void => {
    if (sha256s.length > 0) options.released?.(sha256s);
  };

  const deleteBucket = db.transaction((name: string): string[] => {
    requireBucket(name);
    if (q.anyObject.get(name) !== undefined) {
      throw new BucketStoreError('BucketNotEmpty', `bucket ${JSON.stringify(name)} is not empty`);
    }
    const dropped = q.bucketPartHashes.all(name).map((r) => r.sha256);
    q.deleteBucketParts.run(name);
    q.deleteBucketUploads.run(name);
    q.deleteBucket.run(name);
    return dropped;
  });

  function usage(bucket: string): number {
    return q.objectBytes.get(bucket)!.total + q.partBytes.get(bucket)!.total;
  }

  function room(bucket: string, write: QuotaWrite): number | undefined {
    const quota = options.quotaBytes?.(bucket);
    if (quota === undefined) return undefined;
    const replaced = 'key' in write ? (q.getObject.get(bucket, write.key)?.size ?? 0) : (q.getPart.get(write.uploadId, write.partNumber)?.size ?? 0);
    return Math.max(0, quota - usage(bucket) + replaced);
  }

  /** enforceQuota refuses a write of `size` bytes that would take the bucket past its quota. */
  function enforceQuota(bucket: string, write: QuotaWrite, size: number): void {
    const left = room(bucket, write);
    if (left === undefined || size <= left) return;
    throw quotaExceeded(bucket, options.quotaBytes!(bucket)!, usage(bucket), size);
  }

  const putObject = db.transaction((o: NewObject, now: number): [ObjectRecord, string[]] => {
    requireBucket(o.bucket);
    enforceQuota(o.bucket, { key: o.key }, o.size);
    const previous = q.getObject.get(o.bucket, o.key);
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
    return [record, previous !== undefined && previous.sha256 !== record.sha256 ? [previous.sha256] : []];
  });

  function listObjects(bucket: string, opts: ListObjectsOptions = {}): ObjectListing {
    requireBucket(bucket);
    const pager = objectPager(opts);
    for (const row of q.listFrom.iterate({ bucket, prefix: pager.prefix, after: pager.after })) if (!pager.add(toObject(row))) break;
    return pager.listing();
  }

  const deleteObject = db.transaction((bucket: string, key: string): ObjectRecord | undefined => {
    requireBucket(bucket);
    const row = q.getObject.get(bucket, key);
    if (row === undefined) return undefined;
    q.deleteObject.run(bucket, key);
    return toObject(row);
  });

  function listUploads(bucket: string, opts: ListUploadsOptions = {}): UploadListing {
    requireBucket(bucket);
    const pager = uploadPager(opts);
    for (const row of q.bucketUploads.iterate({ bucket, prefix: pager.prefix })) if (!pager.add(toUpload(row))) break;
    return pager.listing();
  }

  const expireUploads = db.transaction((initiatedBefore: number): [UploadRecord[], string[]] => {
    const expired = q.uploadsBefore.all(initiatedBefore).map(toUpload);
    const dropped = new Set<string>();
    for (const upload of expired) {
      for (const r of q.uploadPartHashes.all(upload.uploadId)) dropped.add(r.sha256);
      q.deleteParts.run(upload.uploadId);
      q.deleteUpload.run(upload.uploadId);
    }
    return [expired, [...dropped]];
  });

  const createUpload = db.transaction(
    (u: { bucket: string; key: string; contentType?: string }, now: number): UploadRecord => {
      requireBucket(u.bucket);
      const record: UploadRecord = {
        uploadId: newUploadId(),
        bucket: u.bucket,
        key: u.key,
        contentType: u.contentType ?? DEFAULT_CONTENT_TYPE,
        initiated: now,
      };
      q.insertUpload.run(record.uploadId, record.bucket, record.key, record.contentType, record.initiated);
      return record;
    },
  );

  const putPart = db.transaction((p: Omit<PartRecord, 'lastModified'>, now: number): [PartRecord, string[]] => {
    const upload = requireUpload(p.uploadId);
    enforceQuota(upload.bucket, { uploadId: p.uploadId, partNumber: p.partNumber }, p.size);
    const previous = q.getPart.get(p.uploadId, p.partNumber);
    const record: PartRecord = { ...p, lastModified: now };
    q.upsertPart.run({
      upload_id: record.uploadId,
      part_number: record.partNumber,
      sha256: record.sha256,
      size: record.size,
      etag: record.etag,
      last_modified: record.lastModified,
    });
    return [record, previous !== undefined && previous.sha256 !== record.sha256 ? [previous.sha256] : []];
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

  // No quota check: the object is at most its parts, which leave with the upload, and replaces any
  // object at its key, so a completion never adds to the bucket's bytes.
  const completeUpload = db.transaction(
    (uploadId: string, blob: { sha256: string; size: number; etag: string }, now: number): [ObjectRecord, string[]] => {
      const upload = requireUpload(uploadId);
      const dropped = new Set(q.uploadPartHashes.all(uploadId).map((r) => r.sha256));
      const previous = q.getObject.get(upload.bucket, upload.key);
      if (previous !== undefined) dropped.add(previous.sha256);
      dropped.delete(blob.sha256);
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
      return [record, [...dropped]];
    },
  );

  const abortUpload = db.transaction((uploadId: string): string[] => {
    requireUpload(uploadId);
    const dropped = q.uploadPartHashes.all(uploadId).map((r) => r.sha256);
    q.deleteParts.run(uploadId);
    q.deleteUpload.run(uploadId);
    return dropped;
  });

  /** then runs a change, tells `released` what it dropped once it has committed, and returns its result. */
  function then<T>([result, dropped]: [T, string[]]): T {
    released(dropped);
    return result;
  }

  return {
    createBucket: (name, now) => createBucket(name, now),
    getBucket: (name) => {
      const row = q.getBucket.get(name);
      return row === undefined ? undefined : { name: row.name, createdAt: row.created_at };
    },
    listBuckets: () => q.listBuckets.all().map((r) => ({ name: r.name, createdAt: r.created_at })),
    deleteBucket: (name) => released(deleteBucket(name)),
    putObject: (o, now) => then(putObject(o, now)),
    getObject: (bucket, key) => {
      const row = q.getObject.get(bucket, key);
      return row === undefined ? undefined : toObject(row);
    },
    listObjects,
    deleteObject: (bucket, key) => {
      const deleted = deleteObject(bucket, key);
      if (deleted !== undefined) released([deleted.sha256]);
      return deleted;
    },
    createUpload: (u, now) => createUpload(u, now),
    getUpload: (uploadId) => {
      const row = q.getUpload.get(uploadId);
      return row === undefined ? undefined : toUpload(row);
    },
    putPart: (p, now) => then(putPart(p, now)),
    listParts,
    planCompletion: planUpload,
    completeUpload: (uploadId, blob, now) => then(completeUpload(uploadId, blob, now)),
    abortUpload: (uploadId) => released(abortUpload(uploadId)),
    listUploads,
    expireUploads: (initiatedBefore) => then(expireUploads(initiatedBefore)),
    usage,
    room,
    checkQuota: enforceQuota,
  };
}

/**
 * quotaExceeded is the refusal of a write past a bucket's quota, worded for the person at the CLI:
 * what the bucket holds, what the write adds, the quota, and how to make room.
 */
export function quotaExceeded(bucket: string, quota: number, used: number, size: number): BucketStoreError {
  return new BucketStoreError(
    'QuotaExceeded',
    `Bucket ${bucket} is over its quota: it holds ${used} bytes (objects and unfinished multipart uploads), its quota is ${quota} bytes (bucket_quota_bytes), and this write of ${size} bytes does not fit. ` +
      'Delete objects, or abort unfinished uploads (aws s3api list-multipart-uploads / abort-multipart-upload), to make room.',
  );
}

/** Pager builds one listing page from records fed in listing order; `add` is false once the page is complete. */
export interface Pager<T, L> {
  /** prefix (and for objects, `after`) bound the rows worth feeding: those from here on. */
  readonly prefix: string;
  readonly after: string;
  add(record: T): boolean;
  listing(): L;
}

/**
 * objectPager pages {@link BucketStore.listObjects}: fed a bucket's objects in key order from
 * `prefix` (keys after `after`), it rolls keys up into common prefixes and stops at `maxKeys`.
 * Pure, so the SQLite and PostgreSQL stores page alike.
 */
export function objectPager(opts: ListObjectsOptions): Pager<ObjectRecord, ObjectListing> {
  const prefix = opts.prefix ?? '';
  const delimiter = opts.delimiter === '' ? undefined : opts.delimiter;
  const maxKeys = Math.min(opts.maxKeys ?? MAX_LIST_KEYS, MAX_LIST_KEYS);
  const listing: ObjectListing = { objects: [], commonPrefixes: [], isTruncated: false };
  const after = opts.after ?? '';
  let skip = delimiter !== undefined ? rollUp(after, prefix, delimiter) : undefined;
  if (skip !== after) skip = undefined;
  let count = 0;
  let done = maxKeys <= 0;
  const stop = (): false => {
    done = true;
    return false;
  };
  return {
    prefix,
    after,
    add(o) {
      if (done || !o.key.startsWith(prefix)) return stop();
      if (skip !== undefined && o.key.startsWith(skip)) return true;
      const common = delimiter !== undefined ? rollUp(o.key, prefix, delimiter) : undefined;
      if (count === maxKeys) {
        listing.isTruncated = true;
        return stop();
      }
      count++;
      if (common !== undefined) {
        listing.commonPrefixes.push(common);
        listing.next = common;
        skip = common;
      } else {
        listing.objects.push(o);
        listing.next = o.key;
      }
      return true;
    },
    listing() {
      if (!listing.isTruncated) delete listing.next;
      return listing;
    },
  };
}

/**
 * uploadPager pages {@link BucketStore.listUploads}: fed a bucket's uploads from `prefix` on, by key,
 * initiation time and upload id, it applies the key and upload-id markers, rolls keys up and stops
 * at `maxUploads`.
 */
export function uploadPager(opts: ListUploadsOptions): Pager<UploadRecord, UploadListing> {
  const prefix = opts.prefix ?? '';
  const delimiter = opts.delimiter === '' ? undefined : opts.delimiter;
  const maxUploads = Math.min(opts.maxUploads ?? MAX_LIST_KEYS, MAX_LIST_KEYS);
  const listing: UploadListing = { uploads: [], commonPrefixes: [], isTruncated: false };
  const keyMarker = opts.keyMarker ?? '';
  // S3: the upload-id marker counts only with a key marker; uploads of that key after the marked one follow.
  let afterMarker = false;
  let skip = delimiter !== undefined ? rollUp(keyMarker, prefix, delimiter) : undefined;
  if (skip !== keyMarker) skip = undefined;
  let count = 0;
  let done = maxUploads <= 0;
  const stop = (): false => {
    done = true;
    return false;
  };
  return {
    prefix,
    after: keyMarker,
    add(u) {
      if (done || !u.key.startsWith(prefix)) return stop();
      if (u.key < keyMarker) return true;
      if (u.key === keyMarker && !afterMarker) {
        if (u.uploadId === opts.uploadIdMarker) afterMarker = true;
        return true;
      }
      if (skip !== undefined && u.key.startsWith(skip)) return true;
      const common = delimiter !== undefined ? rollUp(u.key, prefix, delimiter) : undefined;
      if (count === maxUploads) {
        listing.isTruncated = true;
        return stop();
      }
      count++;
      if (common !== undefined) {
        listing.commonPrefixes.push(common);
        listing.nextKeyMarker = common;
        delete listing.nextUploadIdMarker;
        skip = common;
      } else {
        listing.uploads.push(u);
        listing.nextKeyMarker = u.key;
        listing.nextUploadIdMarker = u.uploadId;
      }
      return true;
    },
    listing() {
      if (!listing.isTruncated) {
        delete listing.nextKeyMarker;
        delete listing.nextUploadIdMarker;
      }
      return listing;
    },
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
