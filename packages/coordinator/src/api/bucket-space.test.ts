/**
 * The bucket API freeing and bounding disk: over a real node:http server on loopback, a real SQLite
 * file with every migration, real blob files and the blob collector wired as the coordinator wires it.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore } from '../artifacts/blob-store.js';
import type { BlobStore } from '../artifacts/blob-store.js';
import { createBlobCollector } from '../artifacts/blob-collector.js';
import type { BlobCollector } from '../artifacts/blob-collector.js';
import { createBlobReferences } from '../store/blob-references.js';
import { createBucketStore } from '../store/bucket-store.js';
import type { BucketStore } from '../store/bucket-store.js';
import type { AsyncBucketStore } from '../store/pg/pg-bucket-store.js';
import { migrate } from '../store/migrate.js';
import { migrations } from '../store/migrations/index.js';
import { uncheckedBucketGuard } from '../testing/unchecked-guards.js';
import { createBucketApi } from './bucket.js';
import { promised } from '../store/promised.js';

let dir: string;
let db: Database.Database;
let buckets: BucketStore;
let asyncBuckets: AsyncBucketStore;
let blobs: BlobStore;
let collector: BlobCollector;
let server: http.Server;
let port: number;
let quotas: Record<string, number>;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bucket-space-api-'));
  db = new Database(path.join(dir, 'coordinator.db'));
  migrate(db, migrations);
  quotas = {};
  buckets = createBucketStore(db, { minPartSize: 5, quotaBytes: (b) => quotas[b], released: (s) => collector.consider(s) });
  blobs = createBlobStore(path.join(dir, 'blobs'), undefined, { released: (s) => collector.consider([s]) });
  collector = createBlobCollector({ blobs, references: promised(createBlobReferences(db)), log: pino({ level: 'silent' }), now: () => Date.now() });
  asyncBuckets = promised(buckets);
  const api = createBucketApi({ buckets: asyncBuckets, blobs, log: pino({ level: 'silent' }), now: () => Date.now(), guard: uncheckedBucketGuard });
  server = http.createServer((req, res) => void api.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  expect((await send('PUT', '/rev')).status).toBe(200);
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await collector.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  text: string;
  etag?: string;
}

/** send makes one request; a function body writes the request itself (chunked, no Content-Length). */
function send(method: string, target: string, body?: string | Buffer | ((req: http.ClientRequest) => void)): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8'), ...(res.headers.etag !== undefined ? { etag: res.headers.etag } : {}) }));
    });
    req.on('error', reject);
    if (typeof body === 'function') body(req);
    else req.end(body);
  });
}

const tags = (r: Reply, name: string): string[] => [...r.text.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);

/** blobBytes is what the blob folder holds: the size of every blob file and temp file in it. */
function blobBytes(): number {
  let total = 0;
  for (const entry of fs.readdirSync(path.join(dir, 'blobs'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

async function startUpload(key: string): Promise<string> {
  return tags(await send('POST', `/rev/${key}?uploads`), 'UploadId')[0]!;
}

describe('freeing space', () => {
  it('overwrites, deletes, a completed upload and an aborted one leave only the live objects on disk', async () => {
    for (let i = 0; i < 5; i++) expect((await send('PUT', '/rev/app.zip', Buffer.alloc(1000, i))).status).toBe(200);
    await collector.idle();
    expect(blobBytes()).toBe(1000);

    const id = await startUpload('big.zip');
    const e1 = (await send('PUT', `/rev/big.zip?partNumber=1&uploadId=${id}`, Buffer.alloc(600, 'a'))).etag!;
    await send('PUT', `/rev/big.zip?partNumber=2&uploadId=${id}`, Buffer.alloc(500, 'x')); // replaced next
    const e2 = (await send('PUT', `/rev/big.zip?partNumber=2&uploadId=${id}`, Buffer.alloc(400, 'b'))).etag!;
    await collector.idle();
    expect(blobBytes()).toBe(1000 + 600 + 400);
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${e1}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>${e2}</ETag></Part></CompleteMultipartUpload>`;
    expect((await send('POST', `/rev/big.zip?uploadId=${id}`, xml)).status).toBe(200);
    await collector.idle();
    expect(blobBytes()).toBe(1000 + 1000); // the parts went with the upload

    const abandoned = await startUpload('gone.zip');
    await send('PUT', `/rev/gone.zip?partNumber=1&uploadId=${abandoned}`, Buffer.alloc(700, 'c'));
    expect((await send('DELETE', `/rev/gone.zip?uploadId=${abandoned}`)).status).toBe(204);
    expect((await send('DELETE', '/rev/app.zip')).status).toBe(204);
    await collector.idle();
    expect(blobBytes()).toBe(1000);
    expect((await send('GET', '/rev/big.zip')).text).toBe('a'.repeat(600) + 'b'.repeat(400));
  });

  it('DeleteObjects frees every blob it deleted', async () => {
    await send('PUT', '/rev/a', 'aaa');
    await send('PUT', '/rev/b', 'bbb');
    const r = await send('POST', '/rev?delete', '<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object></Delete>');
    expect(r.status).toBe(200);
    await collector.idle();
    expect(blobBytes()).toBe(0);
  });
});

describe('ListMultipartUploads', () => {
  it("lists unfinished uploads in S3's document, pages with markers, and forgets completed and aborted ones", async () => {
    const a = await startUpload('releases/a.zip');
    const b = await startUpload('releases/b.zip');
    const c = await startUpload('top.zip');
    const all = await send('GET', '/rev?uploads');
    expect(all.status).toBe(200);
    expect(all.text).toContain('<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">');
    expect(tags(all, 'Key')).toEqual(['releases/a.zip', 'releases/b.zip', 'top.zip']);
    expect(tags(all, 'UploadId')).toEqual([a, b, c]);
    expect(tags(all, 'IsTruncated')).toEqual(['false']);
    expect(tags(all, 'Initiated')[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(all.text).toContain('<Initiator><ID>fleetdeploy</ID><DisplayName>fleetdeploy</DisplayName></Initiator>');

    const page = await send('GET', '/rev?uploads&max-uploads=1');
    expect(tags(page, 'IsTruncated')).toEqual(['true']);
    expect(tags(page, 'NextKeyMarker')).toEqual(['releases/a.zip']);
    expect(tags(page, 'NextUploadIdMarker')).toEqual([a]);
    const next = await send('GET', `/rev?uploads&key-marker=releases%2Fa.zip&upload-id-marker=${a}`);
    expect(tags(next, 'UploadId')).toEqual([b, c]);

    const rolled = await send('GET', '/rev?uploads&delimiter=%2F');
    expect(tags(rolled, 'Prefix')).toEqual(['', 'releases/']);
    expect(tags(rolled, 'UploadId')).toEqual([c]);

    await send('DELETE', `/rev/top.zip?uploadId=${c}`);
    expect(tags(await send('GET', '/rev?uploads&prefix=top'), 'UploadId')).toEqual([]);
    const missing = await send('GET', '/nope?uploads');
    expect([missing.status, tags(missing, 'Code')]).toEqual([404, ['NoSuchBucket']]);
  });
});

describe('the quota', () => {
  it('refuses an upload whose declared size does not fit, before storing anything, with 403 QuotaExceeded', async () => {
    quotas.rev = 1000;
    expect((await send('PUT', '/rev/a.zip', Buffer.alloc(600))).status).toBe(200);
    const r = await send('PUT', '/rev/b.zip', Buffer.alloc(401));
    expect(r.status).toBe(403);
    expect(tags(r, 'Code')).toEqual(['QuotaExceeded']);
    expect(tags(r, 'Message')[0]).toMatch(/^Bucket rev is over its quota: it holds 600 bytes .*its quota is 1000 bytes \(bucket_quota_bytes\), and this write of 401 bytes does not fit/);
    expect((await send('PUT', '/rev/b.zip', Buffer.alloc(400))).status).toBe(200);
    expect((await send('PUT', '/rev/a.zip', Buffer.alloc(600, 1))).status).toBe(200); // an overwrite reuses its room
    await collector.idle();
    expect(blobBytes()).toBe(1000);
  });

  it('stops a body of undeclared length as soon as it passes the quota and keeps nothing of it', async () => {
    quotas.rev = 1000;
    const r = await send('PUT', '/rev/stream.zip', (req) => {
      req.write(Buffer.alloc(800));
      setTimeout(() => req.end(Buffer.alloc(800)), 20);
    });
    expect([r.status, tags(r, 'Code')]).toEqual([403, ['QuotaExceeded']]);
    expect(tags(r, 'Message')[0]).toMatch(/write of 1600 bytes does not fit/);
    await collector.idle();
    expect(blobBytes()).toBe(0);
    expect((await send('HEAD', '/rev/stream.zip')).status).toBe(404);
  });

  it('counts the parts of unfinished uploads, and applies to UploadPart and CopyObject', async () => {
    quotas.rev = 1000;
    const id = await startUpload('big.zip');
    expect((await send('PUT', `/rev/big.zip?partNumber=1&uploadId=${id}`, Buffer.alloc(700))).status).toBe(200);
    const part = await send('PUT', `/rev/big.zip?partNumber=2&uploadId=${id}`, Buffer.alloc(301));
    expect([part.status, tags(part, 'Code')]).toEqual([403, ['QuotaExceeded']]);
    expect((await send('PUT', '/rev/small.zip', Buffer.alloc(300))).status).toBe(200);
    const copy = await new Promise<Reply>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/rev/copy.zip', headers: { 'x-amz-copy-source': '/rev/small.zip' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.end();
    });
    expect([copy.status, tags(copy, 'Code')]).toEqual([403, ['QuotaExceeded']]);
    expect((await send('DELETE', `/rev/big.zip?uploadId=${id}`)).status).toBe(204);
    expect((await send('PUT', `/rev/other.zip`, Buffer.alloc(700))).status).toBe(200);
  });
});

describe('racing the collector', () => {
  const completion = (parts: [number, string][]) =>
    `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;

  it('a GET whose blob an overwrite freed between the lookup and the open serves the new version', async () => {
    await send('PUT', '/rev/app.zip', 'version 1');
    const realOpen = blobs.open;
    let raced = false;
    blobs.open = async (sha, range) => {
      if (!raced) {
        raced = true;
        await send('PUT', '/rev/app.zip', 'version 2');
        await collector.idle();
      }
      return realOpen(sha, range);
    };
    const r = await send('GET', '/rev/app.zip');
    expect(raced).toBe(true);
    expect([r.status, r.text]).toEqual([200, 'version 2']);
  });

  it('a copy whose source is deleted and its blob collected between the read and the commit answers NoSuchKey and stores nothing', async () => {
    await send('PUT', '/rev/src.zip', 'copied bytes');
    const realGet = asyncBuckets.getObject;
    asyncBuckets.getObject = async (bucket, key) => {
      const found = await realGet(bucket, key);
      await asyncBuckets.deleteObject('rev', 'src.zip'); // another client deletes the source just after the read
      await collector.idle(); // ... and the collector frees its blob
      return found;
    };
    try {
      const copy = await send('PUT', '/rev/dst.zip', (req) => {
        req.setHeader('x-amz-copy-source', '/rev/src.zip');
        req.end();
      });
      expect([copy.status, tags(copy, 'Code')]).toEqual([404, ['NoSuchKey']]);
    } finally {
      asyncBuckets.getObject = realGet;
    }
    expect((await send('HEAD', '/rev/dst.zip')).status).toBe(404);
  });

  it('a completion whose upload is aborted and collected meanwhile answers NoSuchUpload; a part missing from a live upload is an internal error', async () => {
    const id = await startUpload('big.zip');
    const etag = (await send('PUT', `/rev/big.zip?partNumber=1&uploadId=${id}`, 'part one')).etag!;
    const realPlan = asyncBuckets.planCompletion;
    const realHold = blobs.hold;
    asyncBuckets.planCompletion = async (uploadId, requested) => {
      const order = await realPlan(uploadId, requested);
      await asyncBuckets.abortUpload(uploadId); // another client aborts just after the plan
      return order;
    };
    blobs.hold = async (sha) => {
      await collector.idle(); // ... and the collector frees the parts before they are held
      return realHold(sha);
    };
    const r = await send('POST', `/rev/big.zip?uploadId=${id}`, completion([[1, etag]]));
    expect([r.status, tags(r, 'Code')]).toEqual([404, ['NoSuchUpload']]);
    asyncBuckets.planCompletion = realPlan;
    blobs.hold = realHold;

    const other = await startUpload('other.zip');
    const e = (await send('PUT', `/rev/other.zip?partNumber=1&uploadId=${other}`, 'damaged')).etag!;
    for (const sha of buckets.listParts(other).parts.map((p) => p.sha256)) fs.rmSync(blobs.path(sha));
    const damaged = await send('POST', `/rev/other.zip?uploadId=${other}`, completion([[1, e]]));
    expect([damaged.status, tags(damaged, 'Code')]).toEqual([500, ['InternalError']]);
  });

  it('a body that passes the room seen at its start is taken when space was freed meanwhile', async () => {
    quotas.rev = 1000;
    await send('PUT', '/rev/a.zip', Buffer.alloc(600));
    const r = await send('PUT', '/rev/b.zip', (req) => {
      req.write(Buffer.alloc(300));
      setTimeout(() => {
        buckets.deleteObject('rev', 'a.zip');
        req.end(Buffer.alloc(500));
      }, 20);
    });
    expect(r.status).toBe(200);
    expect(buckets.usage('rev')).toBe(800);
  });
});
