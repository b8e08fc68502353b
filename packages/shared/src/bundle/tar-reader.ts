/**
 * The framing of a tar stream: 512-byte header blocks, each followed by its body padded to a whole
 * block. Decoding a header (ustar, GNU and pax fields) is node-tar's `Header` and `Pax`; this reader
 * only walks the blocks and hands each header and body slice to a sink, synchronously and without
 * copying body bytes. node-tar's `Parser` does the same walk through a stream object per entry, which
 * cost a short-lived agent more CPU than the inflation of the bundle (bench-agent-install).
 *
 * Pure: no I/O. Pax records (`x`, `g`) and GNU long names (`L`, `K`) are applied to the header that
 * follows them, as tar does; the sink never sees them.
 */
import { Header } from 'tar/header';
import { Pax } from 'tar/pax';
import type { HeaderData } from 'tar/header';

const BLOCK = 512;

/** MAX_META_BYTES caps a pax record or GNU long name (node-tar's own limit): a bigger one is refused. */
export const MAX_META_BYTES = 1024 * 1024;

/** TarHeader is one archive entry's header, extended records already applied. */
export interface TarHeader {
  path: string;
  /** node-tar's type name: File, Directory, SymbolicLink, Link, CharacterDevice, … or Unsupported. */
  type: string;
  size: number;
  mode?: number | undefined;
  linkpath?: string | undefined;
  uid?: number | undefined;
  gid?: number | undefined;
  mtime?: Date | undefined;
}

/** TarSink receives an archive's entries in order: a header, its body in slices, then its end. */
export interface TarSink {
  entry(header: TarHeader): void;
  data(slice: Buffer): void;
  endEntry(): void;
}

/** TarFormatError says the bytes are not a well-formed tar archive (as opposed to a refused one). */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

const META_TYPES = new Set(['ExtendedHeader', 'OldExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath', 'OldGnuLongPath', 'NextFileHasLongLinkpath']);
const LINK_TYPES = new Set(['Link', 'SymbolicLink']);

/**
 * TarReader is fed a tar stream in chunks of any size with {@link TarReader.push} and told the end
 * with {@link TarReader.end}. It throws a TarFormatError for a header with a bad checksum, a missing
 * path or link target, an oversized meta record, or an archive that ends inside an entry.
 */
export class TarReader {
  /** Bytes of a header split across chunks. */
  private readonly pending = Buffer.alloc(BLOCK);
  private pendingBytes = 0;
  /** Body bytes of the current entry still to come, then the padding after them. */
  private bodyLeft = 0;
  private paddingLeft = 0;
  private meta: { type: string; parts: Buffer[] } | undefined;
  private ex: HeaderData | undefined;
  private gex: HeaderData | undefined;
  /** Stream offset of the chunk being pushed, and of the header being collected, for messages. */
  private offset = 0;
  private pendingAt = 0;
  private headers = 0;
  private nullBlocks = 0;
  private stopped = false;

  constructor(private readonly sink: TarSink) {}

  /** atEnd says the end-of-archive marker has been read: whatever follows it is not part of the archive. */
  get atEnd(): boolean {
    return this.nullBlocks >= 2;
  }

  /**
   * stop ends the walk from inside the sink, which has read what it needed: the rest of the chunk
   * being pushed, and whatever is pushed later, is ignored.
   */
  stop(): void {
    this.stopped = true;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.stopped) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, chunk.length - at);
        this.body(chunk.subarray(at, at + n));
        at += n;
        this.bodyLeft -= n;
        if (this.bodyLeft === 0) this.finishBody();
        continue;
      }
      if (this.paddingLeft > 0) {
        const n = Math.min(this.paddingLeft, chunk.length - at);
        at += n;
        this.paddingLeft -= n;
        continue;
      }
      if (this.nullBlocks >= 2) break; // past the end-of-archive marker: trailing blocks are ignored, as tar does
      if (this.pendingBytes === 0 && chunk.length - at >= BLOCK) {
        this.header(chunk, at, this.offset + at);
        at += BLOCK;
        continue;
      }
      if (this.pendingBytes === 0) this.pendingAt = this.offset + at;
      const n = Math.min(BLOCK - this.pendingBytes, chunk.length - at);
      chunk.copy(this.pending, this.pendingBytes, at, at + n);
      this.pendingBytes += n;
      at += n;
      if (this.pendingBytes === BLOCK) {
        this.pendingBytes = 0;
        this.header(this.pending, 0, this.pendingAt);
      }
    }
    this.offset += chunk.length;
  }

  /** end checks that the stream stopped between entries and held at least one header. */
  end(): void {
    if (this.bodyLeft > 0 || this.pendingBytes > 0 || this.meta !== undefined) {
      throw new TarFormatError('Truncated input: the archive ends inside an entry');
    }
    // An archive of nothing but its end marker is still an archive.
    if (this.headers === 0 && this.nullBlocks < 2) throw new TarFormatError('Unrecognized archive format: no tar header found');
  }

  private header(buf: Buffer, at: number, where: number): void {
    if (isZeroBlock(buf, at)) {
      this.nullBlocks += 1;
      return;
    }
    this.nullBlocks = 0;
    const h = new Header(buf, at, this.ex, this.gex);
    if (!h.cksumValid) throw new TarFormatError(`invalid tar header at byte ${where} (checksum failure)`);
    if (!h.path) throw new TarFormatError(`tar header at byte ${where} has no path`);
    this.headers += 1;
    const type = h.type as string;
    const size = h.size ?? 0;
    if (!Number.isSafeInteger(size) || size < 0) throw new TarFormatError(`tar header at byte ${where} has an invalid size`);
    this.bodyLeft = size;
    this.paddingLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    if (META_TYPES.has(type)) {
      if (size > MAX_META_BYTES) throw new TarFormatError(`the ${type} record at byte ${where} is larger than ${MAX_META_BYTES} bytes`);
      this.meta = { type, parts: [] };
      if (size === 0) this.finishBody();
      return;
    }
    // Header applies pending records to every field but the link target, which it decodes last.
    const linkpath = this.ex?.linkpath ?? this.gex?.linkpath ?? h.linkpath;
    if (LINK_TYPES.has(type) && !linkpath) throw new TarFormatError(`the link ${JSON.stringify(h.path)} has no target`);
    this.ex = undefined;
    this.sink.entry({ path: h.path, type, size, mode: h.mode === undefined ? undefined : h.mode & 0o7777, linkpath, uid: h.uid, gid: h.gid, mtime: h.mtime });
    if (size === 0) this.finishBody();
  }

  private body(slice: Buffer): void {
    if (this.meta !== undefined) this.meta.parts.push(Buffer.from(slice));
    else this.sink.data(slice);
  }

  private finishBody(): void {
    const meta = this.meta;
    if (meta === undefined) {
      this.sink.endEntry();
      return;
    }
    this.meta = undefined;
    const text = Buffer.concat(meta.parts).toString('utf8');
    switch (meta.type) {
      case 'GlobalExtendedHeader':
        this.gex = Pax.parse(text, this.gex, true);
        break;
      case 'NextFileHasLongPath':
      case 'OldGnuLongPath':
        this.ex = { ...this.ex, path: text.replace(/\0.*/s, '') };
        break;
      case 'NextFileHasLongLinkpath':
        this.ex = { ...this.ex, linkpath: text.replace(/\0.*/s, '') };
        break;
      default:
        this.ex = Pax.parse(text, this.ex, false);
    }
  }
}

function isZeroBlock(buf: Buffer, at: number): boolean {
  for (let i = at; i < at + BLOCK; i += 1) if (buf[i] !== 0) return false;
  return true;
}
