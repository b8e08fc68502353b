/**
 * Content-addressed blob files: each stored byte sequence lives once, at `<dir>/<aa>/<sha256>` where
 * `aa` is the first two hex digits of its SHA-256. Writes stream to a temp file in `<dir>`, hashing
 * as they go, are fsynced and then renamed into place, so a reader never sees a partial blob and a
 * crash leaves at most a stray temp file. Nothing here holds a whole blob in memory.
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

/** BlobStore is the content-addressed file store made by {@link createBlobStore}. */
export interface BlobStore {
  /** put stores everything `source` yields and resolves once it is durable on disk. */
  put(source: Readable | AsyncIterable<Uint8Array>): Promise<BlobInfo>;
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
 * createBlobStore makes a {@link BlobStore} over `dir`, creating the folder if needed. Use one per
 * data directory (the coordinator uses `<dataDir>/blobs`); several may share a folder safely, since
 * identical content lands on the same name and rename replaces atomically.
 */
export function createBlobStore(dir: string): BlobStore {
  fs.mkdirSync(dir, { recursive: true });

  function blobPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a sha256 hex digest: ${JSON.stringify(sha256)}`);
    return path.join(dir, sha256.slice(0, 2), sha256);
  }

  async function put(source: Readable | AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}`);
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    // flush: fsync before close, so the bytes are durable before the rename publishes them
    const out = fs.createWriteStream(temp, { flags: 'wx', mode: 0o644, flush: true });
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
      await fs.promises.mkdir(path.dirname(final), { recursive: true });
      await fs.promises.rename(temp, final);
      await syncDir(path.dirname(final));
      return info;
    } catch (err) {
      // A source that fails at once can fail before the file is even opened; removing it before the
      // stream has closed would leave the file it then creates behind.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      await fs.promises.rm(temp, { force: true });
      throw err;
    }
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

  return { put, path: blobPath, has, size, open };
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
