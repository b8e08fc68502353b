/**
 * Writing checked archive entries into the target folder. Both formats use it, in archive order:
 * node-tar's own Unpack was measured at 171 MB peak RSS on a 500 MB tgz, because it parses ahead of
 * the disk and thousands of entries wait on pending file-system calls. Here memory is bounded: files
 * are written with synchronous calls ({@link TreeWriter.openFileSync}), a tar's slice by slice as the
 * bundle is inflated, a zip's small entries whole once inflated and its large ones slice by slice.
 * On the hosts measured, a thread-pool round trip per call (open, write, chmod, utimes, close) cost
 * more than the write itself, and parallel creates only contended for the folder's lock.
 *
 * Every path handed in has passed the bundle index, and no symbolic link exists under the root while
 * entries are written (links are created last), so no write can follow one; files are opened with
 * O_NOFOLLOW all the same.
 */
import { chownSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, linkSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { replacing } from '../replacing.js';

/** Owner is a uid/gid pair to give an entry (tar bundles unpacked as root, like `tar -x`). */
export interface Owner {
  uid: number;
  gid: number;
}

/** FileMeta is what a file entry carries besides its content. */
export interface FileMeta {
  /** Exact permission bits, set with fchmod where the umask would change them (`tar -p`). */
  mode: number;
  mtime?: Date | undefined;
  owner?: Owner | undefined;
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * TreeWriter creates folders, files and hard links below `root`, one entry at a time: each call has
 * finished with the disk when it returns. It remembers the folders it made, so a bundle of many
 * files in few folders costs one mkdir per folder; that is safe because nothing else changes the
 * tree meanwhile.
 */
export class TreeWriter {
  private readonly made = new Set<string>(['']);
  private readonly umask = processUmask();
  private readonly uid = process.getuid?.();
  private readonly gid = process.getgid?.();

  /** The root, absolute and normalised, so that {@link pathOf} can join by concatenation. */
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /**
   * pathOf is the absolute path of `segments` below the root. Every segment has passed the bundle
   * index (a plain name: no separator, `.`, `..` or NUL), so joining them is concatenation;
   * path.join's normalising was 10% of a 2,000-file zip's main-thread time (it is called a few
   * times per entry).
   */
  pathOf(segments: readonly string[]): string {
    return segments.length === 0 ? this.root : `${this.root}${sep}${segments.join(sep)}`;
  }

  /** dir makes the folder (and its parents) and gives it `owner`; mode and time are set at the end. */
  dir(segments: readonly string[], owner?: Owner): string {
    const abs = this.ensureDir(segments);
    if (owner !== undefined && this.needsChown(owner)) chownSync(abs, owner.uid, owner.gid);
    return abs;
  }

  /** createSync makes a new file at `abs`, unlinking an earlier entry of that name as tar does. */
  private createSync(abs: string, meta: FileMeta): FileSink {
    const fd = replacing(abs, () => openSync(abs, CREATE_FLAGS, meta.mode & 0o777));
    const { chown, chmod } = this.fixups(meta);
    return new FileSink(fd, meta, chown, chmod);
  }

  /**
   * fixups says what a new file needs after its content: the owner when it differs from ours, and
   * the mode when the umask would have changed it or a chown cleared its setuid bits.
   */
  private fixups(meta: FileMeta): { chown: Owner | undefined; chmod: boolean } {
    const chown = meta.owner !== undefined && this.needsChown(meta.owner) ? meta.owner : undefined;
    const chmod = chown !== undefined || this.umask === undefined || (meta.mode & ~0o777) !== 0 || (meta.mode & this.umask) !== 0;
    return { chown, chmod };
  }

  /**
   * openFileSync starts a file whose content arrives in slices (a tar entry's body as it is
   * inflated): the caller writes each slice and closes the sink, or aborts it on failure.
   */
  openFileSync(segments: readonly string[], meta: FileMeta): FileSink {
    this.ensureDir(segments.slice(0, -1));
    return this.createSync(this.pathOf(segments), meta);
  }

  /** hardLinkSync links `segments` to the earlier file at `target`, replacing an earlier entry. */
  hardLinkSync(segments: readonly string[], target: readonly string[]): void {
    this.ensureDir(segments.slice(0, -1));
    const abs = this.pathOf(segments);
    const existing = this.pathOf(target);
    replacing(abs, () => linkSync(existing, abs));
  }

  private needsChown(owner: Owner): boolean {
    return owner.uid !== this.uid || owner.gid !== this.gid;
  }

  private ensureDir(segments: readonly string[]): string {
    const key = segments.join('/');
    const abs = this.pathOf(segments);
    if (this.made.has(key)) return abs;
    mkdirSync(abs, { recursive: true });
    for (let i = 1; i <= segments.length; i++) this.made.add(segments.slice(0, i).join('/'));
    return abs;
  }
}

/**
 * FileSink is one new file being written with synchronous calls. Closing it sets the owner before
 * the mode (chown clears setuid bits) and then the mtime, as `tar -xp` leaves a file.
 */
export class FileSink {
  constructor(
    private readonly fd: number,
    private readonly meta: FileMeta,
    private readonly chown: Owner | undefined,
    private readonly chmod: boolean,
  ) {}

  write(data: Buffer): void {
    for (let offset = 0; offset < data.length; ) offset += writeSync(this.fd, data, offset, data.length - offset);
  }

  close(): void {
    try {
      if (this.chown !== undefined) fchownSync(this.fd, this.chown.uid, this.chown.gid);
      if (this.chmod) fchmodSync(this.fd, this.meta.mode);
      if (this.meta.mtime !== undefined) futimesSync(this.fd, this.meta.mtime, this.meta.mtime);
    } finally {
      closeSync(this.fd);
    }
  }

  /** abort closes the file after a failure, keeping the failure as the error to report. */
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // the write already failed; that is what gets reported
    }
  }
}

/**
 * processUmask reads the umask from /proc (Linux), to skip a chmod when the umask leaves a mode
 * alone; `process.umask()` without an argument is deprecated and briefly changes the process umask.
 * Unknown (undefined) means "always chmod".
 */
function processUmask(): number | undefined {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match?.[1] === undefined ? undefined : parseInt(match[1], 8);
  } catch {
    return undefined;
  }
}
