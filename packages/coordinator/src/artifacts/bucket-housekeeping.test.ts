/**
 * The bucket's housekeeping on a fake clock, over real SQLite and blob files: abandoned uploads
 * expire after the configured age, their parts are freed, fresh uploads stay.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore } from './blob-store.js';
import type { BlobStore } from './blob-store.js';
import { createBlobCollector } from './blob-collector.js';
import type { BlobCollector } from './blob-collector.js';
import { housekeepingIntervalMs, startBucketHousekeeping } from './bucket-housekeeping.js';
import { promised } from '../store/promised.js';
import { createBlobReferences } from '../store/blob-references.js';
import { createBucketStore } from '../store/bucket-store.js';
import type { BucketStore } from '../store/bucket-store.js';
import { migrate } from '../store/migrate.js';
import { migrations } from '../store/migrations/index.js';
import { createFakeClock } from '../testing/fake-clock.js';
import type { FakeClock } from '../testing/fake-clock.js';

let dir: string;
let db: Database.Database;
let blobs: BlobStore;
let buckets: BucketStore;
let collector: BlobCollector;
let clock: FakeClock;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-housekeeping-'));
  db = new Database(path.join(dir, 'coordinator.db'));
  migrate(db, migrations);
  clock = createFakeClock();
  blobs = createBlobStore(path.join(dir, 'blobs'));
  buckets = createBucketStore(db, { minPartSize: 1, released: (s) => collector.consider(s) });
  collector = createBlobCollector({ blobs, references: promised(createBlobReferences(db)), log: pino({ level: 'silent' }), now: () => clock.now() });
  buckets.createBucket('b', clock.now());
});
afterEach(async () => {
  await collector.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function uploadWithPart(key: string, text: string): Promise<{ uploadId: string; sha256: string }> {
  const upload = buckets.createUpload({ bucket: 'b', key }, clock.now());
  const blob = await blobs.putHeld(Readable.from([Buffer.from(text)]));
  buckets.putPart({ uploadId: upload.uploadId, partNumber: 1, sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, clock.now());
  blob.release();
  return { uploadId: upload.uploadId, sha256: blob.sha256 };
}

describe('bucket housekeeping', () => {
  it('runs every quarter of the expiry, between a second and an hour', () => {
    expect(housekeepingIntervalMs(86_400)).toBe(3_600_000);
    expect(housekeepingIntervalMs(3600)).toBe(900_000);
    expect(housekeepingIntervalMs(2)).toBe(1000);
  });

  it('aborts uploads older than the expiry on its timer and frees their parts; younger ones stay', async () => {
    const old = await uploadWithPart('old.zip', 'old part');
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const housekeeping = startBucketHousekeeping({ buckets: promised(buckets), collector, clock, expirySeconds: 3600, log });
    await housekeeping.idle();
    expect(buckets.getUpload(old.uploadId)).toBeDefined(); // the first run, at start, finds it young

    /** tick moves the clock one interval (15 min) and lets that run finish. */
    const tick = async (): Promise<void> => {
      clock.advance(900_000);
      await housekeeping.idle();
      await collector.idle();
    };
    await tick();
    await tick();
    const young = await uploadWithPart('young.zip', 'young part');
    await tick();
    expect(buckets.getUpload(old.uploadId)).toBeDefined(); // 45 min old
    await tick();
    expect(buckets.getUpload(old.uploadId)).toBeDefined(); // exactly an hour: not yet older than the expiry
    await tick();
    expect(buckets.getUpload(old.uploadId)).toBeUndefined();
    expect(fs.existsSync(blobs.path(old.sha256))).toBe(false);
    expect(buckets.getUpload(young.uploadId)).toBeDefined();
    expect(fs.existsSync(blobs.path(young.sha256))).toBe(true);
    expect(lines.some((l) => l.includes('abandoned multipart upload expired') && l.includes(old.uploadId))).toBe(true);

    const report = await housekeeping.runOnce();
    expect(report).toMatchObject({ expiredUploads: 0, removed: 0, scanned: 1 });
    await housekeeping.stop();
  });
});
