/**
 * Small blobs kept in memory, for the bundle downloads of a fleet: an AllAtOnce deployment to 1,000
 * instances reads the same bundle 1,000 times, and each read from disk (open, a 64 KiB buffer, read,
 * close, through the libuv thread pool) was 8.5% of the coordinator's CPU at 10,000 agents. A blob is
 * named by its SHA-256 and never changes, so a cached copy can never go stale; large blobs are still
 * streamed from disk. Least recently used blobs leave first once the total passes its bound.
 */

/** SmallBlobCacheOptions bound what is kept. */
export interface SmallBlobCacheOptions {
  /** read loads a whole blob. */
  read(sha256: string): Promise<Buffer>;
  /** Blobs larger than this are not kept (streamed from disk by the caller). */
  maxBlobBytes: number;
  /** The most all kept blobs add up to. */
  maxTotalBytes: number;
}

/** SmallBlobCache hands out small blobs from memory. */
export interface SmallBlobCache {
  /** get resolves the blob's bytes, read once; undefined (no promise) when `size` is too large to keep. */
  get(sha256: string, size: number): Promise<Buffer> | undefined;
  /** bytes is what the kept blobs add up to. */
  bytes(): number;
}

/** createSmallBlobCache keeps blobs up to `maxBlobBytes`, `maxTotalBytes` in all. */
export function createSmallBlobCache(options: SmallBlobCacheOptions): SmallBlobCache {
  /** In least recently used order (a Map keeps insertion order; a hit is moved to the end). */
  const kept = new Map<string, { data: Promise<Buffer>; size: number }>();
  let total = 0;

  const forget = (sha256: string): void => {
    const entry = kept.get(sha256);
    if (entry === undefined) return;
    kept.delete(sha256);
    total -= entry.size;
  };

  return {
    get(sha256, size) {
      if (size > options.maxBlobBytes || size > options.maxTotalBytes) return undefined;
      const hit = kept.get(sha256);
      if (hit !== undefined) {
        kept.delete(sha256);
        kept.set(sha256, hit);
        return hit.data;
      }
      // Concurrent downloads of a blob not yet read share one read; a failed read is not kept.
      const data = options.read(sha256).then((buffer) => {
        if (buffer.length !== size && kept.get(sha256)?.data === data) forget(sha256);
        return buffer;
      });
      data.catch(() => {
        if (kept.get(sha256)?.data === data) forget(sha256);
      });
      kept.set(sha256, { data, size });
      total += size;
      for (const oldest of kept.keys()) {
        if (total <= options.maxTotalBytes) break;
        forget(oldest);
      }
      return data;
    },
    bytes: () => total,
  };
}
