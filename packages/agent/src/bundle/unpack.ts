/**
 * The unpack half of DownloadBundle (semantics §4.6 step 3 and 4), done in-process instead of by
 * `tar`/`unzip`, so that an archive entry that would land outside the bundle is refused before
 * anything is written (the project's safety divergence from the AWS agent).
 *
 * Both formats are written into a staging folder beside the target. A zip's central directory is
 * judged whole before any entry is written; a tar or tgz is read once, each entry judged before its
 * header reaches the writer. The whole bundle (limits, link targets) is judged before the staging
 * folder is renamed to the target, and a refused bundle's staging folder is removed. So nothing is
 * written at the target, or anywhere outside the staging folder, before it was judged. Both stream
 * file data; memory does not grow with the bundle's size (a zip's plan holds a few fields per entry).
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { DeployError, defaultBundleLimits } from '@fleetdeploy/shared';
import type { BundleLimits } from '@fleetdeploy/shared';
import { PendingAttributes } from './attributes.js';
import { BundleIndex } from './bundle-index.js';
import { extractionError } from './errors.js';
import { createSymlinks } from './symlinks.js';
import { stripWrapperFolder, wrapperTempDir } from './wrapper.js';
import type { ZipInflating } from './zip-unpack.js';

export { defaultBundleLimits } from '@fleetdeploy/shared';
export type { BundleLimits } from '@fleetdeploy/shared';

/** BundleType is an archive format the agent unpacks (directory bundles are copied, not unpacked). */
export type BundleType = 'tar' | 'tgz' | 'zip';

/** UnpackOptions says which bundle to unpack where. */
export interface UnpackOptions {
  bundlePath: string;
  bundleType: BundleType;
  /** Removed first if it exists; absent again if unpacking fails. */
  targetDir: string;
  limits?: BundleLimits;
  /** Where a zip's small entries are inflated (default `auto`; see zip-unpack.ts). */
  zipInflating?: ZipInflating;
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
  if (type === 'zip') return unpackZip(opts.bundlePath, label, targetDir, limits, bundleBytes, opts.zipInflating);
  return unpackTar(opts.bundlePath, label, type, targetDir, limits, bundleBytes);
}

/**
 * unpackTar writes a tar or tgz into `<targetDir>.unpacking` in one judged pass, then renames it to
 * `targetDir`. Design decision: judging the whole bundle before writing a byte meant keeping an
 * inflated copy and writing every bundle twice. Writing while judging keeps the rule that matters:
 * no entry reaches the disk before it is judged (entry by entry, limits included), nothing appears at
 * the target before the whole bundle is judged, and a refused bundle leaves nothing behind. What a
 * refused bundle may briefly leave in the staging folder is only what was judged safe entry by entry
 * (its links, whose targets are judged at the end, are never followed: no entry may go through a
 * link, and links are created last).
 */
async function unpackTar(bundlePath: string, label: string, type: 'tar' | 'tgz', targetDir: string, limits: BundleLimits, bundleBytes: number): Promise<UnpackResult> {
  const staging = stagingDir(targetDir);
  await removeStaging(staging);
  // node-tar costs tens of milliseconds to load, which a short-lived local run notices.
  const reader = await import('./tar-unpack.js');
  const index = new BundleIndex('tar', limits, bundleBytes);
  try {
    await mkdir(staging);
    const attrs = new PendingAttributes();
    await reader.extractTar(bundlePath, label, type, staging, index, attrs);
    const plan = index.finish();
    await createSymlinks(staging, plan.symlinks);
    attrs.apply();
    await stripWrapperFolder(staging);
    await rename(staging, targetDir);
    return { entries: plan.entries, bytes: plan.bytes };
  } catch (err) {
    await removeStaging(staging);
    throw extractionError(err, label);
  }
}

/** stagingDir is the folder beside `targetDir` that a tar bundle is written into before it is judged whole. */
export function stagingDir(targetDir: string): string {
  return `${targetDir}.unpacking`;
}

async function removeStaging(staging: string): Promise<void> {
  await rm(staging, { recursive: true, force: true });
  await rm(wrapperTempDir(staging), { recursive: true, force: true });
}

/**
 * unpackZip judges a zip's whole central directory, then writes it into `<targetDir>.unpacking` and
 * renames that to `targetDir` once the links are judged, as {@link unpackTar} does: a refused bundle
 * leaves nothing at the target. The central directory is read once, so what was judged is what is
 * written; entry data that differs from what the directory declared is refused by size and CRC-32.
 */
async function unpackZip(bundlePath: string, label: string, targetDir: string, limits: BundleLimits, bundleBytes: number, inflating: ZipInflating | undefined): Promise<UnpackResult> {
  const staging = stagingDir(targetDir);
  await removeStaging(staging);
  // yauzl costs tens of milliseconds to load; it is loaded only when a zip arrives.
  const reader = await import('./zip-unpack.js');
  const index = new BundleIndex('zip', limits, bundleBytes);
  try {
    await mkdir(staging);
    const attrs = new PendingAttributes();
    await reader.extractZip(bundlePath, label, staging, index, attrs, inflating);
    const plan = index.finish();
    await createSymlinks(staging, plan.symlinks);
    attrs.apply();
    await stripWrapperFolder(staging);
    await rename(staging, targetDir);
    return { entries: plan.entries, bytes: plan.bytes };
  } catch (err) {
    await removeStaging(staging);
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
