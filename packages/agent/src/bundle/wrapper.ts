/**
 * Wrapper-folder stripping (semantics §4.6 step 4): GitHub tarballs and "compress this folder" zips
 * put everything under one top folder; the AWS agent lifts that folder's contents up when it holds
 * the AppSpec, so `appspec.yml` ends up at the archive root where Install looks for it.
 */
import { lstat, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * stripWrapperFolder moves the contents of `root`'s only entry up one level when that entry is a
 * folder and one of its direct children has `appspec` in its name (any case). It goes through the
 * sibling `<root>-temp`, like the AWS agent's `deployment-archive-temp`. Returns whether it did.
 */
export async function stripWrapperFolder(root: string): Promise<boolean> {
  const top = await readdir(root);
  if (top.length !== 1) return false;
  const wrapper = join(root, top[0] as string);
  if (!(await lstat(wrapper)).isDirectory()) return false;
  const inside = await readdir(wrapper);
  if (!inside.some((name) => /appspec/i.test(name))) return false;

  // Renaming the wrapper over its parent moves every child in one step, links and modes intact.
  const temp = wrapperTempDir(root);
  await rm(temp, { recursive: true, force: true });
  await rename(wrapper, temp);
  await rmdir(root);
  await rename(temp, root);
  return true;
}

/** wrapperTempDir is the sibling folder {@link stripWrapperFolder} passes through. */
export function wrapperTempDir(root: string): string {
  return join(dirname(root), `${basename(root)}-temp`);
}
