/**
 * What a zip central-directory record means on a Unix host: kind and mode. Pure, so the attribute
 * rules (which differ between the tools that write zips) are tested without crafting archives.
 */
import type { EntryKind } from './bundle-index.js';

/** ZipEntryFacts are the central-directory fields that decide an entry's kind and mode. */
export interface ZipEntryFacts {
  fileName: string;
  versionMadeBy: number;
  externalFileAttributes: number;
}

/** ZipEntryShape is what the entry becomes on disk. */
export interface ZipEntryShape {
  kind: EntryKind;
  mode: number;
  /** The file type's name, for refusal messages. */
  typeName: string;
}

const S_IFMT = 0o170000;
const UNIX_HOSTS = new Set([3 /* Unix */, 19 /* OS X */]);

/**
 * classifyZipEntry reads the Unix mode from the high 16 bits of the external attributes when the
 * zip was made on Unix (or macOS), as unzip does. Without one, files get 0644 and folders 0755.
 * Setuid and setgid bits are dropped, like `unzip` without `-K` (what the AWS agent runs).
 */
export function classifyZipEntry(facts: ZipEntryFacts): ZipEntryShape {
  const unixMode = UNIX_HOSTS.has(facts.versionMadeBy >> 8) ? (facts.externalFileAttributes >>> 16) & 0xffff : 0;
  const nameIsDir = /[\\/]$/.test(facts.fileName);
  const dosDir = (facts.externalFileAttributes & 0x10) !== 0 && unixMode === 0;
  if (unixMode === 0) {
    return nameIsDir || dosDir ? { kind: 'dir', mode: 0o755, typeName: 'folder' } : { kind: 'file', mode: 0o644, typeName: 'file' };
  }
  const perms = unixMode & 0o1777;
  if (nameIsDir) return { kind: 'dir', mode: perms, typeName: 'folder' };
  switch (unixMode & S_IFMT) {
    case 0:
    case 0o100000:
      return { kind: 'file', mode: perms, typeName: 'file' };
    case 0o040000:
      return { kind: 'dir', mode: perms, typeName: 'folder' };
    case 0o120000:
      return { kind: 'symlink', mode: perms, typeName: 'symbolic link' };
    case 0o010000:
      return { kind: 'device', mode: perms, typeName: 'FIFO' };
    case 0o020000:
      return { kind: 'device', mode: perms, typeName: 'CharacterDevice' };
    case 0o060000:
      return { kind: 'device', mode: perms, typeName: 'BlockDevice' };
    default:
      return { kind: 'unsupported', mode: perms, typeName: `unix file type 0o${(unixMode & S_IFMT).toString(8)}` };
  }
}
