import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBlobStore } from './blob-store.js';
import type { BlobStore } from './blob-store.js';

let dir: string;
let blobs: BlobStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-blobs-'));
  blobs = createBlobStore(path.join(dir, 'blobs'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const hex = (algorithm: string, data: string | Buffer): string => createHash(algorithm).update(data).digest('hex');

async function readAll(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += (chunk as Buffer).toString('utf8');
  return out;
}

/** Temp files left in the store's folder (there should never be any once put settles). */
const temps = (): string[] => fs.readdirSync(path.join(dir, 'blobs')).filter((n) => n.startsWith('.tmp-'));

describe('createBlobStore', () => {
  it('stores a stream under its sha256, in a two-hex-digit fan-out folder, and reports sha256, md5 and size', async () => {
    const info = await blobs.put(Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(info).toEqual({ sha256: hex('sha256', 'hello world'), md5: hex('md5', 'hello world'), size: 11 });
    const file = path.join(dir, 'blobs', info.sha256.slice(0, 2), info.sha256);
    expect(blobs.path(info.sha256)).toBe(file);
    expect(fs.readFileSync(file, 'utf8')).toBe('hello world');
    expect(await blobs.has(info.sha256)).toBe(true);
    expect(await blobs.size(info.sha256)).toBe(11);
    expect(temps()).toEqual([]);
  });

  it('accepts any async iterable and stores identical content once', async () => {
    async function* gen() {
      yield Buffer.from('same');
    }
    const a = await blobs.put(gen());
    const b = await blobs.put(Readable.from([Buffer.from('sa'), Buffer.from('me')]));
    expect(b.sha256).toBe(a.sha256);
    expect(fs.readdirSync(path.join(dir, 'blobs', a.sha256.slice(0, 2)))).toEqual([a.sha256]);
  });

  it('stores an empty blob', async () => {
    const info = await blobs.put(Readable.from([]));
    expect(info.size).toBe(0);
    expect(await readAll(await blobs.open(info.sha256))).toBe('');
  });

  it('reads a whole blob or an inclusive byte range', async () => {
    const { sha256 } = await blobs.put(Readable.from([Buffer.from('0123456789')]));
    expect(await readAll(await blobs.open(sha256))).toBe('0123456789');
    expect(await readAll(await blobs.open(sha256, { start: 2, end: 5 }))).toBe('2345');
    expect(await readAll(await blobs.open(sha256, { start: 7 }))).toBe('789');
  });

  it('writes while the source is still producing: the temp file grows before the source ends', async () => {
    const source = new Readable({ read() {} });
    const put = blobs.put(source);
    source.push(Buffer.alloc(1024 * 1024, 1));
    for (;;) {
      const [temp] = temps();
      if (temp !== undefined && fs.statSync(path.join(dir, 'blobs', temp)).size === 1024 * 1024) break;
      await new Promise((r) => setImmediate(r));
    }
    source.push(Buffer.alloc(10, 2));
    source.push(null);
    expect((await put).size).toBe(1024 * 1024 + 10);
  });

  it('when the source fails: rejects with its error and leaves no temp file and no blob', async () => {
    const source = new Readable({ read() {} });
    const put = blobs.put(source);
    source.push(Buffer.from('partial'));
    source.destroy(new Error('client went away'));
    await expect(put).rejects.toThrow('client went away');
    expect(temps()).toEqual([]);
    expect(await blobs.has(hex('sha256', 'partial'))).toBe(false);
  });

  it('reports a missing blob: has is false, size and open reject with ENOENT', async () => {
    const missing = hex('sha256', 'never stored');
    expect(await blobs.has(missing)).toBe(false);
    await expect(blobs.size(missing)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(blobs.open(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses names that are not sha256 hex digests, so no path can leave the folder', async () => {
    expect(() => blobs.path('../../etc/passwd')).toThrow(/not a sha256 hex digest/);
    await expect(blobs.has('ABC')).rejects.toThrow(/not a sha256 hex digest/);
  });

  it('when the folder is gone (a file in its place): put rejects with the file system error', async () => {
    fs.rmSync(path.join(dir, 'blobs'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'blobs'), 'a file where the folder should be');
    await expect(blobs.put(Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
