/**
 * The policy that decides whether a bundle may be unpacked, fed one archive entry at a time by the
 * format readers. It does no I/O: a zip's reader calls it for every record of the central directory
 * before anything is written; a tar's single pass calls it for each header before that header reaches
 * the writer; and `finish` judges the whole bundle before it is moved into place.
 */
import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';
import { DeployError, entryCountProblem, ratioProblem, totalBytesProblem } from '@fleetdeploy/shared';
import type { BundleLimits } from '@fleetdeploy/shared';
import { checkEntryPath, checkLinkText, resolveLink } from './entry-guard.js';
import { entryRefusal } from './errors.js';

/**
 * EntryKind is what an archive entry becomes on disk. `device` covers character and block devices
 * and FIFOs, which are refused: a deployment has no use for them and, as root, they would open raw
 * disks. `unsupported` is anything else the archive format can express (sparse files, tape labels).
 */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'device' | 'unsupported';

/** ArchiveEntry is what a format reader tells the index about one entry. */
export interface ArchiveEntry {
  /** The name exactly as stored in the archive, quoted in error messages. */
  rawPath: string;
  kind: EntryKind;
  /** Content bytes (declared size for zip, header size for tar); 0 for anything but files. */
  size: number;
  /** Target of a symbolic link or hard link, as stored. */
  linkTarget?: string;
  /** The format's own type name, for messages about refused types. */
  typeName?: string;
}

/** BundlePlan is what a complete pass over a bundle found. */
export interface BundlePlan {
  entries: number;
  bytes: number;
  /** Every symbolic link (path below the bundle folder → target). Created after extraction. */
  symlinks: Map<string, string>;
}

/**
 * MAX_LINK_METADATA_BYTES bounds the memory the link table may take (names plus targets), since it
 * is kept for the whole unpack. Real bundles use a few KiB.
 */
export const MAX_LINK_METADATA_BYTES = 32 * 1024 * 1024;

type SeenKind = 'f' | 'd' | 'l';

/**
 * BundleIndex applies the entry rules of a bundle: safe names, no entry written through or over a
 * symbolic link, hard links only to earlier regular files, device entries refused, and the limits.
 * Symbolic links never exist on disk while entries are extracted (they are created at the end), so
 * no write can follow one; their targets are judged in {@link BundleIndex.finish} against the final
 * link table, which these rules make exactly the set of links that will exist.
 */
export class BundleIndex {
  private entries = 0;
  private bytes = 0;
  private expanded = 0;
  private linkBytes = 0;
  /** Hashes of every path seen (including implied parent folders): bounded memory per entry. */
  private readonly seen = new Map<string, SeenKind>();
  private readonly links = new Map<string, string>();

  constructor(
    private readonly format: 'tar' | 'zip',
    private readonly limits: BundleLimits,
    private readonly bundleBytes: number,
  ) {}

  /**
   * admit checks one entry and records it; it returns the entry's path segments below the bundle
   * folder (empty for the folder itself) or throws the DeployError that refuses the bundle.
   */
  admit(entry: ArchiveEntry): string[] {
    this.entries += 1;
    this.fail(entryCountProblem(this.entries, this.limits));
    const refuse = (reason: string): never => {
      throw entryRefusal(entry.rawPath, reason);
    };
    if (entry.kind === 'device') refuse(`${entry.typeName ?? 'device'} entries are not allowed in a bundle`);
    if (entry.kind === 'unsupported') refuse(`unsupported entry type ${entry.typeName ?? 'unknown'}`);

    const checked = checkEntryPath(entry.rawPath, this.format);
    if (!checked.ok) return refuse(checked.reason);
    const segments = checked.segments;
    if (segments.length === 0 && entry.kind !== 'dir') refuse('only a folder may stand for the bundle folder itself');
    const path = segments.join('/');

    // Nothing may be written at or below a path that is a symbolic link.
    let prefix = '';
    for (let i = 0; this.links.size > 0 && i < segments.length; i++) {
      prefix = i === 0 ? (segments[0] as string) : `${prefix}/${segments[i] as string}`;
      if (!this.links.has(prefix)) continue;
      if (i === segments.length - 1) refuse('replaces a symbolic link of the same name');
      refuse(`path goes through the symbolic link ${JSON.stringify(prefix)}`);
    }
    const parentProblem = this.markParents(segments);
    if (parentProblem !== undefined) refuse(parentProblem);

    const key = hashPath(path);
    const before = this.seen.get(key);
    switch (entry.kind) {
      case 'symlink': {
        const target = entry.linkTarget ?? '';
        const textProblem = checkLinkText(target);
        if (textProblem !== undefined) refuse(textProblem);
        if (before !== undefined) refuse('symbolic link replaces another entry of the same name');
        this.linkBytes += Buffer.byteLength(path) + Buffer.byteLength(target);
        if (this.linkBytes > MAX_LINK_METADATA_BYTES) {
          refuse(`the bundle's symbolic links take more than ${MAX_LINK_METADATA_BYTES} bytes of names`);
        }
        this.links.set(path, target);
        this.seen.set(key, 'l');
        break;
      }
      case 'hardlink': {
        const target = checkEntryPath(entry.linkTarget ?? '', this.format);
        if (!target.ok) return refuse(`hard link target ${JSON.stringify(entry.linkTarget ?? '')}: ${target.reason}`);
        const targetPath = target.segments.join('/');
        if (targetPath === path) refuse('hard link points to itself');
        if (this.seen.get(hashPath(targetPath)) !== 'f') {
          refuse(`hard link target ${JSON.stringify(entry.linkTarget)} is not a file earlier in the bundle`);
        }
        if (before === 'd') refuse('file replaces a folder of the same name');
        this.seen.set(key, 'f');
        break;
      }
      case 'file':
        if (before === 'd') refuse('file replaces a folder of the same name');
        this.seen.set(key, 'f');
        break;
      case 'dir':
        if (before === 'f') refuse('folder replaces a file of the same name');
        this.seen.set(key, 'd');
        break;
    }

    if (entry.kind === 'file') {
      this.bytes += entry.size;
      this.fail(totalBytesProblem(this.bytes, this.limits, true));
      this.fail(ratioProblem(Math.max(this.bytes, this.expanded), this.bundleBytes, this.limits));
    }
    return segments;
  }

  /**
   * declareEntryCount refuses a bundle whose table of contents (a zip's central directory) already
   * announces too many entries, before a single one is read.
   */
  declareEntryCount(count: number): void {
    this.fail(entryCountProblem(count, this.limits));
  }

  /**
   * noteExpanded records how many bytes the bundle has expanded to so far (the whole decompressed tar
   * stream, headers included), so a tgz bomb built from headers is stopped as well.
   */
  noteExpanded(bytes: number): void {
    this.expanded = bytes;
    this.fail(ratioProblem(Math.max(this.bytes, this.expanded), this.bundleBytes, this.limits));
  }

  /**
   * finish ends the pass: it judges every symbolic link against the complete link table and returns
   * the plan. It throws the DeployError that refuses the bundle.
   */
  finish(): BundlePlan {
    this.fail(totalBytesProblem(this.bytes, this.limits, false));
    for (const [path, target] of this.links) {
      const resolved = resolveLink(path.split('/'), target, this.links);
      if (!resolved.ok) throw entryRefusal(path, resolved.reason);
    }
    return { entries: this.entries, bytes: this.bytes, symlinks: new Map(this.links) };
  }

  /**
   * markParents records the folders an entry implies, and refuses an entry below a regular file
   * (the extraction would fail half-way otherwise). It stops at the first folder already known,
   * because that folder's own parents were recorded with it.
   */
  private markParents(segments: readonly string[]): string | undefined {
    for (let i = segments.length - 1; i >= 1; i--) {
      const parent = segments.slice(0, i).join('/');
      const key = hashPath(parent);
      const kind = this.seen.get(key);
      if (kind === 'f') return `path goes through ${JSON.stringify(parent)}, which is a file`;
      if (kind !== undefined) return undefined;
      this.seen.set(key, 'd');
    }
    return undefined;
  }

  private fail(problem: string | undefined): void {
    if (problem !== undefined) throw new DeployError('UnknownError', problem);
  }
}

/**
 * node:crypto is loaded on first use. Only paths longer than MAX_PLAIN_KEY need a digest,
 * and loading it at the start would cost every tgz `local` run fifteen of Node's internal modules.
 */
const requireBuiltin = createRequire(import.meta.url);
let loadedCrypto: typeof NodeCrypto | undefined;
function createHash(algorithm: string): NodeCrypto.Hash {
  loadedCrypto ??= requireBuiltin('node:crypto') as typeof NodeCrypto;
  return loadedCrypto.createHash(algorithm);
}

/** Paths up to this long key the seen-table as they are; longer ones by a digest. */
const MAX_PLAIN_KEY = 64;

/**
 * hashPath keys the seen-table by a digest for long paths, so a hostile bundle of long names cannot
 * make the table huge, and by the path itself for the usual short ones (hashing each one cost more
 * than the rest of the checks). A digest key starts with NUL, which no path contains, so the two
 * kinds never meet. A collision could only refuse a good bundle, never admit a bad one: links are
 * kept by name.
 */
function hashPath(path: string): string {
  return path.length <= MAX_PLAIN_KEY ? path : `\0${createHash('sha1').update(path).digest('base64')}`;
}
