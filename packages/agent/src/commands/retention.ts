/**
 * Archive retention (`max_revisions`), run at the start of every DownloadBundle: the group keeps at
 * most max_revisions deployment folders counting the new one, and never loses the folder of its last
 * successful install, whose scripts the next ApplicationStop needs.
 */
import fs from 'node:fs';
import path from 'node:path';

/** RevisionDir is one deployment folder of a group, with its modification time. */
export interface RevisionDir {
  path: string;
  mtimeMs: number;
}

/**
 * revisionsToPrune chooses which folders to delete. Worked example (max 2): folders d1 (the last
 * successful install, oldest), d2, d3 and the new d4 → extra = 3 − 2 + 1 = 2; d1 is protected, so
 * d2 and d3 go, and d1 and d4 remain.
 */
export function revisionsToPrune(
  existing: readonly RevisionDir[],
  current: string,
  lastSuccessful: string | undefined,
  maxRevisions: number,
): string[] {
  const others = existing.filter((d) => d.path !== current);
  const extra = others.length - maxRevisions + 1;
  if (extra <= 0) return [];
  return others
    .filter((d) => d.path !== lastSuccessful)
    .sort((a, b) => a.mtimeMs - b.mtimeMs)
    .slice(0, extra)
    .map((d) => d.path);
}

/** pruneRevisions deletes the group's surplus deployment folders and returns what it deleted. */
export function pruneRevisions(groupDir: string, current: string, lastSuccessful: string | undefined, maxRevisions: number): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(groupDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const existing = names.map((n) => {
    const p = path.join(groupDir, n);
    return { path: p, mtimeMs: fs.lstatSync(p).mtimeMs };
  });
  const doomed = revisionsToPrune(existing, current, lastSuccessful, maxRevisions);
  for (const p of doomed) fs.rmSync(p, { recursive: true, force: true });
  return doomed;
}
