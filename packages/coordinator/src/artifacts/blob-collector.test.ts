/**
 * The blob collector over a real blob folder and a real SQLite file with every migration: what it
 * frees, what it must keep (live objects, parts of unfinished uploads, any deployment's bundle, held
 * blobs) and that the references it reads are the committed ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore } from './blob-store.js';
import type { BlobStore, HeldBlob } from './blob-store.js';
import { createBlobCollector } from './blob-collector.js';
import { promised } from '../store/promised.js';
import type { BlobCollector } from './blob-collector.js';
import { createBlobReferences } from '../store/blob-references.js';
import { createBucketStore } from '../store/bucket-store.js';
import type { BucketStore } from '../store/bucket-store.js';
import { migrate } from '../store/migrate.js';
import { migrations } from '../store/migrations/index.js';

let dir: string;
let db: Database.Database;
let blobs: BlobStore;
let buckets: BucketStore;
let collector: BlobCollector;
let now: number;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-collector-'));
  db = new Database(path.join(dir, 'coordinator.db'));
  migrate(db, migrations);
  now = Date.now();
  blobs = createBlobStore(path.join(dir, 'blobs'), undefined, { released: (sha) => collector.consider([sha]) });
  buckets = createBucketStore(db, { minPartSize: 1, released: (shas) => collector.consider(shas) });
  collector = createBlobCollector({ blobs, references: promised(createBlobReferences(db)), log: pino({ level: 'silent' }), now: () => now });
  buckets.createBucket('b', 1);
});
afterEach(async () => {
  await collector.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const store = (text: string): Promise<HeldBlob> => blobs.putHeld(Readable.from([Buffer.from(text)]));

/** leftBehind writes a blob as an earlier process would have: no hold, no release, nobody told. */
const leftBehind = (text: string) => createBlobStore(path.join(dir, 'blobs')).put(Readable.from([Buffer.from(text)]));

async function stored(): Promise<string[]> {
  const out: string[] = [];
  for await (const sha of blobs.list()) out.push(sha);
  return out.sort();
}

/** putObject stores the bytes and commits the object before releasing the hold, as the bucket API does. */
async function putObject(key: string, text: string): Promise<string> {
  const blob = await store(text);
  buckets.putObject({ bucket: 'b', key, sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, now);
  blob.release();
  return blob.sha256;
}

function deploy(id: string, sha256: string, status: string): void {
  const doc = { deploymentId: id, status, bundle: { sha256, size: 1, bundleType: 'zip' } };
  db.prepare('INSERT INTO deployments (id, application, group_name, status, create_time, seq, doc) VALUES (?, ?, ?, ?, ?, ?, ?)').run(id, 'app', 'g', status, now, 1, JSON.stringify(doc));
}

describe('the blob collector', () => {
  it('keeps a blob whose references cannot be read, says so, and frees it once they can', async () => {
    const lines: string[] = [];
    let reachable = false;
    const references = promised(createBlobReferences(db));
    // A blob store of its own, which tells no other collector of its releases.
    const own = createBlobStore(path.join(dir, 'own-blobs'));
    const broken = createBlobCollector({
      blobs: own,
      references: { all: () => references.all(), has: (sha) => (reachable ? references.has(sha) : Promise.reject(new Error('connection to the database lost'))) },
      log: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }),
      now: () => now,
    });
    try {
      const orphan = await own.put(Readable.from([Buffer.from('nobody references me')]));
      broken.consider([orphan.sha256]);
      await broken.idle();
      expect(await own.has(orphan.sha256)).toBe(true);
      expect(lines.map((l) => JSON.parse(l) as { msg: string; err?: { message: string } })).toEqual([
        expect.objectContaining({ msg: 'cannot remove an unreferenced blob; a later sweep tries again', err: expect.objectContaining({ message: 'connection to the database lost' }) }),
      ]);
      reachable = true;
      broken.consider([orphan.sha256]);
      await broken.idle();
      expect(await own.has(orphan.sha256)).toBe(false);
    } finally {
      await broken.close();
    }
  });

  it('frees an overwritten and a deleted object at once, keeping the live ones', async () => {
    const first = await putObject('k', 'version 1');
    const second = await putObject('k', 'version 2');
    const other = await putObject('other', 'other');
    await collector.idle();
    expect(await stored()).toEqual([second, other].sort());
    buckets.deleteObject('b', 'k');
    await collector.idle();
    expect(await stored()).toEqual([other]);
    expect(fs.existsSync(blobs.path(first))).toBe(false);
  });

  it('keeps a blob two keys share until the last goes', async () => {
    const sha = await putObject('a', 'shared');
    await putObject('b', 'shared');
    buckets.deleteObject('b', 'a');
    await collector.idle();
    expect(await stored()).toEqual([sha]);
    buckets.deleteObject('b', 'b');
    await collector.idle();
    expect(await stored()).toEqual([]);
  });

  it('never frees a bundle a deployment names, whatever its status, nor a part of an unfinished upload', async () => {
    const running = await putObject('running.zip', 'running bundle');
    const done = await putObject('done.zip', 'succeeded bundle');
    deploy('d-1', running, 'InProgress');
    deploy('d-2', done, 'Succeeded');
    const upload = buckets.createUpload({ bucket: 'b', key: 'big' }, now);
    const part = await store('a part');
    buckets.putPart({ uploadId: upload.uploadId, partNumber: 1, sha256: part.sha256, size: part.size, etag: `"${part.md5}"` }, now);
    part.release();
    buckets.deleteObject('b', 'running.zip');
    buckets.deleteObject('b', 'done.zip');
    const report = await collector.sweep();
    expect(report).toMatchObject({ scanned: 3, removed: 0 });
    expect(await stored()).toEqual([running, done, part.sha256].sort());
    buckets.abortUpload(upload.uploadId);
    await collector.idle();
    expect(await stored()).toEqual([running, done].sort());
  });

  it('a sweep frees blobs nothing ever referenced and stale temp files, but not a held blob', async () => {
    const orphan = await store('a put whose commit failed');
    orphan.release();
    await collector.idle(); // the release was considered: gone already
    expect(await stored()).toEqual([]);

    const crashed = await leftBehind('left by an older process');
    const held = await store('being committed');
    const temp = path.join(dir, 'blobs', '.tmp-crash');
    fs.writeFileSync(temp, '12345');
    fs.utimesSync(temp, new Date(now - 2 * 3_600_000), new Date(now - 2 * 3_600_000));
    const report = await collector.sweep();
    expect(report).toEqual({ scanned: 2, removed: 1, freedBytes: crashed.size + 5 });
    expect(await stored()).toEqual([held.sha256]);
    expect(fs.existsSync(temp)).toBe(false);
    held.release();
  });

  it('reads committed references: a blob whose object is committed inside a rolled-back transaction is freed', async () => {
    const blob = await store('rolled back');
    expect(() =>
      db.transaction(() => {
        buckets.putObject({ bucket: 'b', key: 'k', sha256: blob.sha256, size: blob.size, etag: '"x"' }, now);
        throw new Error('something later failed');
      })(),
    ).toThrow('something later failed');
    blob.release();
    await collector.idle();
    expect(await stored()).toEqual([]);
  });

  it('does nothing once closed', async () => {
    const orphan = await leftBehind('orphan');
    await collector.close();
    collector.consider([orphan.sha256]);
    expect(await collector.sweep()).toEqual({ scanned: 0, removed: 0, freedBytes: 0 });
    expect(await stored()).toEqual([orphan.sha256]);
  });
});
