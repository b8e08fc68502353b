/**
 * The unpack half of DownloadBundle (semantics §4.6 step 3 and 4), done in-process instead of by
 * `tar`/`unzip`, so that an archive entry that would land outside the bundle is refused before
 * anything is written (the project's safety divergence from the AWS agent).
 *
 * Every bundle is read twice: a scan pass that only judges entries, then an extraction pass that
 * judges them again while writing. Both stream; memory does not grow with the bundle's size.
 */
import { stat, mkdir, rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DeployError } from '@fleetdeploy/shared';
import { PendingAttributes } from './attributes.js';
import { BundleIndex } from './bundle-index.js';
import { extractionError } from './errors.js';
import { defaultBundleLimits } from './limits.js';
import type { BundleLimits } from './limits.js';
import { createSymlinks } from './symlinks.js';
import { stripWrapperFolder, wrapperTempDir } from './wrapper.js';

export { defaultBundleLimits } from './limits.js';
export type { BundleLimits } from './limits.js';

/** BundleType is an archive format the agent unpacks (directory bundles are copied, not unpacked). */
export type BundleType = 'tar' | 'tgz' | 'zip';

/** UnpackOptions says which bundle to unpack where. */
export interface UnpackOptions {
  bundlePath: string;
  bundleType: BundleType;
  /** Removed first if it exists; absent again if unpacking fails. */
  targetDir: string;
  limits?: BundleLimits;
  /**
   * `auto` (the default) extracts a scanned tar with the host's GNU tar when it has one, else in
   * JavaScript; `node` always uses the JavaScript extractor.
   */
  extractor?: 'auto' | 'node';
}

/** UnpackResult counts what was unpacked: archive entries and bytes of file content. */
export interface UnpackResult {
  entries: number;
  bytes: number;
}

/**
 * unpackBundle extracts a tar, tgz or zip bundle into `targetDir` and strips a wrapper folder that
 * holds the AppSpec. A bundle with an unsafe entry (absolute or escaping path, link pointing out,
 * device), or past a limit, or not a valid archive, is refused with a DeployError naming the entry
 * or the bundle, and `targetDir` is left absent. Modes are kept as `tar -xp` / `unzip` keep them;
 * symbolic links are re-created; tar mtimes are kept; running as root, tar ownership is kept.
 */
export async function unpackBundle(opts: UnpackOptions): Promise<UnpackResult> {
  const limits = opts.limits ?? defaultBundleLimits;
  const targetDir = resolve(opts.targetDir);
  const label = basename(opts.bundlePath);
  const type = opts.bundleType;
  await rm(targetDir, { recursive: true, force: true });
  const bundleBytes = await bundleSize(opts.bundlePath, label);

  // The scan keeps the plain tar it judged beside the target (never inside it), bounded by the same
  // limits that stop the scan; extraction reads that copy, so it writes exactly what was judged and
  // a tgz is inflated once.
  const scanned = type === 'zip' ? undefined : `${targetDir}.scanned.tar`;
  if (scanned !== undefined) await rm(scanned, { force: true });
  try {
    return await scanThenExtract(opts.bundlePath, label, type, targetDir, limits, bundleBytes, scanned, opts.extractor ?? 'auto');
  } finally {
    if (scanned !== undefined) await rm(scanned, { force: true });
  }
}

async function scanThenExtract(
  bundlePath: string,
  label: string,
  type: BundleType,
  targetDir: string,
  limits: BundleLimits,
  bundleBytes: number,
  scanned: string | undefined,
  extractor: 'auto' | 'node',
): Promise<UnpackResult> {
  const format = type === 'zip' ? 'zip' : 'tar';
  const scan = new BundleIndex(format, limits, bundleBytes);
  // Each format's reader is loaded only when a bundle of that format arrives (node-tar and yauzl
  // each cost tens of milliseconds to load, which a short-lived local run notices).
  const reader = type === 'zip' ? await import('./zip-unpack.js') : await import('./tar-unpack.js');
  if ('findGnuTar' in reader && extractor === 'auto') void reader.findGnuTar();
  if ('scanZip' in reader) await reader.scanZip(bundlePath, label, scan);
  else await reader.scanTar(bundlePath, label, type as 'tar' | 'tgz', scan, scanned);
  const plan = scan.finish();

  await mkdir(targetDir, { recursive: true });
  try {
    if (scanned !== undefined && extractor === 'auto' && 'extractWithSystemTar' in reader && (await reader.extractWithSystemTar(scanned, targetDir, label))) {
      await stripWrapperFolder(targetDir);
      return { entries: plan.entries, bytes: plan.bytes };
    }
    const index = new BundleIndex(format, limits, bundleBytes);
    const attrs = new PendingAttributes();
    if ('extractZip' in reader) await reader.extractZip(bundlePath, label, targetDir, index, attrs);
    else await reader.extractTar(scanned ?? bundlePath, label, targetDir, index, attrs);
    const done = index.finish();
    if (done.digest !== plan.digest) {
      throw new DeployError('UnknownError', `${label} changed while it was being unpacked`);
    }
    await createSymlinks(targetDir, done.symlinks);
    await attrs.apply();
    await stripWrapperFolder(targetDir);
    return { entries: done.entries, bytes: done.bytes };
  } catch (err) {
    // Retries cover node-tar writes still in flight when an error stopped the stream.
    await rm(targetDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    await rm(wrapperTempDir(targetDir), { recursive: true, force: true });
    throw extractionError(err, label);
  }
}

async function bundleSize(bundlePath: string, label: string): Promise<number> {
  try {
    const info = await stat(bundlePath);
    if (!info.isFile()) throw new Error('not a regular file');
    return info.size;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new DeployError('UnknownError', `cannot read bundle ${label}: ${message}`, { cause: err });
  }
}
