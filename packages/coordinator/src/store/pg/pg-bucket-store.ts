/**
 * The revision bucket's metadata on PostgreSQL: {@link BucketStore} asynchronously, with the SQLite
 * store's records, listing order (keys byte-wise, COLLATE "C"), refusals and released blobs.
 *
 * Concurrency. The SQLite store makes each change one synchronous transaction: a read (does the
 * upload exist, what does the bucket hold, what did this key name) and the writes that depend on it,
 * with nothing in between. Here each such change runs in a transaction of the store it is given
 * (`db.transaction`): on the PgStore that is a SERIALIZABLE transaction, run again from the start
 * when PostgreSQL refuses it for a concurrent one, so two replicas completing the same upload end
 * with one object and a NoSuchUpload, and two writes that each fit a quota but not both leave one
 * refused; given a transaction's handle it is a savepoint of that transaction, which commits with
 * it. SERIALIZABLE rather than row locks because the quota depends on a sum over rows (a predicate,
 * which `SELECT … FOR UPDATE` cannot lock) and a completion reads rows another replica may delete.
 *
 * `released` is told the dropped blobs after the change's transaction (or savepoint) ends, never for a
 * refused or retried attempt. Inside a caller's transaction that is before the caller commits; the
 * collector then still sees the old references (it reads committed rows) and keeps the blob until a
 * later sweep, the safe side.
 */
import { newUploadId } from '../upload-id.js';
import { planCompletion } from '../multipart-completion.js';
import type { BucketRecord, BucketStore, BucketStoreOptions, CompletionOrder, ObjectRecord, PartRecord, QuotaWrite, UploadRecord } from '../bucket-store.js';
import { BucketStoreError, DEFAULT_CONTENT_TYPE, MAX_LIST_KEYS, objectPager, quotaExceeded, uploadPager } from '../bucket-store.js';
import type { PromisedMethods } from '../promised.js';
import type { PgQuery } from './pg-store.js';

/** AsyncBucketStore is {@link BucketStore}, asynchronously. */
export type AsyncBucketStore = PromisedMethods<BucketStore>;

/** PgTransactor runs statements, and transactions whose body gets a handle of the same kind: the PgStore or a transaction's handle. */
export interface PgTransactor extends PgQuery {
  transaction<T>(fn: (tx: PgTransactor) => Promise<T>): Promise<T>;
}

type Row = Record<string, unknown>;

const toObject = (r: Row): ObjectRecord => ({
  bucket: r.bucket as string,
  key: r.key as string,
  sha256: r.sha256 as string,
  size: Number(r.size),
  etag: r.etag as string,
  lastModified: Number(r.last_modified),
  contentType: r.content_type as string,
});
const toUpload = (r: Row): UploadRecord => ({
  uploadId: r.upload_id as string,
  bucket: r.bucket as string,
  key: r.key as string,
  contentType: r.content_type as string,
  initiated: Number(r.initiated),
});
const toPart = (r: Row): PartRecord => ({
  uploadId: r.upload_id as string,
  partNumber: Number(r.part_number),
  sha256: r.sha256 as string,
  size: Number(r.size),
  etag: r.etag as string,
  lastModified: Number(r.last_modified),
});

/** FK_ATTEMPTS bounds how often a change refused by a foreign key runs again (once is enough unless replicas keep racing). */
const FK_ATTEMPTS = 5;
const isForeignKeyViolation = (err: unknown): boolean => (err as { code?: string } | null)?.code === '23503';

/** LIST_BATCH is how many rows one statement of a listing reads; a page that skips rolled-up keys reads on. */
const LIST_BATCH = MAX_LIST_KEYS + 1;

const UPSERT_OBJECT = `INSERT INTO bucket_objects (bucket, key, sha256, size, etag, content_type, last_modified) VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (bucket, key) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, etag = excluded.etag, content_type = excluded.content_type, last_modified = excluded.last_modified`;

/** pgBucketStore makes a {@link BucketStore} over `db` (migration 2 applied), asynchronously. */
export function pgBucketStore(db: PgTransactor, options: BucketStoreOptions = {}): AsyncBucketStore {
  const noSuchBucket = (name: string) => new BucketStoreError('NoSuchBucket', `bucket ${JSON.stringify(name)} does not exist`);
  const noSuchUpload = (id: string) => new BucketStoreError('NoSuchUpload', `upload ${JSON.stringify(id)} does not exist`);

  const getBucket = async (q: PgQuery, name: string): Promise<BucketRecord | undefined> => {
    const { rows } = await q.query('SELECT name, created_at FROM bucket_buckets WHERE name = $1', [name]);
    return rows.length === 0 ? undefined : { name: rows[0].name as string, createdAt: Number(rows[0].created_at) };
  };
  const requireBucket = async (q: PgQuery, name: string): Promise<void> => {
    if ((await getBucket(q, name)) === undefined) throw noSuchBucket(name);
  };
  const getUpload = async (q: PgQuery, id: string): Promise<UploadRecord | undefined> => {
    const { rows } = await q.query('SELECT * FROM bucket_uploads WHERE upload_id = $1', [id]);
    return rows.length === 0 ? undefined : toUpload(rows[0] as Row);
  };
  const requireUpload = async (q: PgQuery, id: string): Promise<UploadRecord> => {
    const upload = await getUpload(q, id);
    if (upload === undefined) throw noSuchUpload(id);
    return upload;
  };
  const getObject = async (q: PgQuery, bucket: string, key: string): Promise<ObjectRecord | undefined> => {
    const { rows } = await q.query('SELECT * FROM bucket_objects WHERE bucket = $1 AND key = $2', [bucket, key]);
    return rows.length === 0 ? undefined : toObject(rows[0] as Row);
  };
  const getPart = async (q: PgQuery, id: string, n: number): Promise<PartRecord | undefined> => {
    const { rows } = await q.query('SELECT * FROM bucket_upload_parts WHERE upload_id = $1 AND part_number = $2', [id, n]);
    return rows.length === 0 ? undefined : toPart(rows[0] as Row);
  };
  const usage = async (q: PgQuery, bucket: string): Promise<number> => {
    const { rows } = await q.query(
      `SELECT (SELECT COALESCE(SUM(size), 0) FROM bucket_objects WHERE bucket = $1)
            + (SELECT COALESCE(SUM(p.size), 0) FROM bucket_upload_parts p JOIN bucket_uploads u ON u.upload_id = p.upload_id WHERE u.bucket = $1) AS total`,
      [bucket],
    );
    return Number(rows[0].total);
  };
  const room = async (q: PgQuery, bucket: string, write: QuotaWrite): Promise<number | undefined> => {
    const quota = options.quotaBytes?.(bucket);
    if (quota === undefined) return undefined;
    const replaced = 'key' in write ? ((await getObject(q, bucket, write.key))?.size ?? 0) : ((await getPart(q, write.uploadId, write.partNumber))?.size ?? 0);
    return Math.max(0, quota - (await usage(q, bucket)) + replaced);
  };
  const checkQuota = async (q: PgQuery, bucket: string, write: QuotaWrite, size: number): Promise<void> => {
    const left = await room(q, bucket, write);
    if (left === undefined || size <= left) return;
    throw quotaExceeded(bucket, options.quotaBytes!(bucket)!, await usage(q, bucket), size);
  };
  const partHashes = async (q: PgQuery, uploadIds: readonly string[]): Promise<string[]> =>
    (await q.query('SELECT DISTINCT sha256 FROM bucket_upload_parts WHERE upload_id = ANY($1::text[])', [uploadIds])).rows.map((r: { sha256: string }) => r.sha256);
  const forgetUploads = async (q: PgQuery, uploadIds: readonly string[]): Promise<void> => {
    await q.query('DELETE FROM bucket_upload_parts WHERE upload_id = ANY($1::text[])', [uploadIds]);
    await q.query('DELETE FROM bucket_uploads WHERE upload_id = ANY($1::text[])', [uploadIds]);
  };

  /**
   * change runs `fn` in a transaction of `db`, then tells `released` the blobs it dropped and returns
   * its result. A foreign key refusal means a row this change read was deleted or referenced by
   * another replica's transaction that committed meanwhile (a bucket deleted under a new upload, an
   * upload created in a bucket being deleted): running the change again reads the new state and
   * gives the refusal the SQLite store would (NoSuchBucket, BucketNotEmpty, NoSuchUpload).
   */
  const change = async <T>(fn: (q: PgQuery) => Promise<[T, string[]]>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const [result, dropped] = await db.transaction((tx) => fn(tx));
        if (dropped.length > 0) options.released?.(dropped);
        return result;
      } catch (err) {
        if (!isForeignKeyViolation(err) || attempt === FK_ATTEMPTS) throw err;
      }
    }
  };

  return {
    // One statement: of two replicas creating the same bucket, one inserts and the other is refused.
    createBucket: async (name, now) => {
      const r = await db.query('INSERT INTO bucket_buckets (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, now]);
      if (r.rowCount === 0) throw new BucketStoreError('BucketAlreadyOwnedByYou', `bucket ${JSON.stringify(name)} already exists`);
      return { name, createdAt: now };
    },
    getBucket: (name) => getBucket(db, name),
    listBuckets: async () => (await db.query('SELECT name, created_at FROM bucket_buckets ORDER BY name')).rows.map((r) => ({ name: r.name as string, createdAt: Number(r.created_at) })),
    deleteBucket: (name) =>
      change(async (q) => {
        await requireBucket(q, name);
        if ((await q.query('SELECT 1 FROM bucket_objects WHERE bucket = $1 LIMIT 1', [name])).rows.length > 0) {
          throw new BucketStoreError('BucketNotEmpty', `bucket ${JSON.stringify(name)} is not empty`);
        }
        const uploads = (await q.query('SELECT upload_id FROM bucket_uploads WHERE bucket = $1', [name])).rows.map((r: { upload_id: string }) => r.upload_id);
        const dropped = await partHashes(q, uploads);
        await forgetUploads(q, uploads);
        await q.query('DELETE FROM bucket_buckets WHERE name = $1', [name]);
        return [undefined, dropped];
      }),
    putObject: (o, now) =>
      change(async (q) => {
        await requireBucket(q, o.bucket);
        await checkQuota(q, o.bucket, { key: o.key }, o.size);
        const previous = await getObject(q, o.bucket, o.key);
        const record: ObjectRecord = { bucket: o.bucket, key: o.key, sha256: o.sha256, size: o.size, etag: o.etag, lastModified: now, contentType: o.contentType ?? DEFAULT_CONTENT_TYPE };
        await q.query(UPSERT_OBJECT, [record.bucket, record.key, record.sha256, record.size, record.etag, record.contentType, record.lastModified]);
        return [record, previous !== undefined && previous.sha256 !== record.sha256 ? [previous.sha256] : []];
      }),
    getObject: (bucket, key) => getObject(db, bucket, key),
    // Read in batches of keys from where the last one ended; like an S3 listing, a page read in
    // several batches may see writes made between them.
    listObjects: async (bucket, opts = {}) => {
      await requireBucket(db, bucket);
      const pager = objectPager(opts);
      let after = pager.after;
      for (;;) {
        const { rows } = await db.query('SELECT * FROM bucket_objects WHERE bucket = $1 AND key >= $2 AND key > $3 ORDER BY key LIMIT $4', [bucket, pager.prefix, after, LIST_BATCH]);
        for (const row of rows) if (!pager.add(toObject(row as Row))) return pager.listing();
        if (rows.length < LIST_BATCH) return pager.listing();
        after = rows.at(-1)!.key as string;
      }
    },
    deleteObject: (bucket, key) =>
      change(async (q) => {
        await requireBucket(q, bucket);
        const { rows } = await q.query('DELETE FROM bucket_objects WHERE bucket = $1 AND key = $2 RETURNING *', [bucket, key]);
        const deleted = rows.length === 0 ? undefined : toObject(rows[0] as Row);
        return [deleted, deleted === undefined ? [] : [deleted.sha256]];
      }),
    // One statement: the bucket's existence is checked by the INSERT itself.
    createUpload: async (u, now) => {
      const record: UploadRecord = { uploadId: newUploadId(), bucket: u.bucket, key: u.key, contentType: u.contentType ?? DEFAULT_CONTENT_TYPE, initiated: now };
      try {
        const r = await db.query(
          'INSERT INTO bucket_uploads (upload_id, bucket, key, content_type, initiated) SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM bucket_buckets WHERE name = $2)',
          [record.uploadId, record.bucket, record.key, record.contentType, record.initiated],
        );
        if (r.rowCount === 0) throw noSuchBucket(u.bucket);
        return record;
      } catch (err) {
        // The bucket was there when the statement began, and deleted before it ended.
        if (isForeignKeyViolation(err)) throw noSuchBucket(u.bucket);
        throw err;
      }
    },
    getUpload: (id) => getUpload(db, id),
    putPart: (p, now) =>
      change(async (q) => {
        const upload = await requireUpload(q, p.uploadId);
        await checkQuota(q, upload.bucket, { uploadId: p.uploadId, partNumber: p.partNumber }, p.size);
        const previous = await getPart(q, p.uploadId, p.partNumber);
        const record: PartRecord = { ...p, lastModified: now };
        await q.query(
          `INSERT INTO bucket_upload_parts (upload_id, part_number, sha256, size, etag, last_modified) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (upload_id, part_number) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, etag = excluded.etag, last_modified = excluded.last_modified`,
          [record.uploadId, record.partNumber, record.sha256, record.size, record.etag, record.lastModified],
        );
        return [record, previous !== undefined && previous.sha256 !== record.sha256 ? [previous.sha256] : []];
      }),
    listParts: async (uploadId, opts = {}) => {
      const upload = await requireUpload(db, uploadId);
      const maxParts = Math.min(opts.maxParts ?? MAX_LIST_KEYS, MAX_LIST_KEYS);
      const { rows } = await db.query('SELECT * FROM bucket_upload_parts WHERE upload_id = $1 AND part_number > $2 ORDER BY part_number LIMIT $3', [uploadId, opts.partNumberMarker ?? 0, Math.max(maxParts, 0) + 1]);
      const isTruncated = rows.length > maxParts;
      const parts = rows.slice(0, Math.max(maxParts, 0)).map((r) => toPart(r as Row));
      return { upload, parts, isTruncated, ...(isTruncated ? { nextPartNumberMarker: parts.at(-1)?.partNumber ?? opts.partNumberMarker ?? 0 } : {}) };
    },
    // Reads only; completeUpload checks again that the upload is still there.
    planCompletion: async (uploadId, requested): Promise<CompletionOrder> => {
      const upload = await requireUpload(db, uploadId);
      const stored = (await db.query('SELECT * FROM bucket_upload_parts WHERE upload_id = $1 ORDER BY part_number', [uploadId])).rows.map((r) => toPart(r as Row));
      const plan = planCompletion(requested, stored, options.minPartSize);
      if (!plan.ok) throw new BucketStoreError(plan.code, plan.message);
      return { upload, parts: plan.parts, etag: plan.etag, size: plan.size };
    },
    // No quota check, as in SQLite: the object replaces its parts and any object at its key.
    completeUpload: (uploadId, blob, now) =>
      change(async (q) => {
        const upload = await requireUpload(q, uploadId);
        const dropped = new Set(await partHashes(q, [uploadId]));
        const previous = await getObject(q, upload.bucket, upload.key);
        if (previous !== undefined) dropped.add(previous.sha256);
        dropped.delete(blob.sha256);
        const record: ObjectRecord = { bucket: upload.bucket, key: upload.key, sha256: blob.sha256, size: blob.size, etag: blob.etag, lastModified: now, contentType: upload.contentType };
        await q.query(UPSERT_OBJECT, [record.bucket, record.key, record.sha256, record.size, record.etag, record.contentType, record.lastModified]);
        await forgetUploads(q, [uploadId]);
        return [record, [...dropped]];
      }),
    abortUpload: (uploadId) =>
      change(async (q) => {
        await requireUpload(q, uploadId);
        const dropped = await partHashes(q, [uploadId]);
        await forgetUploads(q, [uploadId]);
        return [undefined, dropped];
      }),
    // Batches continue after the last (key, initiated, upload id) read: the SQLite order, with ids byte-wise.
    listUploads: async (bucket, opts = {}) => {
      await requireBucket(db, bucket);
      const pager = uploadPager(opts);
      let last: UploadRecord | undefined;
      for (;;) {
        const { rows } = await db.query(
          `SELECT * FROM bucket_uploads WHERE bucket = $1 AND key >= $2 AND key >= $3
             AND ($4::text IS NULL OR key > $4 OR (key = $4 AND (initiated > $5 OR (initiated = $5 AND upload_id COLLATE "C" > $6))))
           ORDER BY key, initiated, upload_id COLLATE "C" LIMIT $7`,
          [bucket, pager.prefix, pager.after, last?.key ?? null, last?.initiated ?? 0, last?.uploadId ?? '', LIST_BATCH],
        );
        for (const row of rows) if (!pager.add((last = toUpload(row as Row)))) return pager.listing();
        if (rows.length < LIST_BATCH) return pager.listing();
      }
    },
    expireUploads: (initiatedBefore) =>
      change(async (q) => {
        const expired = (await q.query('SELECT * FROM bucket_uploads WHERE initiated < $1 ORDER BY initiated', [initiatedBefore])).rows.map((r) => toUpload(r as Row));
        const ids = expired.map((u) => u.uploadId);
        const dropped = ids.length === 0 ? [] : await partHashes(q, ids);
        if (ids.length > 0) await forgetUploads(q, ids);
        return [expired, dropped];
      }),
    usage: (bucket) => usage(db, bucket),
    room: (bucket, write) => room(db, bucket, write),
    checkQuota: (bucket, write, size) => checkQuota(db, bucket, write, size),
  };
}
