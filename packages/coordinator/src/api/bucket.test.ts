/**
 * The bucket API over a real node:http server on loopback, with real SQLite and blob files.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore } from '../artifacts/blob-store.js';
import type { BlobStore } from '../artifacts/blob-store.js';
import { createBucketStore } from '../store/bucket-store.js';
import type { BucketStore } from '../store/bucket-store.js';
import { migration } from '../store/migrations/002-bucket.js';
import { createBucketApi } from './bucket.js';
import { promised } from '../store/promised.js';
import { uncheckedBucketGuard } from '../testing/unchecked-guards.js';
import { floodRequest } from '../testing/flood-request.js';
import type { BucketApi } from './bucket.js';
import { fillDatabase, freeDatabase } from '../testing/full-database.js';
import { DISK_FULL_MESSAGE } from '../store/disk-full.js';

let dir: string;
let db: Database.Database;
let buckets: BucketStore;
let blobs: BlobStore;
let api: BucketApi;
let server: http.Server;
let port: number;
let logLines: string[];
let clock: number;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bucket-api-'));
  db = new Database(path.join(dir, 'coordinator.db'));
  db.pragma('journal_mode = WAL');
  db.exec(migration.sql);
  buckets = createBucketStore(db, { minPartSize: 5 });
  blobs = createBlobStore(path.join(dir, 'blobs'));
  logLines = [];
  const sink = new PassThrough();
  sink.on('data', (line: Buffer) => logLines.push(line.toString()));
  clock = Date.UTC(2026, 0, 2, 3, 4, 5);
  api = createBucketApi({ buckets: promised(buckets), blobs, log: pino({ level: 'debug' }, sink), now: () => clock, guard: uncheckedBucketGuard });
  server = http.createServer((req, res) => void api.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** send makes one request; `body` may be a Buffer, a string or a function that writes to the request. */
function send(
  method: string,
  target: string,
  opts: { headers?: http.OutgoingHttpHeaders; body?: string | Buffer | ((req: http.ClientRequest) => void) } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
      });
    });
    req.on('error', reject);
    if (typeof opts.body === 'function') opts.body(req);
    else req.end(opts.body);
  });
}

const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');
const b64 = (algorithm: string, data: string | Buffer): string => createHash(algorithm).update(data).digest('base64');
const crc32 = (data: string | Buffer): string => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(data));
  return out.toString('base64');
};
const errorCode = (r: Reply): string | undefined => /<Code>([^<]*)<\/Code>/.exec(r.text)?.[1];
const tags = (r: Reply, name: string): string[] => [...r.text.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]!);

/** chunked encodes a payload as aws-chunked, in pieces of `size`, with optional trailer lines. */
function chunked(payload: Buffer, size: number, trailers: string[] = [], signed = false): Buffer {
  const sig = signed ? `;chunk-signature=${'0'.repeat(64)}` : '';
  const parts: Buffer[] = [];
  for (let at = 0; at < payload.length; at += size) {
    const piece = payload.subarray(at, at + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}${sig}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0${sig}\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

async function makeBucket(name = 'revisions'): Promise<void> {
  expect((await send('PUT', `/${name}`)).status).toBe(200);
}

describe('buckets', () => {
  it('CreateBucket, ListBuckets, HeadBucket and DeleteBucket', async () => {
    const created = await send('PUT', '/revisions', { body: '<CreateBucketConfiguration/>' });
    expect(created.status).toBe(200);
    expect(created.headers.location).toBe('/revisions');
    expect(created.headers['x-amz-request-id']).toMatch(/^[0-9A-F]{16}$/);
    const list = await send('GET', '/');
    expect(list.headers['content-type']).toBe('application/xml');
    expect(list.text).toContain('<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">');
    expect(tags(list, 'Name')).toEqual(['revisions']);
    expect(tags(list, 'CreationDate')).toEqual(['2026-01-02T03:04:05.000Z']);
    expect((await send('HEAD', '/revisions')).status).toBe(200);
    expect((await send('GET', '/revisions?location')).text).toContain(
      '<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>',
    );
    expect((await send('DELETE', '/revisions/')).status).toBe(204);
    expect((await send('HEAD', '/revisions')).status).toBe(404);
  });

  it('errors: BucketAlreadyOwnedByYou 409, InvalidBucketName 400, NoSuchBucket 404, BucketNotEmpty 409', async () => {
    await makeBucket();
    const again = await send('PUT', '/revisions');
    expect([again.status, errorCode(again)]).toEqual([409, 'BucketAlreadyOwnedByYou']);
    const bad = await send('PUT', '/Bad_Name');
    expect([bad.status, errorCode(bad)]).toEqual([400, 'InvalidBucketName']);
    expect(tags(bad, 'Resource')).toEqual(['/Bad_Name']);
    expect(tags(bad, 'RequestId')).toEqual([bad.headers['x-amz-request-id']]);
    const missing = await send('DELETE', '/nope');
    expect([missing.status, errorCode(missing)]).toEqual([404, 'NoSuchBucket']);
    expect(missing.text).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NoSuchBucket<\/Code><Message>/);
    await send('PUT', '/revisions/k', { body: 'x' });
    const notEmpty = await send('DELETE', '/revisions');
    expect([notEmpty.status, errorCode(notEmpty)]).toEqual([409, 'BucketNotEmpty']);
  });

  it('every request that may change the bucket leaves an info audit line with the key that made it; reads none', async () => {
    await send('PUT', '/revisions', { body: '<CreateBucketConfiguration/>' });
    await send('PUT', '/revisions', { body: '<CreateBucketConfiguration/>' }); // already there
    await send('GET', '/');
    await send('PUT', '/revisions/shop/v1.zip', { body: 'zip' });
    const audit = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'api call');
    expect(audit.map((l) => [l.level, l.operation, l.resource, l.accessKeyId, l.outcome])).toEqual([
      [30, 's3:CreateBucket', '/revisions', 'AKIATESTUNCHECKED000', 'ok'],
      [30, 's3:CreateBucket', '/revisions', 'AKIATESTUNCHECKED000', 'BucketAlreadyOwnedByYou'],
      [30, 's3:PutObject', '/revisions/shop/v1.zip', 'AKIATESTUNCHECKED000', 'ok'],
    ]);
  });

  it('HEAD errors carry the status and no body', async () => {
    const r = await send('HEAD', '/nope');
    expect(r.status).toBe(404);
    expect(r.body.length).toBe(0);
  });
});

describe('objects', () => {
  beforeEach(() => makeBucket());

  it('PutObject stores the bytes content-addressed; GetObject and HeadObject return them with S3 headers', async () => {
    const put = await send('PUT', '/revisions/app/v1.zip', { body: 'hello world', headers: { 'content-type': 'application/zip' } });
    expect(put.status).toBe(200);
    expect(put.headers.etag).toBe(`"${md5('hello world')}"`);
    const record = (await api.resolveObject('revisions', 'app/v1.zip'))!;
    expect(fs.readFileSync(blobs.path(record.sha256), 'utf8')).toBe('hello world');

    const get = await send('GET', '/revisions/app/v1.zip');
    expect(get.status).toBe(200);
    expect(get.text).toBe('hello world');
    expect(get.headers).toMatchObject({
      etag: `"${md5('hello world')}"`,
      'content-type': 'application/zip',
      'content-length': '11',
      'last-modified': 'Fri, 02 Jan 2026 03:04:05 GMT',
      'accept-ranges': 'bytes',
    });
    const head = await send('HEAD', '/revisions/app/v1.zip');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('11');
    expect(head.body.length).toBe(0);
  });

  it('keys are taken verbatim: percent-decoded, with //, .. and spaces kept; + in a path is a plus', async () => {
    for (const [target, key] of [
      ['/revisions/a//b', 'a//b'],
      ['/revisions/a/../b', 'a/../b'],
      ['/revisions/with%20space+plus%E2%82%AC', 'with space+plus€'],
    ]) {
      expect((await send('PUT', target!, { body: key })).status).toBe(200);
      expect(await api.resolveObject('revisions', key!)).toBeDefined();
      expect((await send('GET', target!)).text).toBe(key);
    }
  });

  it('GetObject with Range: 206 with Content-Range; unsatisfiable is InvalidRange 416 with bytes */size', async () => {
    await send('PUT', '/revisions/r', { body: '0123456789' });
    const part = await send('GET', '/revisions/r', { headers: { range: 'bytes=2-4' } });
    expect([part.status, part.text, part.headers['content-range'], part.headers['content-length']]).toEqual([206, '234', 'bytes 2-4/10', '3']);
    const suffix = await send('GET', '/revisions/r', { headers: { range: 'bytes=-3' } });
    expect([suffix.status, suffix.text]).toEqual([206, '789']);
    const bad = await send('GET', '/revisions/r', { headers: { range: 'bytes=10-' } });
    expect([bad.status, errorCode(bad), bad.headers['content-range']]).toEqual([416, 'InvalidRange', 'bytes */10']);
    const ignored = await send('GET', '/revisions/r', { headers: { range: 'bytes=1-2,4-5' } });
    expect([ignored.status, ignored.text]).toEqual([200, '0123456789']);
  });

  it('conditional GET: If-None-Match → 304, If-Match mismatch → PreconditionFailed 412', async () => {
    const { headers } = await send('PUT', '/revisions/c', { body: 'c' });
    const notModified = await send('GET', '/revisions/c', { headers: { 'if-none-match': headers.etag! } });
    expect([notModified.status, notModified.body.length]).toEqual([304, 0]);
    const failed = await send('GET', '/revisions/c', { headers: { 'if-match': '"other"' } });
    expect([failed.status, errorCode(failed)]).toEqual([412, 'PreconditionFailed']);
    expect((await send('GET', '/revisions/c', { headers: { 'if-match': headers.etag! } })).status).toBe(200);
  });

  it('an empty object round-trips', async () => {
    expect((await send('PUT', '/revisions/empty', { body: '' })).headers.etag).toBe(`"${md5('')}"`);
    const get = await send('GET', '/revisions/empty');
    expect([get.status, get.body.length, get.headers['content-length']]).toEqual([200, 0, '0']);
  });

  it('NoSuchKey 404 for GET, 404 without body for HEAD; DeleteObject is 204 even for a missing key', async () => {
    const get = await send('GET', '/revisions/missing');
    expect([get.status, errorCode(get)]).toEqual([404, 'NoSuchKey']);
    expect(tags(get, 'Resource')).toEqual(['/revisions/missing']);
    const head = await send('HEAD', '/revisions/missing');
    expect([head.status, head.body.length]).toEqual([404, 0]);
    await send('PUT', '/revisions/k', { body: 'x' });
    expect((await send('DELETE', '/revisions/k')).status).toBe(204);
    expect(await api.resolveObject('revisions', 'k')).toBeUndefined();
    expect((await send('DELETE', '/revisions/k')).status).toBe(204);
    expect(errorCode(await send('PUT', '/nope/k', { body: 'x' }))).toBe('NoSuchBucket');
  });

  it('CopyObject reuses the blob; copying onto itself without REPLACE is InvalidRequest', async () => {
    await send('PUT', '/revisions/src', { body: 'copy me', headers: { 'content-type': 'text/plain' } });
    const copy = await send('PUT', '/revisions/dst', { headers: { 'x-amz-copy-source': '/revisions/src' } });
    expect(copy.status).toBe(200);
    expect(tags(copy, 'ETag')).toEqual([`&quot;${md5('copy me')}&quot;`]);
    expect(await api.resolveObject('revisions', 'dst')).toMatchObject({ sha256: (await api.resolveObject('revisions', 'src'))!.sha256, contentType: 'text/plain' });
    const self = await send('PUT', '/revisions/src', { headers: { 'x-amz-copy-source': 'revisions/src' } });
    expect([self.status, errorCode(self)]).toEqual([400, 'InvalidRequest']);
    const missing = await send('PUT', '/revisions/dst', { headers: { 'x-amz-copy-source': 'revisions/none' } });
    expect(errorCode(missing)).toBe('NoSuchKey');
  });

  it('DeleteObjects deletes the keys listed', async () => {
    for (const k of ['a', 'b', 'c']) await send('PUT', `/revisions/${k}`, { body: k });
    const body = '<Delete><Object><Key>a</Key></Object><Object><Key>b</Key></Object><Object><Key>zz</Key></Object></Delete>';
    const r = await send('POST', '/revisions?delete', { body, headers: { 'content-md5': b64('md5', body) } });
    expect(r.status).toBe(200);
    expect(tags(r, 'Key')).toEqual(['a', 'b', 'zz']);
    expect(buckets.listObjects('revisions').objects.map((o) => o.key)).toEqual(['c']);
    expect(errorCode(await send('POST', '/revisions?delete', { body: '<Delete></Delete>' }))).toBe('MalformedXML');
  });
});

describe('request bodies', () => {
  beforeEach(() => makeBucket());

  it('decodes aws-chunked bodies with a CRC32 trailer (as @aws-sdk sends streams)', async () => {
    const payload = Buffer.from('chunked payload '.repeat(1000));
    const r = await send('PUT', '/revisions/chunked', {
      body: chunked(payload, 4096, [`x-amz-checksum-crc32:${crc32(payload)}`]),
      headers: {
        'content-encoding': 'aws-chunked',
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'x-amz-trailer': 'x-amz-checksum-crc32',
        'x-amz-decoded-content-length': payload.length,
      },
    });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe(`"${md5(payload)}"`);
    expect((await send('GET', '/revisions/chunked')).body.equals(payload)).toBe(true);
  });

  it('decodes signed aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), ignoring chunk signatures', async () => {
    const payload = Buffer.from('signed chunks');
    const r = await send('PUT', '/revisions/signed', {
      body: chunked(payload, 5, [], true),
      headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': payload.length },
    });
    expect(r.status).toBe(200);
    expect((await send('GET', '/revisions/signed')).text).toBe('signed chunks');
  });

  it.each([
    ['Content-MD5', { 'content-md5': b64('md5', 'other') }, 'BadDigest'],
    ['x-amz-checksum-crc32', { 'x-amz-checksum-crc32': crc32('other') }, 'BadDigest'],
    ['x-amz-checksum-sha256', { 'x-amz-checksum-sha256': b64('sha256', 'other') }, 'BadDigest'],
    ['x-amz-content-sha256', { 'x-amz-content-sha256': createHash('sha256').update('other').digest('hex') }, 'XAmzContentChecksumMismatch'],
    ['a malformed Content-MD5', { 'content-md5': 'not-base64!' }, 'InvalidDigest'],
  ])('a %s that does not match the body is refused and stores nothing', async (_, headers, code) => {
    const r = await send('PUT', '/revisions/k', { body: 'body', headers });
    expect([r.status, errorCode(r)]).toEqual([400, code]);
    expect(await api.resolveObject('revisions', 'k')).toBeUndefined();
    expect(fs.readdirSync(path.join(dir, 'blobs')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('matching digests are accepted', async () => {
    const r = await send('PUT', '/revisions/k', {
      body: 'body',
      headers: {
        'content-md5': b64('md5', 'body'),
        'x-amz-checksum-crc32': crc32('body'),
        'x-amz-content-sha256': createHash('sha256').update('body').digest('hex'),
      },
    });
    expect(r.status).toBe(200);
  });

  it('a wrong trailer checksum is BadDigest; a short chunk is IncompleteBody; bad framing is InvalidRequest', async () => {
    const headers = { 'content-encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' };
    const wrong = await send('PUT', '/revisions/k', { body: chunked(Buffer.from('abc'), 3, [`x-amz-checksum-crc32:${crc32('xyz')}`]), headers });
    expect(errorCode(wrong)).toBe('BadDigest');
    const short = await send('PUT', '/revisions/k', { body: '5\r\nab', headers });
    expect(errorCode(short)).toBe('IncompleteBody');
    const garbage = await send('PUT', '/revisions/k', { body: 'zz\r\nabc\r\n0\r\n\r\n', headers });
    expect([garbage.status, errorCode(garbage)]).toEqual([400, 'InvalidRequest']);
    const length = await send('PUT', '/revisions/k', {
      body: chunked(Buffer.from('abc'), 3),
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': 4 },
    });
    expect(errorCode(length)).toBe('IncompleteBody');
    expect(await api.resolveObject('revisions', 'k')).toBeUndefined();
  });

  it('streams a large body to disk while it arrives (never buffered whole)', async () => {
    const MiB = 1024 * 1024;
    const reply = send('PUT', '/revisions/big', {
      headers: { 'content-length': 12 * MiB },
      body: (req) => {
        req.write(Buffer.alloc(6 * MiB, 7));
        const poll = (): void => {
          const temps = fs.readdirSync(path.join(dir, 'blobs')).filter((n) => n.startsWith('.tmp-'));
          const written = temps.length === 1 ? fs.statSync(path.join(dir, 'blobs', temps[0]!)).size : 0;
          if (written >= 5 * MiB) req.end(Buffer.alloc(6 * MiB, 8));
          else setTimeout(poll, 5);
        };
        poll();
      },
    });
    const r = await reply;
    expect(r.status).toBe(200);
    expect((await api.resolveObject('revisions', 'big'))?.size).toBe(12 * MiB);
  });

  it('a client that disconnects mid-body leaves no object and no temp file, and the server keeps serving', async () => {
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/revisions/cut', headers: { 'content-length': 1000 } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(100));
      setTimeout(() => req.destroy(), 50);
    });
    for (;;) {
      if (logLines.some((l) => l.includes('bucket client went away'))) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await api.resolveObject('revisions', 'cut')).toBeUndefined();
    expect(fs.readdirSync(path.join(dir, 'blobs')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect((await send('GET', '/')).status).toBe(200);
  });
});

describe('listing', () => {
  beforeEach(async () => {
    await makeBucket();
    for (const key of ['a.txt', 'dir/one', 'dir/two', 'dir/sub/three', 'sp ace+plus', 'z']) await send('PUT', `/revisions/${encodeURIComponent(key)}`, { body: key });
  });

  it('ListObjectsV2 with prefix, delimiter and CommonPrefixes', async () => {
    const r = await send('GET', '/revisions?list-type=2&delimiter=%2F');
    expect(r.text).toContain('<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">');
    expect(tags(r, 'Key')).toEqual(['a.txt', 'sp ace+plus', 'z']);
    expect(tags(r, 'Prefix')).toEqual(['', 'dir/']);
    expect(tags(r, 'KeyCount')).toEqual(['4']);
    expect(tags(r, 'ETag')[0]).toBe(`&quot;${md5('a.txt')}&quot;`);
    expect(tags(r, 'LastModified')[0]).toBe('2026-01-02T03:04:05.000Z');
    const sub = await send('GET', '/revisions?list-type=2&prefix=dir%2F&delimiter=%2F');
    expect(tags(sub, 'Key')).toEqual(['dir/one', 'dir/two']);
    expect(tags(sub, 'Prefix')).toEqual(['dir/', 'dir/sub/']);
  });

  it('ListObjectsV2 pages with max-keys and continuation-token; start-after skips', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await send('GET', `/revisions?list-type=2&max-keys=2${token === undefined ? '' : `&continuation-token=${encodeURIComponent(token)}`}`);
      seen.push(...tags(r, 'Key'));
      if (tags(r, 'IsTruncated')[0] === 'false') break;
      token = tags(r, 'NextContinuationToken')[0];
    }
    expect(seen).toEqual(['a.txt', 'dir/one', 'dir/sub/three', 'dir/two', 'sp ace+plus', 'z']);
    expect(tags(await send('GET', '/revisions?list-type=2&start-after=dir%2Ftwo'), 'Key')).toEqual(['sp ace+plus', 'z']);
    const bad = await send('GET', '/revisions?list-type=2&continuation-token=garbage');
    expect([bad.status, errorCode(bad)]).toEqual([400, 'InvalidArgument']);
  });

  it('encoding-type=url percent-encodes keys and prefixes but keeps /, as the AWS CLI expects', async () => {
    const r = await send('GET', '/revisions?list-type=2&encoding-type=url&prefix=sp');
    expect(tags(r, 'Key')).toEqual(['sp%20ace%2Bplus']);
    expect(tags(r, 'EncodingType')).toEqual(['url']);
    const d = await send('GET', '/revisions?list-type=2&encoding-type=url&prefix=dir%2F');
    expect(tags(d, 'Key')).toContain('dir/sub/three');
  });

  it('ListObjects v1 with marker and NextMarker', async () => {
    const first = await send('GET', '/revisions?max-keys=2&delimiter=%2F');
    expect(tags(first, 'Key')).toEqual(['a.txt']);
    expect(tags(first, 'Prefix')).toEqual(['', 'dir/']);
    expect(tags(first, 'NextMarker')).toEqual(['dir/']);
    const next = await send('GET', '/revisions?max-keys=2&delimiter=%2F&marker=dir%2F');
    expect(tags(next, 'Key')).toEqual(['sp ace+plus', 'z']);
    expect(tags(next, 'IsTruncated')).toEqual(['false']);
  });

  it('a bad max-keys or encoding-type is InvalidArgument', async () => {
    expect(errorCode(await send('GET', '/revisions?list-type=2&max-keys=-1'))).toBe('InvalidArgument');
    expect(errorCode(await send('GET', '/revisions?list-type=2&encoding-type=base64'))).toBe('InvalidArgument');
  });
});

describe('multipart uploads', () => {
  beforeEach(() => makeBucket());

  async function initiate(key = 'big.zip', headers: http.OutgoingHttpHeaders = {}): Promise<string> {
    const r = await send('POST', `/revisions/${key}?uploads`, { headers });
    expect(r.status).toBe(200);
    expect(tags(r, 'Key')).toEqual([key]);
    return tags(r, 'UploadId')[0]!;
  }
  const completion = (parts: [number, string][]): string =>
    `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts
      .map(([n, e]) => `<Part><ETag>${e.replace(/"/g, '&quot;')}</ETag><PartNumber>${n}</PartNumber></Part>`)
      .join('')}</CompleteMultipartUpload>`;

  it('Create, UploadPart, ListParts, Complete: the object is the parts joined, with the -N ETag', async () => {
    const id = await initiate('big.zip', { 'content-type': 'application/zip' });
    const etags: string[] = [];
    for (const [n, body] of [[1, 'first-'], [2, 'second-'], [3, 'third']] as const) {
      const r = await send('PUT', `/revisions/big.zip?partNumber=${n}&uploadId=${id}`, { body });
      expect(r.status).toBe(200);
      expect(r.headers.etag).toBe(`"${md5(body)}"`);
      etags.push(r.headers.etag!);
    }
    const parts = await send('GET', `/revisions/big.zip?uploadId=${id}`);
    expect(tags(parts, 'PartNumber')).toEqual(['1', '2', '3']);
    expect(tags(parts, 'Size')).toEqual(['6', '7', '5']);
    const done = await send('POST', `/revisions/big.zip?uploadId=${id}`, { body: completion(etags.map((e, i) => [i + 1, e])) });
    expect(done.status).toBe(200);
    const etag = tags(done, 'ETag')[0]!.replace(/&quot;/g, '"');
    const expected = createHash('md5').update(Buffer.concat(etags.map((e) => Buffer.from(e.slice(1, -1), 'hex')))).digest('hex');
    expect(etag).toBe(`"${expected}-3"`);
    expect(tags(done, 'Location')).toEqual([`http://127.0.0.1:${port}/revisions/big.zip`]);
    const get = await send('GET', '/revisions/big.zip');
    expect([get.text, get.headers.etag, get.headers['content-type']]).toEqual(['first-second-third', etag, 'application/zip']);
    const gone = await send('GET', `/revisions/big.zip?uploadId=${id}`);
    expect([gone.status, errorCode(gone)]).toEqual([404, 'NoSuchUpload']);
  });

  it('UploadPart accepts aws-chunked parts', async () => {
    const id = await initiate();
    const payload = Buffer.from('a chunked part');
    const r = await send('PUT', `/revisions/big.zip?partNumber=1&uploadId=${id}`, {
      body: chunked(payload, 4, [`x-amz-checksum-crc32:${crc32(payload)}`]),
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-decoded-content-length': payload.length },
    });
    expect(r.headers.etag).toBe(`"${md5(payload)}"`);
  });

  it('errors: NoSuchUpload, InvalidPart, InvalidPartOrder, EntityTooSmall, MalformedXML, bad part numbers', async () => {
    const id = await initiate();
    const p1 = (await send('PUT', `/revisions/big.zip?partNumber=1&uploadId=${id}`, { body: 'tiny' })).headers.etag!;
    const p2 = (await send('PUT', `/revisions/big.zip?partNumber=2&uploadId=${id}`, { body: 'last' })).headers.etag!;
    const complete = (body: string) => send('POST', `/revisions/big.zip?uploadId=${id}`, { body });
    expect(errorCode(await complete(completion([[1, '"0000"']])))).toBe('InvalidPart');
    expect(errorCode(await complete(completion([[2, p2], [1, p1]])))).toBe('InvalidPartOrder');
    expect(errorCode(await complete(completion([[1, p1], [2, p2]])))).toBe('EntityTooSmall'); // 4 bytes < minPartSize 5
    expect(errorCode(await complete('<CompleteMultipartUpload>'))).toBe('MalformedXML');
    expect(errorCode(await complete('<Other/>'))).toBe('MalformedXML');
    const wrongKey = await send('PUT', `/revisions/other.zip?partNumber=1&uploadId=${id}`, { body: 'x' });
    expect([wrongKey.status, errorCode(wrongKey)]).toEqual([404, 'NoSuchUpload']);
    expect(errorCode(await send('PUT', `/revisions/big.zip?partNumber=0&uploadId=${id}`, { body: 'x' }))).toBe('InvalidArgument');
    expect(errorCode(await send('PUT', `/revisions/big.zip?partNumber=10001&uploadId=${id}`, { body: 'x' }))).toBe('InvalidArgument');
    expect((await send('DELETE', `/revisions/big.zip?uploadId=${id}`)).status).toBe(204);
    const aborted = await send('DELETE', `/revisions/big.zip?uploadId=${id}`);
    expect([aborted.status, errorCode(aborted)]).toEqual([404, 'NoSuchUpload']);
    expect(errorCode(await complete(completion([[2, p2]])))).toBe('NoSuchUpload');
  });

  it('a CompleteMultipartUpload document over 4 MiB is MaxMessageLengthExceeded', async () => {
    const id = await initiate();
    const r = await send('POST', `/revisions/big.zip?uploadId=${id}`, { body: `<CompleteMultipartUpload>${' '.repeat(4 * 1024 * 1024)}</CompleteMultipartUpload>` });
    expect([r.status, errorCode(r)]).toEqual([400, 'MaxMessageLengthExceeded']);
    expect((await send('GET', '/')).status).toBe(200);
  });
});

describe('robustness', () => {
  it('MethodNotAllowed, NotImplemented and InvalidURI come back as S3 XML errors', async () => {
    await makeBucket();
    expect([(await send('POST', '/revisions')).status, errorCode(await send('POST', '/revisions'))]).toEqual([405, 'MethodNotAllowed']);
    expect(errorCode(await send('PATCH', '/revisions/k'))).toBe('MethodNotAllowed');
    expect(errorCode(await send('PUT', '/'))).toBe('MethodNotAllowed');
    const acl = await send('GET', '/revisions?acl');
    expect([acl.status, errorCode(acl)]).toEqual([501, 'NotImplemented']);
    expect(errorCode(await send('GET', '/revisions/%E0%A4%A'))).toBe('InvalidURI');
    expect(errorCode(await send('PUT', `/revisions/${'k'.repeat(1025)}`, { body: 'x' }))).toBe('KeyTooLongError');
  });

  it('an unexpected failure is InternalError 500 without a stack for the client, and is logged with its stack', async () => {
    await makeBucket();
    await send('PUT', '/revisions/k', { body: 'will vanish' });
    fs.rmSync(blobs.path((await api.resolveObject('revisions', 'k'))!.sha256)); // the blob is lost behind the store's back
    const r = await send('GET', '/revisions/k');
    expect([r.status, errorCode(r)]).toEqual([500, 'InternalError']);
    expect(r.text).not.toMatch(/ENOENT|at .*\.ts/);
    const logged = logLines.map((l) => JSON.parse(l) as { msg: string; err?: { stack?: string } }).find((l) => l.msg === 'bucket request failed');
    expect(logged?.err?.stack).toMatch(/ENOENT/);
    expect((await send('GET', '/')).status).toBe(200);
  });
});

describe('a refused request with a long body', () => {
  const GiB = 1024 * 1024 * 1024;

  it('is answered, then cut off after a bounded read instead of being read to its end', async () => {
    const r = await floodRequest(port, `PUT /no-such-bucket/k HTTP/1.1\nHost: 127.0.0.1\nContent-Length: ${GiB}`, GiB);
    expect(r.head).toMatch(/^HTTP\/1\.1 404 /);
    expect(r.head.toLowerCase()).toContain('connection: close');
    expect(r.cutOff).toBe(true);
    // 8 MiB drained, plus what the two sockets' buffers hold
    expect(r.sent).toBeLessThan(64 * 1024 * 1024);
  });

  it('keeps the connection when the rest is short, reading it to the end', async () => {
    const r = await floodRequest(port, 'PUT /no-such-bucket/k HTTP/1.1\nHost: 127.0.0.1\nContent-Length: 65536', 65536);
    expect(r.head).toMatch(/^HTTP\/1\.1 404 /);
    expect(r.head.toLowerCase()).not.toContain('connection: close');
    expect(r.cutOff).toBe(false);
  });
});


describe('a full disk', () => {
  it('is answered XMinioStorageFull 507 with the storage message (not a retryable 500), logged once, and writes work again once space returns', async () => {
    expect((await send('PUT', '/full')).status).toBe(200);
    fillDatabase(db, ['bucket_buckets', 'bucket_objects']);
    const puts = [await send('PUT', '/full/a.zip', { body: 'bundle-a' }), await send('PUT', '/full/b.zip', { body: 'bundle-b' }), await send('PUT', '/other')];
    for (const r of puts) {
      expect(r.status).toBe(507);
      expect(r.text).toContain('<Code>XMinioStorageFull</Code>');
      expect(r.text).toContain(`<Message>${DISK_FULL_MESSAGE.replaceAll("'", '&apos;')}</Message>`);
    }
    expect((await send('GET', '/full')).status).toBe(200); // reads go on
    freeDatabase(db);
    expect((await send('PUT', '/full/a.zip', { body: 'bundle-a' })).status).toBe(200);
    expect((await send('GET', '/full/a.zip')).text).toBe('bundle-a');
    const lines = logLines.map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual(['disk full: nothing can be stored until space is freed in the data directory']);
    expect(lines.filter((l) => l.msg.startsWith('disk space is back'))).toHaveLength(1);
  });
});
