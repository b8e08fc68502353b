/**
 * Creating a bundle's symbolic links. They are made after every other entry is written, so no
 * extraction step can ever follow one, whatever order the archive lists them in.
 */
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * createSymlinks makes every link of `links` (path below `root` → target, already checked by the
 * bundle index) inside `root`. Missing parent folders are created the way tar creates implied ones.
 */
export async function createSymlinks(root: string, links: ReadonlyMap<string, string>): Promise<void> {
  for (const [path, target] of links) {
    const abs = join(root, ...path.split('/'));
    await mkdir(dirname(abs), { recursive: true });
    await symlink(target, abs);
  }
}
