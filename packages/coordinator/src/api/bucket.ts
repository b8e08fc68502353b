/**
 * The S3-compatible revision bucket, path-style, on the coordinator's HTTP port: enough of S3 for
 * `aws s3 cp/ls/rm/mb/rb`, `aws s3api` and @aws-sdk/client-s3 to upload revision bundles that
 * `create-deployment --s3-location` then names. Bytes go to the content-addressed blob store as they
 * stream in; metadata to the bucket store. Every request is SigV4-signed by an access key whose role
 * allows the operation (auth/request-guards.ts), or refused in S3's words.
 *
 *   request ─▶ guard.authenticate ─▶ routeS3Request ─▶ guard.authorize ─▶ operation handler ─▶ XML or bytes
 *                    │                    │                  │                   │ (bucket store, blob store)
 *                    └────────────────────┴──── S3Error ─────┴───────────────────┴──▶ <Error> document
 *                                                                                     (HEAD: status only)
 *   a full disk (SQLITE_FULL, ENOSPC) ─▶ XMinioStorageFull 507, logged once per episode (store/disk-full.ts)
 *   anything else thrown ─▶ InternalError 500, logged with its stack
 *
 * Bytes are stored held (blob-store.ts putHeld) and the hold is dropped only once the row naming
 * them is committed, so the blob collector never takes a blob between its write and its commit; a
 * write the store refuses (a full bucket, an upload aborted meanwhile) leaves an unheld, unreferenced
 * blob that the collector frees when the hold goes.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { BlobStore } from '../artifacts/blob-store.js';
import type { BucketGuard, Caller } from '../auth/request-guards.js';
import { isBucketRead } from '../auth/roles.js';
import { isBucketStoreError, MAX_LIST_KEYS } from '../store/bucket-store.js';
import type { ObjectListing, ObjectRecord, PartRecord, QuotaWrite } from '../store/bucket-store.js';
import type { AsyncBucketStore } from '../store/pg/pg-bucket-store.js';
import { bucketNameProblem } from './bucket-name.js';
import { selectRange } from './http-range.js';
import { evaluatePreconditions } from './preconditions.js';
import { declaredBodySize, drainRequest, isRequestAborted, openRequestBody, readBodyText } from './request-body.js';
import { isS3Error, S3Error } from './s3-errors.js';
import { parseCompleteMultipartUpload, parseDeleteObjects } from './s3-request-xml.js';
import { routeS3Request } from './s3-route.js';
import type { ListQuery, S3Operation, UploadsQuery } from './s3-route.js';
import { el, isoTime, renderXml, S3_XMLNS } from './s3-xml.js';
import type { XmlElement } from './s3-xml.js';
import { createDiskFullWatch } from '../store/disk-full.js';
import type { DiskFullWatch } from '../store/disk-full.js';

/**
 * BucketApiDeps are what the bucket API needs; `now` gives ms since the epoch; `guard` verifies each
 * request's signature before it is routed and the key's role once the operation is known.
 */
export interface BucketApiDeps {
  buckets: AsyncBucketStore;
  blobs: BlobStore;
  log: Logger;
  now: () => number;
  guard: BucketGuard;
  /** Hears of each request a full disk failed and of each change stored; the API makes its own without it. */
  disk?: DiskFullWatch;
}

/** BucketApi is the HTTP handler made by {@link createBucketApi}. */
export interface BucketApi {
  /** handle answers one S3 request; it never rejects (failures become S3 error responses). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * resolveObject finds the object an S3 revision location names, for the CodeDeploy side
   * (`--s3-location bucket=…,key=…`); undefined when there is none. Its blob is `blobs.path(sha256)`.
   */
  resolveObject(bucket: string, key: string): Promise<ObjectRecord | undefined>;
}

/** MAX_XML_BODY is the largest XML request document accepted (10,000 parts fit comfortably). */
export const MAX_XML_BODY = 4 * 1024 * 1024;

/** OWNER is the one account every bucket belongs to, as ListBuckets and listings report it. */
export const OWNER = { id: 'fleetdeploy', displayName: 'fleetdeploy' } as const;

const TOKEN_PREFIX = 'fd1\n';

/**
 * createBucketApi makes the bucket's request handler. Mount it for every request the CodeDeploy API
 * and health check do not claim.
 */
export function createBucketApi(deps: BucketApiDeps): BucketApi {
  const { buckets, blobs, now } = deps;
  const disk = deps.disk ?? createDiskFullWatch({ log: deps.log, now });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const log = deps.log.child({ requestId });
    const method = req.method ?? 'GET';
    const resource = (req.url ?? '/').split('?')[0]!;
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', randomBytes(24).toString('base64'));
    let op: S3Operation['op'] | undefined;
    let caller: Caller | undefined;
    // Every request that may change the bucket leaves an info-level audit line with the key that made it.
    const audit = (outcome: string): void => {
      if (caller !== undefined && op !== undefined && !isBucketRead(op)) log.info({ operation: `s3:${op}`, resource, accessKeyId: caller.keyId, role: caller.role, outcome }, 'api call');
    };
    try {
      caller = await deps.guard.authenticate(req);
      const copySource = req.headers['x-amz-copy-source'];
      const operation = routeS3Request(method, req.url ?? '/', typeof copySource === 'string' ? copySource : undefined);
      op = operation.op;
      deps.guard.authorize(caller, op);
      await dispatch(operation, req, res);
      log.debug({ op, status: res.statusCode }, 'bucket request');
      if (!isBucketRead(op)) disk.wrote(`s3:${op}`);
      audit('ok');
    } catch (err) {
      const s3 = isBucketStoreError(err) ? new S3Error(err.code, err.message) : err;
      drainRequest(req, res);
      if (isS3Error(s3)) {
        log.debug({ op, status: s3.status, code: s3.code }, 'bucket request refused');
        sendError(method, res, s3, resource, requestId);
        audit(s3.code);
      } else if (isRequestAborted(s3) || (res.destroyed && !res.writableFinished)) {
        log.info({ op }, 'bucket client went away');
      } else if (disk.failed(s3, `s3:${op ?? method}`)) {
        log.debug({ op }, 'bucket request not stored: the disk is full');
        sendError(method, res, new S3Error('XMinioStorageFull'), resource, requestId);
        audit('XMinioStorageFull');
      } else {
        log.error({ err, op, url: req.url }, 'bucket request failed');
        sendError(method, res, new S3Error('InternalError'), resource, requestId);
        audit('InternalError');
      }
    }
  }

  async function dispatch(o: S3Operation, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (o.op) {
      case 'ListBuckets':
        return sendXml(res, 200, await listBucketsXml());
      case 'CreateBucket': {
        const problem = bucketNameProblem(o.bucket);
        if (problem !== undefined) throw new S3Error('InvalidBucketName', problem);
        await buckets.createBucket(o.bucket, now());
        return sendEmpty(res, 200, { location: `/${o.bucket}` });
      }
      case 'HeadBucket':
        await requireBucket(o.bucket);
        return sendEmpty(res, 200, { 'x-amz-bucket-region': 'us-east-1' });
      case 'DeleteBucket':
        await buckets.deleteBucket(o.bucket);
        return sendEmpty(res, 204);
      case 'GetBucketLocation':
        await requireBucket(o.bucket);
        return sendXml(res, 200, renderXml(el('LocationConstraint', ''), S3_XMLNS));
      case 'ListObjects':
      case 'ListObjectsV2':
        return sendXml(res, 200, await listObjectsXml(o.op, o.bucket, o.query));
      case 'ListMultipartUploads':
        return sendXml(res, 200, await listUploadsXml(o.bucket, o.query));
      case 'DeleteObjects':
        return deleteObjects(o.bucket, req, res);
      case 'PutObject':
        return putObject(o.bucket, o.key, req, res);
      case 'CopyObject':
        return copyObject(o.bucket, o.key, o.source, req, res);
      case 'GetObject':
      case 'HeadObject':
        return getObject(o.bucket, o.key, o.op === 'HeadObject', req, res);
      case 'DeleteObject':
        await buckets.deleteObject(o.bucket, o.key);
        return sendEmpty(res, 204);
      case 'CreateMultipartUpload': {
        const upload = await buckets.createUpload({ bucket: o.bucket, key: o.key, contentType: contentTypeOf(req) }, now());
        return sendXml(
          res,
          200,
          renderXml(
            el('InitiateMultipartUploadResult', [el('Bucket', o.bucket), el('Key', o.key), el('UploadId', upload.uploadId)]),
            S3_XMLNS,
          ),
        );
      }
      case 'UploadPart':
        return uploadPart(o.bucket, o.key, o.uploadId, o.partNumber, req, res);
      case 'CompleteMultipartUpload':
        return completeUpload(o.bucket, o.key, o.uploadId, req, res);
      case 'AbortMultipartUpload':
        await requireUpload(o.bucket, o.key, o.uploadId);
        await buckets.abortUpload(o.uploadId);
        return sendEmpty(res, 204);
      case 'ListParts':
        return sendXml(res, 200, await listPartsXml(o.bucket, o.key, o.uploadId, o.partNumberMarker, o.maxParts));
    }
  }

  async function requireBucket(bucket: string): Promise<void> {
    if ((await buckets.getBucket(bucket)) === undefined) throw new S3Error('NoSuchBucket');
  }

  async function requireUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await requireBucket(bucket);
    const upload = await buckets.getUpload(uploadId);
    if (upload === undefined || upload.bucket !== bucket || upload.key !== key) throw new S3Error('NoSuchUpload');
  }

  /**
   * requestBody is the request's payload, refused with QuotaExceeded before it is read when its
   * declared size does not fit the bucket's quota, and as soon as more arrives than fits (a body of
   * undeclared length). The store checks again at commit, where concurrent writes are seen.
   */
  async function requestBody(req: IncomingMessage, bucket: string, write: QuotaWrite): Promise<AsyncIterable<Uint8Array>> {
    const room = await buckets.room(bucket, write);
    const declared = declaredBodySize(req.headers);
    if (room !== undefined && declared !== undefined) await buckets.checkQuota(bucket, write, declared);
    const body = openRequestBody(req);
    if (room === undefined) return body;
    return (async function* limited() {
      let size = 0;
      let left = room;
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > left) {
          // Past the room seen at the start: look again (other writes may have freed some), refuse if it still does not fit.
          try {
            await buckets.checkQuota(bucket, write, size);
          } catch (err) {
            body.destroy();
            throw err;
          }
          left = (await buckets.room(bucket, write)) ?? Infinity;
        }
        yield chunk;
      }
    })();
  }

  async function putObject(bucket: string, key: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    await requireBucket(bucket);
    const blob = await blobs.putHeld(await requestBody(req, bucket, { key }));
    try {
      const record = await buckets.putObject({ bucket, key, sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"`, contentType: contentTypeOf(req) }, now());
      sendEmpty(res, 200, { etag: record.etag });
    } finally {
      blob.release();
    }
  }

  async function copyObject(
    bucket: string,
    key: string,
    source: { bucket: string; key: string },
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    await requireBucket(source.bucket);
    await requireBucket(bucket);
    const from = await buckets.getObject(source.bucket, source.key);
    if (from === undefined) throw new S3Error('NoSuchKey');
    const replace = String(req.headers['x-amz-metadata-directive'] ?? 'COPY').toUpperCase() === 'REPLACE';
    if (source.bucket === bucket && source.key === key && !replace) {
      throw new S3Error(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    // Held until the copy's row commits: the store is asynchronous, so the source may be deleted and
    // its blob collected between the read above and that commit. Gone already: the source is gone.
    const held = await blobs.hold(from.sha256);
    if (held === undefined) throw new S3Error('NoSuchKey');
    let record: ObjectRecord;
    try {
      record = await buckets.putObject(
        { bucket, key, sha256: from.sha256, size: from.size, etag: from.etag, contentType: replace ? contentTypeOf(req) : from.contentType },
        now(),
      );
    } finally {
      held.release();
    }
    sendXml(res, 200, renderXml(el('CopyObjectResult', [el('LastModified', isoTime(record.lastModified)), el('ETag', record.etag)]), S3_XMLNS));
  }

  async function getObject(bucket: string, key: string, head: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // An overwrite or delete may free the blob between the lookup and the open: look again, a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        return await getObjectOnce(bucket, key, head, req, res);
      } catch (err) {
        if (attempt >= 3 || (err as NodeJS.ErrnoException).code !== 'ENOENT' || res.headersSent) throw err;
      }
    }
  }

  async function getObjectOnce(bucket: string, key: string, head: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
    await requireBucket(bucket);
    const object = await buckets.getObject(bucket, key);
    if (object === undefined) throw new S3Error('NoSuchKey');
    const headers: OutgoingHttpHeaders = {
      etag: object.etag,
      'last-modified': new Date(object.lastModified).toUTCString(),
      'accept-ranges': 'bytes',
    };
    const condition = evaluatePreconditions(req.headers, object.etag, object.lastModified);
    if (condition === 'failed') throw new S3Error('PreconditionFailed');
    if (condition === 'not-modified') return sendEmpty(res, 304, headers);
    headers['content-type'] = object.contentType;
    const range = selectRange(req.headers.range, object.size);
    if (range.kind === 'unsatisfiable') {
      res.setHeader('content-range', `bytes */${object.size}`);
      throw new S3Error('InvalidRange');
    }
    const [start, end, status] = range.kind === 'partial' ? [range.start, range.end, 206] : [0, object.size - 1, 200];
    headers['content-length'] = end - start + 1;
    if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${object.size}`;
    if (head || object.size === 0) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const stream = await blobs.open(object.sha256, { start, end });
    res.writeHead(status, headers);
    await pipeline(stream, res);
  }

  async function uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    await requireUpload(bucket, key, uploadId);
    const blob = await blobs.putHeld(await requestBody(req, bucket, { uploadId, partNumber }));
    try {
      const part = await buckets.putPart({ uploadId, partNumber, sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, now());
      sendEmpty(res, 200, { etag: part.etag });
    } finally {
      blob.release();
    }
  }

  async function completeUpload(bucket: string, key: string, uploadId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    await requireUpload(bucket, key, uploadId);
    const requested = parseCompleteMultipartUpload(await readBodyText(openRequestBody(req), MAX_XML_BODY));
    const order = await buckets.planCompletion(uploadId, requested);
    // The parts are held while they are read: an abort meanwhile must not free them under the reader.
    const parts = await Promise.all(order.parts.map((p) => blobs.hold(p.sha256)));
    let record: ObjectRecord;
    try {
      const lost = order.parts.find((_, i) => parts[i] === undefined);
      if (lost !== undefined) {
        // An abort between the plan and the holds freed the parts; anything else is a damaged store.
        if ((await buckets.getUpload(uploadId)) === undefined) throw new S3Error('NoSuchUpload');
        throw new Error(`the bytes of part ${lost.partNumber} of upload ${uploadId} (blob ${lost.sha256}) are missing from the blob store`);
      }
      const blob = await blobs.putHeld(concatenate(order.parts));
      try {
        if (blob.size !== order.size) throw new Error(`assembled ${blob.size} bytes for upload ${uploadId}, expected ${order.size}`);
        record = await buckets.completeUpload(uploadId, { sha256: blob.sha256, size: blob.size, etag: order.etag }, now());
      } finally {
        blob.release();
      }
    } finally {
      for (const p of parts) p?.release();
    }
    // The URL the client reached the object by: https on the coordinator's default port.
    const scheme = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
    const location = `${scheme}://${req.headers.host ?? 'localhost'}/${encodeURIComponent(bucket)}/${encodeKey(key)}`;
    sendXml(
      res,
      200,
      renderXml(
        el('CompleteMultipartUploadResult', [el('Location', location), el('Bucket', bucket), el('Key', key), el('ETag', record.etag)]),
        S3_XMLNS,
      ),
    );
  }

  async function* concatenate(parts: readonly PartRecord[]): AsyncIterable<Uint8Array> {
    for (const part of parts) {
      yield* (await blobs.open(part.sha256)) as AsyncIterable<Uint8Array>;
    }
  }

  async function deleteObjects(bucket: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    await requireBucket(bucket);
    const request = parseDeleteObjects(await readBodyText(openRequestBody(req), MAX_XML_BODY));
    const deleted: XmlElement[] = [];
    for (const key of request.keys) {
      await buckets.deleteObject(bucket, key);
      if (!request.quiet) deleted.push(el('Deleted', [el('Key', key)]));
    }
    sendXml(res, 200, renderXml(el('DeleteResult', deleted), S3_XMLNS));
  }

  async function listBucketsXml(): Promise<string> {
    const all = await buckets.listBuckets();
    return renderXml(
      el('ListAllMyBucketsResult', [
        ownerXml('Owner'),
        el(
          'Buckets',
          all.map((b) => el('Bucket', [el('Name', b.name), el('CreationDate', isoTime(b.createdAt))])),
        ),
      ]),
      S3_XMLNS,
    );
  }

  async function listObjectsXml(op: 'ListObjects' | 'ListObjectsV2', bucket: string, q: ListQuery): Promise<string> {
    const v2 = op === 'ListObjectsV2';
    const after = v2 ? (q.continuationToken !== undefined ? decodeToken(q.continuationToken) : q.startAfter) : q.marker;
    const page: ObjectListing = await buckets.listObjects(bucket, { prefix: q.prefix, delimiter: q.delimiter, after, maxKeys: q.maxKeys });
    const enc = (s: string): string => (q.encodingType === 'url' ? encodeKey(s) : s);
    const maybe = (name: string, value: string | undefined): XmlElement | undefined =>
      value === undefined ? undefined : el(name, value);
    const contents = page.objects.map((o) =>
      el('Contents', [
        el('Key', enc(o.key)),
        el('LastModified', isoTime(o.lastModified)),
        el('ETag', o.etag),
        el('Size', o.size),
        el('StorageClass', 'STANDARD'),
        !v2 || q.fetchOwner === true ? ownerXml('Owner') : undefined,
      ]),
    );
    const prefixes = page.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))]));
    const head = v2
      ? [
          el('Name', bucket),
          el('Prefix', enc(q.prefix)),
          maybe('Delimiter', q.delimiter === undefined ? undefined : enc(q.delimiter)),
          el('MaxKeys', Math.min(q.maxKeys, MAX_LIST_KEYS)),
          maybe('EncodingType', q.encodingType),
          el('KeyCount', page.objects.length + page.commonPrefixes.length),
          el('IsTruncated', page.isTruncated),
          maybe('ContinuationToken', q.continuationToken),
          maybe('NextContinuationToken', page.next === undefined ? undefined : encodeToken(page.next)),
          maybe('StartAfter', q.startAfter === undefined ? undefined : enc(q.startAfter)),
        ]
      : [
          el('Name', bucket),
          el('Prefix', enc(q.prefix)),
          el('Marker', enc(q.marker ?? '')),
          el('MaxKeys', Math.min(q.maxKeys, MAX_LIST_KEYS)),
          maybe('Delimiter', q.delimiter === undefined ? undefined : enc(q.delimiter)),
          maybe('EncodingType', q.encodingType),
          el('IsTruncated', page.isTruncated),
          maybe('NextMarker', page.next === undefined ? undefined : enc(page.next)),
        ];
    return renderXml(el('ListBucketResult', [...head, ...contents, ...prefixes]), S3_XMLNS);
  }

  async function listUploadsXml(bucket: string, q: UploadsQuery): Promise<string> {
    const page = await buckets.listUploads(bucket, {
      prefix: q.prefix,
      ...(q.delimiter !== undefined ? { delimiter: q.delimiter } : {}),
      ...(q.keyMarker !== undefined ? { keyMarker: q.keyMarker } : {}),
      ...(q.uploadIdMarker !== undefined ? { uploadIdMarker: q.uploadIdMarker } : {}),
      maxUploads: q.maxUploads,
    });
    const enc = (s: string): string => (q.encodingType === 'url' ? encodeKey(s) : s);
    return renderXml(
      el('ListMultipartUploadsResult', [
        el('Bucket', bucket),
        el('KeyMarker', enc(q.keyMarker ?? '')),
        el('UploadIdMarker', q.uploadIdMarker ?? ''),
        page.nextKeyMarker === undefined ? undefined : el('NextKeyMarker', enc(page.nextKeyMarker)),
        page.nextUploadIdMarker === undefined ? undefined : el('NextUploadIdMarker', page.nextUploadIdMarker),
        q.delimiter === undefined ? undefined : el('Delimiter', enc(q.delimiter)),
        el('Prefix', enc(q.prefix)),
        el('MaxUploads', Math.min(q.maxUploads, MAX_LIST_KEYS)),
        el('IsTruncated', page.isTruncated),
        q.encodingType === undefined ? undefined : el('EncodingType', 'url'),
        ...page.uploads.map((u) =>
          el('Upload', [
            el('Key', enc(u.key)),
            el('UploadId', u.uploadId),
            ownerXml('Initiator'),
            ownerXml('Owner'),
            el('StorageClass', 'STANDARD'),
            el('Initiated', isoTime(u.initiated)),
          ]),
        ),
        ...page.commonPrefixes.map((p) => el('CommonPrefixes', [el('Prefix', enc(p))])),
      ]),
      S3_XMLNS,
    );
  }

  async function listPartsXml(bucket: string, key: string, uploadId: string, partNumberMarker: number, maxParts: number): Promise<string> {
    await requireUpload(bucket, key, uploadId);
    const page = await buckets.listParts(uploadId, { partNumberMarker, maxParts });
    return renderXml(
      el('ListPartsResult', [
        el('Bucket', bucket),
        el('Key', key),
        el('UploadId', uploadId),
        ownerXml('Initiator'),
        ownerXml('Owner'),
        el('StorageClass', 'STANDARD'),
        el('PartNumberMarker', partNumberMarker),
        page.nextPartNumberMarker === undefined ? undefined : el('NextPartNumberMarker', page.nextPartNumberMarker),
        el('MaxParts', Math.min(maxParts, MAX_LIST_KEYS)),
        el('IsTruncated', page.isTruncated),
        ...page.parts.map((p) =>
          el('Part', [el('PartNumber', p.partNumber), el('LastModified', isoTime(p.lastModified)), el('ETag', p.etag), el('Size', p.size)]),
        ),
      ]),
      S3_XMLNS,
    );
  }

  return { handle, resolveObject: (bucket, key) => buckets.getObject(bucket, key) };
}

function ownerXml(name: string): XmlElement {
  return el(name, [el('ID', OWNER.id), el('DisplayName', OWNER.displayName)]);
}

function contentTypeOf(req: IncomingMessage): string | undefined {
  const type = req.headers['content-type'];
  return type === undefined || type === '' ? undefined : type;
}

/** encodeKey percent-encodes a key for `encoding-type=url` listings and URLs, keeping `/` as is. */
function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/');
}

function encodeToken(after: string): string {
  return Buffer.from(TOKEN_PREFIX + after, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith(TOKEN_PREFIX) || encodeToken(text.slice(TOKEN_PREFIX.length)) !== token) {
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect');
  }
  return text.slice(TOKEN_PREFIX.length);
}

function sendXml(res: ServerResponse, status: number, document: string): void {
  const body = Buffer.from(document, 'utf8');
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': body.length });
  res.end(body);
}

function sendEmpty(res: ServerResponse, status: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, status === 204 || status === 304 ? headers : { ...headers, 'content-length': 0 });
  res.end();
}

function sendError(method: string, res: ServerResponse, err: S3Error, resource: string, requestId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (method === 'HEAD') {
    res.writeHead(err.status, { 'content-length': 0 });
    res.end();
    return;
  }
  const doc = renderXml(
    el('Error', [el('Code', err.code), el('Message', err.message), el('Resource', resource), el('RequestId', requestId)]),
  );
  sendXml(res, err.status, doc);
}
