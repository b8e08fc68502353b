/**
 * The revision bucket as users drive it: the stock AWS CLI v2 (`/usr/bin/aws`, Debian's awscli) and
 * @aws-sdk/client-s3 against a real HTTP server on loopback, real SQLite and blob files in a temp dir.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucketApi } from '../packages/coordinator/src/api/bucket.js';
import { createBlobStore } from '../packages/coordinator/src/artifacts/blob-store.js';
import { createBucketStore } from '../packages/coordinator/src/store/bucket-store.js';
import type { BucketStore } from '../packages/coordinator/src/store/bucket-store.js';
import { migration } from '../packages/coordinator/src/store/migrations/002-bucket.js';
import { migration as accessKeysMigration } from '../packages/coordinator/src/store/migrations/003-access-keys.js';
import { createAccessKeyStore } from '../packages/coordinator/src/auth/access-keys.js';
import type { AccessKey } from '../packages/coordinator/src/auth/access-keys.js';
import { createBucketGuard } from '../packages/coordinator/src/auth/request-guards.js';
import { createSigV4Verifier } from '../packages/coordinator/src/auth/sigv4-verify.js';
import { promised } from '../packages/coordinator/src/store/promised.js';
import { describeWithTools } from './harness/system-tools.js';

describeWithTools(['aws'], 'the revision bucket with the stock AWS CLI', () => {
  const AWS = '/usr/bin/aws';
  const MiB = 1024 * 1024;

  let work: string;
  let db: Database.Database;
  let buckets: BucketStore;
  let server: http.Server;
  let endpoint: string;
  let env: NodeJS.ProcessEnv;
  let small: string;
  /** key is an admin access key: every request below is signed and verified, as on the coordinator. */
  let key: AccessKey;
  let big: string;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bucket-e2e-'));
    db = new Database(path.join(work, 'coordinator.db'));
    db.pragma('journal_mode = WAL');
    db.exec(migration.sql);
    db.exec(accessKeysMigration.sql);
    buckets = createBucketStore(db);
    const keys = createAccessKeyStore(db);
    key = keys.create('admin', Date.now());
    const api = createBucketApi({
      buckets: promised(buckets),
      blobs: createBlobStore(path.join(work, 'blobs')),
      log: pino({ level: 'silent' }),
      now: () => Date.now(),
      guard: createBucketGuard(createSigV4Verifier({ keys: promised(keys), now: () => Date.now() })),
    });
    server = http.createServer((req, res) => void api.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fs.writeFileSync(path.join(work, 'aws-config'), '[default]\nregion = us-east-1\n');
    env = {
      PATH: process.env.PATH,
      HOME: work,
      AWS_ACCESS_KEY_ID: key.id,
      AWS_SECRET_ACCESS_KEY: key.secret,
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: path.join(work, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'aws-credentials'),
      AWS_PAGER: '',
    };
    small = path.join(work, 'small.zip');
    fs.writeFileSync(small, 'a small revision bundle\n');
    big = path.join(work, 'big.zip');
    const out = fs.openSync(big, 'w');
    for (let i = 0; i < 20; i++) fs.writeSync(out, randomBytes(MiB));
    fs.closeSync(out);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** aws runs the CLI asynchronously (the server lives in this process, so it must not block). */
  function aws(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) => {
      execFile(AWS, [...args, '--endpoint-url', endpoint], { env, cwd: work, maxBuffer: 4 * MiB }, (error, out, err) => {
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, out, err });
      });
    });
  }

  function sha256(file: string): string {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }

  function md5(file: string): string {
    return createHash('md5').update(fs.readFileSync(file)).digest('hex');
  }

  describe('the revision bucket driven by the AWS CLI', () => {
    it('mb, cp up (small and 20 MB multipart), head-object, ls, cp down, rb refused, rm, rb', async () => {
      // given a new bucket
      const mb = await aws('s3', 'mb', 's3://revisions');
      expect(mb.err).toBe('');
      expect(mb.out).toContain('make_bucket: revisions');

      // when both bundles are uploaded
      const up1 = await aws('s3', 'cp', small, 's3://revisions/app.zip');
      expect(up1.code, up1.err).toBe(0);
      const up2 = await aws('s3', 'cp', big, 's3://revisions/releases/big.zip');
      expect(up2.code, up2.err).toBe(0);

      // then the objects are stored whole, with S3's ETags
      const head = await aws('s3api', 'head-object', '--bucket', 'revisions', '--key', 'app.zip');
      expect(head.code, head.err).toBe(0);
      const meta = JSON.parse(head.out) as { ContentLength: number; ETag: string };
      expect(meta.ContentLength).toBe(fs.statSync(small).size);
      expect(meta.ETag).toBe(`"${md5(small)}"`);
      const bigRecord = buckets.getObject('revisions', 'releases/big.zip')!;
      expect(bigRecord.size).toBe(20 * MiB);
      expect(bigRecord.sha256).toBe(sha256(big));
      expect(bigRecord.etag).toMatch(/^"[0-9a-f]{32}-3"$/); // 8 + 8 + 4 MiB parts

      // and listings show them
      const ls = await aws('s3', 'ls', 's3://revisions/');
      expect(ls.code, ls.err).toBe(0);
      expect(ls.out).toMatch(/PRE releases\/\n/);
      expect(ls.out).toMatch(/\s24 app\.zip\n/);
      const lsr = await aws('s3', 'ls', '--recursive', 's3://revisions/');
      expect(lsr.out).toMatch(/\s20971520 releases\/big\.zip\n/);
      const buckets_ = await aws('s3', 'ls');
      expect(buckets_.out).toMatch(/ revisions\n/);

      // and downloads give back the same bytes
      const down1 = await aws('s3', 'cp', 's3://revisions/app.zip', path.join(work, 'app.down'));
      expect(down1.code, down1.err).toBe(0);
      expect(fs.readFileSync(path.join(work, 'app.down'), 'utf8')).toBe('a small revision bundle\n');
      const down2 = await aws('s3', 'cp', 's3://revisions/releases/big.zip', path.join(work, 'big.down'));
      expect(down2.code, down2.err).toBe(0);
      expect(sha256(path.join(work, 'big.down'))).toBe(bigRecord.sha256);

      // and a bucket with objects cannot be removed
      const rb1 = await aws('s3', 'rb', 's3://revisions');
      expect(rb1.code).not.toBe(0);
      expect(rb1.err).toContain('BucketNotEmpty');

      // until its objects are gone
      expect((await aws('s3', 'rm', 's3://revisions/app.zip')).out).toContain('delete: s3://revisions/app.zip');
      expect((await aws('s3', 'rm', '--recursive', 's3://revisions/releases/')).out).toContain('delete: s3://revisions/releases/big.zip');
      expect((await aws('s3', 'ls', '--recursive', 's3://revisions/')).out).toBe('');
      const rb2 = await aws('s3', 'rb', 's3://revisions');
      expect(rb2.code, rb2.err).toBe(0);
      expect(rb2.out).toContain('remove_bucket: revisions');
      expect(buckets.getBucket('revisions')).toBeUndefined();
    }, 120_000); // a dozen runs of the Python CLI, each a second or more of start-up on a busy machine

    it('reports S3 errors: missing bucket, missing key, bad bucket name, existing bucket', async () => {
      const ls = await aws('s3', 'ls', 's3://no-such-bucket/');
      expect(ls.code).not.toBe(0);
      expect(ls.err).toContain('NoSuchBucket');

      expect((await aws('s3', 'mb', 's3://errors')).code).toBe(0);
      const get = await aws('s3api', 'get-object', '--bucket', 'errors', '--key', 'missing.zip', path.join(work, 'x'));
      expect(get.code).not.toBe(0);
      expect(get.err).toContain('NoSuchKey');
      const cp = await aws('s3', 'cp', 's3://errors/missing.zip', path.join(work, 'x'));
      expect(cp.code).not.toBe(0);
      expect(cp.err).toMatch(/\(404\) when calling the HeadObject operation: Key "missing.zip" does not exist/);

      const bad = await aws('s3', 'mb', 's3://Bad_Name');
      expect(bad.code).not.toBe(0);
      expect(bad.err).toContain('InvalidBucketName');
      const again = await aws('s3', 'mb', 's3://errors');
      expect(again.code).not.toBe(0);
      expect(again.err).toContain('BucketAlreadyOwnedByYou');
    });
  });

  describe('the revision bucket driven by @aws-sdk/client-s3', () => {
    let s3: S3Client;
    beforeAll(() => {
      s3 = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
      });
    });
    afterAll(() => s3.destroy());

    it('puts (buffer and aws-chunked stream), gets, lists, heads and deletes; multipart of 20 MB', async () => {
      await s3.send(new CreateBucketCommand({ Bucket: 'sdk' }));
      await s3.send(new HeadBucketCommand({ Bucket: 'sdk' }));

      const put = await s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'a/buffer.zip', Body: fs.readFileSync(small) }));
      expect(put.ETag).toBe(`"${md5(small)}"`);
      // A stream body goes out aws-chunked with a CRC32 trailer.
      await s3.send(
        new PutObjectCommand({ Bucket: 'sdk', Key: 'a/stream.zip', Body: fs.createReadStream(small), ContentLength: fs.statSync(small).size }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'a/stream.zip' }));
      expect(await got.Body!.transformToString()).toBe('a small revision bundle\n');
      const ranged = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'a/buffer.zip', Range: 'bytes=2-6' }));
      expect(ranged.ContentRange).toBe('bytes 2-6/24');
      expect(await ranged.Body!.transformToString()).toBe('small');

      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'sdk', Key: 'big.zip' }));
      const parts = [];
      for (const [n, start, end] of [[1, 0, 8 * MiB - 1], [2, 8 * MiB, 16 * MiB - 1], [3, 16 * MiB, 20 * MiB - 1]] as const) {
        const part = await s3.send(
          new UploadPartCommand({
            Bucket: 'sdk',
            Key: 'big.zip',
            UploadId,
            PartNumber: n,
            Body: fs.createReadStream(big, { start, end }),
            ContentLength: end - start + 1,
          }),
        );
        parts.push({ PartNumber: n, ETag: part.ETag! });
      }
      const done = await s3.send(
        new CompleteMultipartUploadCommand({ Bucket: 'sdk', Key: 'big.zip', UploadId, MultipartUpload: { Parts: parts } }),
      );
      expect(done.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
      const bigGet = await s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'big.zip' }));
      const hash = createHash('sha256');
      for await (const chunk of bigGet.Body as Readable) hash.update(chunk as Buffer);
      expect(hash.digest('hex')).toBe(sha256(big));

      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk', Delimiter: '/' }));
      expect(list.Contents?.map((c) => c.Key)).toEqual(['big.zip']);
      expect(list.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/']);
      const paged = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk', MaxKeys: 2 }));
      expect(paged.Contents?.map((c) => c.Key)).toEqual(['a/buffer.zip', 'a/stream.zip']);
      expect(paged.IsTruncated).toBe(true);
      const rest = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk', MaxKeys: 2, ContinuationToken: paged.NextContinuationToken }));
      expect(rest.Contents?.map((c) => c.Key)).toEqual(['big.zip']);
      expect(rest.IsTruncated).toBe(false);

      const head = await s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'big.zip' }));
      expect(head.ContentLength).toBe(20 * MiB);
      expect(head.ETag).toBe(done.ETag);

      await expect(s3.send(new DeleteBucketCommand({ Bucket: 'sdk' }))).rejects.toMatchObject({ name: 'BucketNotEmpty' });
      for (const Key of ['a/buffer.zip', 'a/stream.zip', 'big.zip']) await s3.send(new DeleteObjectCommand({ Bucket: 'sdk', Key }));
      await s3.send(new DeleteBucketCommand({ Bucket: 'sdk' }));
      await expect(s3.send(new HeadBucketCommand({ Bucket: 'sdk' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    });

    it('maps S3 errors to the SDK exceptions', async () => {
      await expect(s3.send(new GetObjectCommand({ Bucket: 'nope-bucket', Key: 'k' }))).rejects.toMatchObject({ name: 'NoSuchBucket' });
      await s3.send(new CreateBucketCommand({ Bucket: 'sdk-errors' }));
      await expect(s3.send(new GetObjectCommand({ Bucket: 'sdk-errors', Key: 'missing' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
      await expect(s3.send(new CreateBucketCommand({ Bucket: 'UPPER' }))).rejects.toMatchObject({ name: 'InvalidBucketName' });
      await s3.send(new PutObjectCommand({ Bucket: 'sdk-errors', Key: 'k', Body: 'x' }));
      await expect(s3.send(new DeleteBucketCommand({ Bucket: 'sdk-errors' }))).rejects.toMatchObject({ name: 'BucketNotEmpty' });
      await expect(
        s3.send(new PutObjectCommand({ Bucket: 'sdk-errors', Key: 'k', Body: Readable.from([Buffer.from('abc')]), ContentLength: 3, ChecksumCRC32: 'AAAAAA==' })),
      ).rejects.toMatchObject({ name: 'BadDigest' });
    });
  });
});
