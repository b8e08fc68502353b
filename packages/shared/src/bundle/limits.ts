/**
 * Size limits a revision bundle must stay within before the agent unpacks it (and while the
 * coordinator reads its AppSpec). The checks are pure so the scan of each archive format can call
 * them as it goes and stop a bomb early.
 */

/**
 * BundleLimits caps what one bundle may unpack to. A bundle past any of them is refused before
 * anything is written: the numbers stop archive bombs from filling the disk or the inode table.
 */
export interface BundleLimits {
  /** Most archive entries (files, folders, links) one bundle may hold. */
  maxEntries: number;
  /** Most bytes of file content one bundle may unpack to. */
  maxTotalBytes: number;
  /** Largest allowed ratio of unpacked bytes to the bundle file's own size. */
  maxCompressionRatio: number;
}

/**
 * defaultBundleLimits are generous for real applications (CodeDeploy itself accepts bundles of
 * several GiB) yet far below what a crafted archive can expand to.
 */
export const defaultBundleLimits: BundleLimits = {
  maxEntries: 200_000,
  maxTotalBytes: 20 * 1024 ** 3,
  maxCompressionRatio: 200,
};

/**
 * RATIO_FLOOR_BYTES is how far a bundle may expand before the compression ratio is enforced. A tiny
 * tgz of empty files legitimately expands 100-fold (tar pads to 10 KiB) and cannot hurt anybody.
 */
export const RATIO_FLOOR_BYTES = 1024 * 1024;

/**
 * entryCountProblem says why `count` entries are too many, or returns undefined. A tar scan stops at
 * the first entry over the limit, so there the count is limit + 1.
 */
export function entryCountProblem(count: number, limits: BundleLimits): string | undefined {
  if (count <= limits.maxEntries) return undefined;
  return `bundle has ${count} entries, more than the limit of ${limits.maxEntries} (bundle.maxEntries)`;
}

/**
 * totalBytesProblem says why `bytes` of content are too many, or returns undefined. `atLeast` marks a
 * running total that a streaming scan stopped counting early.
 */
export function totalBytesProblem(bytes: number, limits: BundleLimits, atLeast: boolean): string | undefined {
  if (bytes <= limits.maxTotalBytes) return undefined;
  const amount = atLeast ? `at least ${bytes}` : `${bytes}`;
  return `bundle unpacks to ${amount} bytes, more than the limit of ${limits.maxTotalBytes} (bundle.maxTotalBytes)`;
}

/**
 * ratioProblem says why expanding a `bundleBytes` file to `expandedBytes` looks like a bomb, or
 * returns undefined. Below {@link RATIO_FLOOR_BYTES} the ratio is not judged.
 */
export function ratioProblem(expandedBytes: number, bundleBytes: number, limits: BundleLimits): string | undefined {
  if (expandedBytes <= RATIO_FLOOR_BYTES) return undefined;
  const ratio = expandedBytes / Math.max(1, bundleBytes);
  if (ratio <= limits.maxCompressionRatio) return undefined;
  return (
    `bundle expands ${ratio.toFixed(1)} times (${expandedBytes} bytes from ${bundleBytes}), ` +
    `more than the limit of ${limits.maxCompressionRatio} (bundle.maxCompressionRatio)`
  );
}
