/**
 * Content-addressed blob files: each stored byte sequence lives once, at `<dir>/<aa>/<sha256>` where
 * `aa` is the first two hex digits of its SHA-256. Writes stream to a temp file in `<dir>`, hashing
 * as they go, are fsynced and then renamed into place, so a reader never sees a partial blob and a
 * crash leaves at most a stray temp file. Nothing here holds a whole blob in memory.
 *
 * Blobs are freed by a collector (blob-collector.ts) that asks {@link BlobStore.remove} to delete
 * the ones nothing references. Two in-memory guards make that safe against this process's writers,
 * so no grace period on file times is needed when one process owns the folder (SQLite; data-dir-lock.ts):
 *
 *   holds     a blob being put, or in use before its reference is committed, is held
 *             (putHeld, hold); remove refuses a held blob.
 *   deleting  a remove in flight; a put of the same content waits for it before its rename, and a
 *             hold waits for it and then finds the blob gone, so neither loses to an unlink that
 *             the thread pool runs late.
 *
 * A folder shared by replicas on one PostgreSQL database ({@link SharedBlobDir}) also has writers
 * this process cannot see: another replica putting the same content, or holding a blob it is about
 * to reference. Their writes and holds set the blob's mtime to now (a put's rename brings a new
 * file; a hold, or {@link BlobStore.refresh} before a reference is committed, touches it), and a
 * removal here spares a blob touched within the grace period. It first moves the blob aside (an
 * atomic rename, so it owns the file it judges), reads that file's mtime, and puts it back when it
 * was touched meanwhile; a put that renames its new file into place after the move is untouched.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** BlobInfo is what {@link BlobStore.put} learned about the bytes it stored: hex digests and length. */
export interface BlobInfo {
  sha256: string;
  md5: string;
  size: number;
}

/** ByteRange selects bytes `start` to `end`, both inclusive (as in HTTP ranges); either may be left out. */
export interface ByteRange {
  start?: number;
  end?: number;
}

/** HeldBlob is a stored blob that {@link BlobStore.remove} will not delete until `release` is called. */
export interface HeldBlob extends BlobInfo {
  /** release drops the hold; calling it again does nothing. */
  release(): void;
}

/** BlobHold keeps one blob from being removed until `release` is called. */
export interface BlobHold {
  readonly sha256: string;
  /** release drops the hold; calling it again does nothing. */
  release(): void;
}

/**
 * SharedBlobDir says the folder is shared with other coordinator replicas: a blob touched less than
 * `graceMs` ago (by `now`, ms) may be about to be referenced by one of them, and is not removed.
 */
export interface SharedBlobDir {
  graceMs: number;
  now: () => number;
}

/** SHARED_BLOB_GRACE_MS is how long a blob written or held by a replica is spared in a shared folder: far longer than any request. */
export const SHARED_BLOB_GRACE_MS = 10 * 60_000;

/** BlobStoreEvents are told about the store's holds: `released` when a blob's last hold is dropped. */
export interface BlobStoreEvents {
  released?(sha256: string): void;
}

/** BlobStore is the content-addressed file store made by {@link createBlobStore}. */
export interface BlobStore {
  /**
   * put stores everything `source` yields and resolves once it is durable on disk. The blob is not
   * held afterwards: where a collector runs, use {@link BlobStore.putHeld} and commit the reference first.
   */
  put(source: Readable | AsyncIterable<Uint8Array>): Promise<BlobInfo>;
  /**
   * putHeld is {@link BlobStore.put} that leaves the blob held: release it once the row that
   * references it is committed (or the write is given up, when the collector may take it).
   */
  putHeld(source: Readable | AsyncIterable<Uint8Array>): Promise<HeldBlob>;
  /**
   * hold keeps a stored blob from being removed; it resolves undefined when the blob is not stored
   * (never written, or removed before the hold was taken).
   */
  hold(sha256: string): Promise<BlobHold | undefined>;
  /**
   * refresh tells the collectors of other replicas sharing the folder that the blob is about to be
   * referenced (it touches the blob), before a transaction that references a stored blob without
   * holding it (CreateDeployment). Nothing happens in a folder that is not shared, or to a missing blob.
   */
  refresh(sha256: string): Promise<void>;
  /**
   * remove deletes a blob unless it is held or `unused()` says otherwise. `unused` may answer
   * asynchronously (the references are read from the database): a hold taken while it is asked
   * keeps the blob, since the holder may commit a reference before the answer comes, and nothing
   * awaits between the answer and the unlink's dispatch. So a reference committed by then, or by a
   * holder, keeps the blob. Resolves to the bytes freed (0 for a blob already gone), or undefined
   * when it was kept.
   */
  remove(sha256: string, unused: () => boolean | Promise<boolean>): Promise<number | undefined>;
  /** list yields the SHA-256 of every stored blob, in no particular order. */
  list(): AsyncIterable<string>;
  /**
   * removeStaleTemps deletes temp files last written before `before` (ms since the epoch) that no put of
   * this store is writing: what a crash mid-put leaves. Resolves to the bytes freed.
   */
  removeStaleTemps(before: number): Promise<number>;
  /** path is where the blob with this SHA-256 lives (whether or not it exists yet). */
  path(sha256: string): string;
  /** has tells whether the blob is stored. */
  has(sha256: string): Promise<boolean>;
  /** size is the blob's length in bytes; it rejects with ENOENT when the blob is missing. */
  size(sha256: string): Promise<number>;
  /**
   * open opens the blob for reading, optionally only a byte range. It resolves once the file is open,
   * so a missing blob rejects (ENOENT) before the caller has committed to a response.
   */
  open(sha256: string, range?: ByteRange): Promise<Readable>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEMP_PREFIX = '.tmp-';

/**
 * createBlobStore makes a {@link BlobStore} over `dir`, creating the folder (with `mode`) if needed. Use one per
 * data directory (the coordinator uses `<dataDir>/blobs`); several may share a folder safely, since
 * identical content lands on the same name and rename replaces atomically.
 */
export function createBlobStore(dir: string, mode?: number, events: BlobStoreEvents = {}, shared?: SharedBlobDir): BlobStore {
  fs.mkdirSync(dir, { recursive: true, ...(mode === undefined ? {} : { mode }) });
  const holds = new Map<string, number>();
  /** The removals asking `unused` now, by blob: a hold taken meanwhile marks them, and they keep the blob. */
  const asked = new Map<string, Set<{ held: boolean }>>();
  const deleting = new Map<string, Promise<void>>();
  const writing = new Set<string>();

  /** pin adds a hold synchronously and returns its (idempotent) release. */
  function pin(sha256: string): () => void {
    holds.set(sha256, (holds.get(sha256) ?? 0) + 1);
    for (const asking of asked.get(sha256) ?? []) asking.held = true;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (holds.get(sha256) ?? 1) - 1;
      if (left > 0) {
        holds.set(sha256, left);
        return;
      }
      holds.delete(sha256);
      events.released?.(sha256);
    };
  }

  function blobPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return path.join(dir, sha256.slice(0, 2), sha256);
  }

  async function put(source: Readable | AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    const { release, ...info } = await putHeld(source);
    release();
    return info;
  }

  async function putHeld(source: Readable | AsyncIterable<Uint8Array>): Promise<HeldBlob> {
    const name = `${TEMP_PREFIX}${randomBytes(12).toString('hex')}`;
    const temp = path.join(dir, name);
    writing.add(name);
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    // flush: fsync before close, so the bytes are durable before the rename publishes them
    const out = fs.createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: true });
    let release: (() => void) | undefined;
    try {
      await pipeline(
        source,
        async function* hash(chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            sha.update(chunk);
            md5.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        out,
      );
      const info: BlobInfo = { sha256: sha.digest('hex'), md5: md5.digest('hex'), size };
      const final = blobPath(info.sha256);
      release = pin(info.sha256);
      // An unlink of this same content may be in flight: publish after it, never before.
      for (let pending = deleting.get(info.sha256); pending !== undefined; pending = deleting.get(info.sha256)) await pending;
      await fs.promises.mkdir(path.dirname(final), { recursive: true });
      await fs.promises.rename(temp, final);
      await syncDir(path.dirname(final));
      return { ...info, release };
    } catch (err) {
      // A source that fails at once can fail before the file is even opened; removing it before the
      // stream has closed would leave the file it then creates behind.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      await fs.promises.rm(temp, { force: true });
      release?.();
      throw err;
    } finally {
      writing.delete(name);
    }
  }

  async function hold(sha256: string): Promise<BlobHold | undefined> {
    blobPath(sha256); // refuses a malformed digest before anything is held
    const release = pin(sha256);
    for (let pending = deleting.get(sha256); pending !== undefined; pending = deleting.get(sha256)) await pending;
    if (shared === undefined ? await has(sha256).catch(() => false) : await touch(sha256)) return { sha256, release };
    release();
    return undefined;
  }

  /** touch sets a blob's times to now (other replicas' collectors spare it); false when it is not stored. */
  async function touch(sha256: string): Promise<boolean> {
    const at = new Date(shared?.now() ?? Date.now());
    try {
      await fs.promises.utimes(blobPath(sha256), at, at);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async function refresh(sha256: string): Promise<void> {
    if (shared !== undefined) await touch(sha256);
  }

  /**
   * removeShared removes a blob of a shared folder unless another replica touched it lately: moved
   * aside first, so the mtime read is that of the file removed; put back when it is recent.
   */
  async function removeShared(sha256: string, file: string, grace: SharedBlobDir): Promise<number | undefined> {
    const aside = path.join(dir, `${TEMP_PREFIX}removing-${randomBytes(8).toString('hex')}`);
    try {
      await fs.promises.rename(file, aside);
    } catch (err) {
      if (isNotFound(err)) return 0; // another replica removed it
      throw err;
    }
    // An old file moved aside may be taken meanwhile by another replica's sweep of stale temp files.
    const stat = await fs.promises.stat(aside).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (stat === undefined) return 0;
    if (grace.now() - stat.mtimeMs < grace.graceMs) {
      // Written or held by a replica since it was judged: put back (unless a put has brought it back already).
      await fs.promises.link(aside, file).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      });
      await fs.promises.rm(aside, { force: true });
      return undefined;
    }
    await fs.promises.rm(aside, { force: true });
    return stat.size;
  }

  async function remove(sha256: string, unused: () => boolean | Promise<boolean>): Promise<number | undefined> {
    const file = blobPath(sha256);
    const found = await fs.promises.stat(file).then((s) => s, (err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    const size = found?.size ?? 0;
    if (holds.has(sha256) || deleting.has(sha256)) return undefined;
    // In a shared folder, a blob another replica wrote or held lately is spared without asking.
    if (shared !== undefined && found !== undefined && shared.now() - found.mtimeMs < shared.graceMs) return undefined;
    const asking = { held: false };
    const waiting = asked.get(sha256) ?? new Set();
    asked.set(sha256, waiting.add(asking));
    let free: boolean;
    try {
      free = await unused();
    } finally {
      waiting.delete(asking);
      if (waiting.size === 0) asked.delete(sha256);
    }
    // From here to the unlink's dispatch nothing awaits: a hold or a reference seen now is final.
    if (!free || asking.held || holds.has(sha256) || deleting.has(sha256)) return undefined;
    const unlink = shared === undefined ? fs.promises.rm(file, { force: true }).then(() => size) : removeShared(sha256, file, shared);
    const settled = unlink.then(
      () => undefined,
      () => undefined,
    );
    deleting.set(sha256, settled);
    try {
      return await unlink;
    } finally {
      deleting.delete(sha256);
    }
  }

  async function* list(): AsyncIterable<string> {
    for (const fan of await fs.promises.readdir(dir)) {
      if (!/^[0-9a-f]{2}$/.test(fan)) continue;
      let names: string[];
      try {
        names = await fs.promises.readdir(path.join(dir, fan));
      } catch (err) {
        if (isNotFound(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw err;
      }
      for (const name of names) if (SHA256_HEX.test(name) && name.startsWith(fan)) yield name;
    }
  }

  async function removeStaleTemps(before: number): Promise<number> {
    let freed = 0;
    for (const name of await fs.promises.readdir(dir)) {
      if (!name.startsWith(TEMP_PREFIX) || writing.has(name)) continue;
      const file = path.join(dir, name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (stat === undefined || !stat.isFile() || stat.mtimeMs >= before || writing.has(name)) continue;
      await fs.promises.rm(file, { force: true });
      freed += stat.size;
    }
    return freed;
  }

  async function has(sha256: string): Promise<boolean> {
    try {
      await fs.promises.access(blobPath(sha256));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async function size(sha256: string): Promise<number> {
    return (await fs.promises.stat(blobPath(sha256))).size;
  }

  async function open(sha256: string, range: ByteRange = {}): Promise<Readable> {
    const file = await fs.promises.open(blobPath(sha256), 'r');
    return file.createReadStream({ start: range.start, end: range.end });
  }

  return { put, putHeld, hold, refresh, remove, list, removeStaleTemps, path: blobPath, has, size, open };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}
