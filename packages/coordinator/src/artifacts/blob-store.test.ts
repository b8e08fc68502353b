import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBlobStore } from './blob-store.js';
import type { BlobStore } from './blob-store.js';

let dir: string;
let blobs: BlobStore;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-blobs-'));
  blobs = createBlobStore(path.join(dir, 'blobs'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

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

describe('holds and removal', () => {
  const put = (text: string) => blobs.putHeld(Readable.from([Buffer.from(text)]));

  /** slowUnlinks makes each blob unlink wait until `go` is called, so a test can act while one is in flight. */
  function slowUnlinks(): { started: Promise<void>; go: () => void } {
    const realRm = fs.promises.rm.bind(fs.promises);
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    let started!: () => void;
    const startedP = new Promise<void>((resolve) => (started = resolve));
    vi.spyOn(fs.promises, 'rm').mockImplementation(async (file, options) => {
      if (!String(file).includes('.tmp-')) {
        started();
        await gate;
      }
      return realRm(file, options);
    });
    return { started: startedP, go };
  }

  it('remove deletes an unheld, unused blob and reports its size; a held or used one stays', async () => {
    const a = await put('held');
    expect(await blobs.remove(a.sha256, () => true)).toBeUndefined();
    a.release();
    a.release(); // a second release does not drop someone else's hold
    expect(await blobs.remove(a.sha256, () => false)).toBeUndefined();
    expect(await blobs.has(a.sha256)).toBe(true);
    expect(await blobs.remove(a.sha256, () => true)).toBe(4);
    expect(await blobs.has(a.sha256)).toBe(false);
    expect(await blobs.remove(a.sha256, () => true)).toBe(0);
  });

  it('keeps a blob held while its references were being read, even when the hold ended before the answer came', async () => {
    const a = await put('raced');
    a.release();
    let answer!: (free: boolean) => void;
    let asked!: () => void;
    const askedP = new Promise<void>((resolve) => (asked = resolve));
    // The references are read asynchronously (the database); meanwhile a put of the same bytes holds
    // the blob, commits its reference and lets go, all before the "unused" answer read earlier comes.
    const removing = blobs.remove(a.sha256, () => {
      asked();
      return new Promise<boolean>((resolve) => (answer = resolve));
    });
    await askedP;
    const again = await put('raced');
    again.release();
    answer(true);
    expect(await removing).toBeUndefined();
    expect(await blobs.has(a.sha256)).toBe(true);
    expect(await blobs.remove(a.sha256, () => Promise.resolve(true))).toBe(5); // asked again, with no hold meanwhile, it goes
  });

  it('counts holds: the blob stays until the last one is released, which is reported', async () => {
    const released: string[] = [];
    blobs = createBlobStore(path.join(dir, 'blobs'), undefined, { released: (sha) => released.push(sha) });
    const a = await put('twice');
    const b = await blobs.hold(a.sha256);
    a.release();
    expect(released).toEqual([]);
    expect(await blobs.remove(a.sha256, () => true)).toBeUndefined();
    b!.release();
    expect(released).toEqual([a.sha256]);
    expect(await blobs.remove(a.sha256, () => true)).toBe(5);
    expect(await blobs.hold(a.sha256)).toBeUndefined();
    await expect(blobs.hold('nope')).rejects.toThrow(/not a sha256 hex digest/);
  });

  it('a put of the same bytes while their unlink is in flight waits for it, so the new blob survives', async () => {
    const old = await put('same bytes');
    old.release();
    const slow = slowUnlinks();
    const removing = blobs.remove(old.sha256, () => true);
    await slow.started;
    const again = blobs.putHeld(Readable.from([Buffer.from('same bytes')]));
    await new Promise((r) => setTimeout(r, 50)); // the put has hashed by now and waits
    slow.go();
    expect(await removing).toBe(10);
    const fresh = await again;
    expect(fs.readFileSync(blobs.path(fresh.sha256), 'utf8')).toBe('same bytes');
  });

  it('a hold taken while the unlink is in flight finds the blob gone', async () => {
    const old = await put('going');
    old.release();
    const slow = slowUnlinks();
    const removing = blobs.remove(old.sha256, () => true);
    await slow.started;
    const held = blobs.hold(old.sha256);
    slow.go();
    await removing;
    expect(await held).toBeUndefined();
    expect(await blobs.remove(old.sha256, () => true)).toBe(0); // no hold was left behind
  });

  it('lists stored blobs and removes only stale temp files no put is writing', async () => {
    const a = await put('one');
    const b = await put('two');
    fs.writeFileSync(path.join(dir, 'blobs', 'README'), 'not a blob');
    fs.mkdirSync(path.join(dir, 'blobs', 'zz'));
    const listed: string[] = [];
    for await (const sha of blobs.list()) listed.push(sha);
    expect(listed.sort()).toEqual([a.sha256, b.sha256].sort());

    const stale = path.join(dir, 'blobs', '.tmp-crashed');
    fs.writeFileSync(stale, 'left by a crash');
    fs.utimesSync(stale, new Date(1000), new Date(1000));
    const source = new Readable({ read() {} });
    const writing = blobs.put(source);
    source.push(Buffer.from('in progress'));
    while (temps().length < 2) await new Promise((r) => setImmediate(r));
    expect(await blobs.removeStaleTemps(Date.now() + 60_000)).toBe(15);
    expect(temps()).toHaveLength(1);
    source.push(null);
    await writing;
    expect(await blobs.removeStaleTemps(Date.now() + 60_000)).toBe(0);
  });
});

/**
 * A folder shared by replicas (PostgreSQL): two stores over one folder stand for two replicas,
 * neither seeing the other's holds. A blob one of them wrote or held within the grace period is
 * spared by the other's removal, however the references read.
 */
describe('a folder shared by replicas', () => {
  const GRACE = 60_000;
  let now: number;
  let a: BlobStore;
  let b: BlobStore;
  const shared = () => ({ graceMs: GRACE, now: () => now });
  const content = 'the same bundle, on two replicas';
  const sha = hex('sha256', content);
  const file = () => path.join(dir, 'shared', sha.slice(0, 2), sha);
  /** age sets the blob's times `ms` before now, as if written that long ago. */
  const age = (ms: number) => fs.utimesSync(file(), new Date(now - ms), new Date(now - ms));
  const unused = async () => true;

  beforeEach(() => {
    now = Date.now();
    a = createBlobStore(path.join(dir, 'shared'), undefined, {}, shared());
    b = createBlobStore(path.join(dir, 'shared'), undefined, {}, shared());
  });

  it('removes an unreferenced blob last written before the grace period, and spares one written within it', async () => {
    await a.put(Readable.from([content]));
    age(GRACE - 1_000);
    expect(await b.remove(sha, unused)).toBeUndefined();
    expect(fs.existsSync(file())).toBe(true);
    age(GRACE + 1_000);
    expect(await b.remove(sha, unused)).toBe(content.length);
    expect(fs.existsSync(file())).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'shared')).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('a hold on one replica spares an old blob from the other\'s removal; so does refresh', async () => {
    await a.put(Readable.from([content]));
    age(GRACE + 1_000);
    const held = await a.hold(sha);
    expect(held?.sha256).toBe(sha);
    expect(await b.remove(sha, unused)).toBeUndefined();
    expect(fs.existsSync(file())).toBe(true);
    held!.release();
    age(GRACE + 1_000);
    await a.refresh(sha);
    expect(await b.remove(sha, unused)).toBeUndefined();
    expect(fs.readFileSync(file(), 'utf8')).toBe(content);
  });

  it('a put of the same content on one replica while the other judges the old blob leaves the new blob in place', async () => {
    await a.put(Readable.from([content]));
    age(GRACE + 1_000);
    // Replica b reads the references (none) while replica a writes the same bytes again.
    const removed = await b.remove(sha, async () => {
      await a.put(Readable.from([content]));
      return true;
    });
    expect(removed).toBeUndefined();
    expect(fs.readFileSync(file(), 'utf8')).toBe(content);
  });

  it('a hold that comes while the other replica judges the old blob keeps it (the removal puts it back)', async () => {
    await a.put(Readable.from([content]));
    age(GRACE + 1_000);
    let held: Awaited<ReturnType<BlobStore['hold']>>;
    const removed = await b.remove(sha, async () => {
      held = await a.hold(sha);
      return true;
    });
    expect(held!).toBeDefined();
    expect(removed).toBeUndefined();
    expect(fs.readFileSync(file(), 'utf8')).toBe(content);
  });

  it('on a folder that is not shared, refresh leaves the blob\'s times alone and removal ignores them', async () => {
    const alone = createBlobStore(path.join(dir, 'alone'));
    const info = await alone.put(Readable.from([content]));
    const own = alone.path(info.sha256);
    const old = new Date(now - 10 * GRACE);
    fs.utimesSync(own, old, old);
    await alone.refresh(info.sha256);
    expect(Math.round(fs.statSync(own).mtimeMs)).toBe(old.getTime());
    fs.utimesSync(own, new Date(), new Date());
    expect(await alone.remove(info.sha256, unused)).toBe(content.length);
  });
});
