/**
 * The `<group-id>-cleanup` file: every path the group's last Install created, one per line, in the
 * order they were created. The next Install of the group removes them in reverse before copying, which
 * is why files a group installed itself never count as "already existing".
 */
import fs from 'node:fs';
import { runCommand } from '../process/spawn.js';

/** SEMANAGE_PREFIX marks a record that undoes an SELinux label (`semanage<NUL><path>`). */
export const SEMANAGE_PREFIX = 'semanage\0';

/**
 * parseCleanup reads a cleanup file's text as the AWS agent does: a last line without its newline is
 * an interrupted write and is dropped; the rest are trimmed; blank lines mean nothing.
 */
export function parseCleanup(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  lines.pop(); // either '' after the final newline, or an incomplete record
  return lines.map((l) => l.trim()).filter((l) => l !== '');
}

/** PathKind is what occupies a path on the host, without following a final symlink. */
export type PathKind = 'file' | 'directory' | 'symlink' | 'none';

/** lstatKind tells what is at a path without following a final symlink. */
export function lstatKind(p: string): PathKind {
  try {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return 'symlink';
    if (st.isDirectory()) return 'directory';
    return 'file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'none';
    throw err;
  }
}

/**
 * predictCleanup answers, without touching anything, which recorded paths removal would delete:
 * links and files always, a directory only when everything inside it goes too (directories that hold
 * files a script created are kept). This lets Install find conflicts before it removes anything.
 */
export function predictCleanup(records: readonly string[]): Set<string> {
  const removed = new Set<string>();
  for (let i = records.length - 1; i >= 0; i--) {
    const rec = records[i]!;
    if (rec.startsWith(SEMANAGE_PREFIX)) continue;
    const kind = lstatKind(rec);
    if (kind === 'file' || kind === 'symlink') removed.add(rec);
    else if (kind === 'directory') {
      const children = fs.readdirSync(rec);
      if (children.every((c) => removed.has(`${rec}/${c}`))) removed.add(rec);
    }
  }
  return removed;
}

/**
 * performCleanup removes recorded paths in reverse order: links are unlinked (never followed),
 * non-empty directories kept, missing paths ignored, SELinux labels dropped with `semanage fcontext -d`.
 */
export async function performCleanup(records: readonly string[]): Promise<void> {
  for (let i = records.length - 1; i >= 0; i--) {
    const rec = records[i]!;
    if (rec.startsWith(SEMANAGE_PREFIX)) {
      await runCommand('semanage', ['fcontext', '-d', rec.slice(SEMANAGE_PREFIX.length)]); // result ignored, as the AWS agent does
      continue;
    }
    const kind = lstatKind(rec);
    if (kind === 'file' || kind === 'symlink') fs.unlinkSync(rec);
    else if (kind === 'directory') {
      try {
        fs.rmdirSync(rec);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      }
    }
  }
}

/** readCleanupFile returns the records of a group's cleanup file, or none when it does not exist. */
export function readCleanupFile(file: string): string[] {
  try {
    return parseCleanup(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
