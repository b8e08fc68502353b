/**
 * Creating a path exclusively and, when something is already there, unlinking it once and creating
 * again: what tar does for an entry that repeats a name, and what an OVERWRITE install does. An
 * exclusive create costs nothing extra for the usual new path, and unlinking first means a write
 * never lands in another hard link's data or through a symbolic link.
 */
import { unlinkSync } from 'node:fs';
import { unlink } from 'node:fs/promises';

const exists = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'EEXIST';

/** replacing runs `create` for `path`, removing whatever is in the way once if it fails with EEXIST. */
export function replacing<T>(path: string, create: () => T): T {
  try {
    return create();
  } catch (err) {
    if (!exists(err)) throw err;
    unlinkSync(path);
    return create();
  }
}

/** replacingAsync is {@link replacing} for a create that returns a promise. */
export async function replacingAsync<T>(path: string, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!exists(err)) throw err;
    await unlink(path);
    return create();
  }
}
