/**
 * zip bundles, read in one pass over the central directory: every entry is judged by the bundle
 * index (names, kinds, declared sizes, link texts) before anything is written, then the entries are
 * written in archive order, with synchronous calls into a {@link TreeWriter} on a staging folder that
 * unpack.ts moves into place once the whole bundle is judged, as for tar.
 *
 * Design decision: earlier versions read the central directory twice with yauzl (once to judge, once
 * to write, comparing the two) and opened a read stream and an inflate call per entry. On a 2,000-file
 * zip the process was idle most of the time, waiting on two thread-pool round trips per entry (the
 * read and the inflate) and on a second central-directory read. Here yauzl reads the central directory
 * once (into small records kept for the write), entry data comes from a reused multi-MiB read window
 * (one read serves many entries), and small entries are inflated with one synchronous call each; only
 * entries larger than {@link SMALL_ENTRY_BYTES} go through a zlib stream. Data is still checked against
 * what was declared, because declared sizes can lie. Inflating a few entries at once in the thread
 * pool while this thread wrote (as the tar path overlaps gunzip with writing) was measured too: 200 ms
 * more CPU for the 2,000-file zip (a zlib object, a round trip and a promise per entry) and no faster
 * on the loaded 2-core machine, so small entries are inflated with one synchronous call each: here,
 * and in a bundle of a few MB or more also in a worker thread that shares the entries with this one,
 * chunk by chunk (zip-inflater.ts), so that a second core inflates while this one writes.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createInflateRaw, crc32, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import type { Entry } from 'yauzl';
import type { PendingAttributes } from './attributes.js';
import type { ArchiveEntry, BundleIndex } from './bundle-index.js';
import { MAX_PATH_BYTES } from './entry-guard.js';
import { entryRefusal, extractionError, invalidArchiveError } from './errors.js';
import { FileWindow, cutMessage, pastEndMessage } from './file-window.js';
import { TreeWriter } from './tree-writer.js';
import type { FileSink } from './tree-writer.js';
import { classifyZipEntry } from './zip-entry.js';
import type { ZipEntryShape } from './zip-entry.js';
import { ZipInflater } from './zip-inflater.js';
import type { InflateFailure, InflateSink } from './zip-inflater.js';

/** Entries whose data (compressed and inflated) fits this are inflated in memory with one call. */
export const SMALL_ENTRY_BYTES = 1024 * 1024;
/** The read window: a small entry's local header (up to 30 + 2 × 64 KiB) and data always fit. */
const WINDOW_BYTES = 2 * 1024 * 1024;
/** A streamed entry's compressed data is fed to zlib in slices of this size. */
const STREAM_SLICE_BYTES = 1024 * 1024;
/** Large inflate chunks: per-chunk overhead, not inflation, dominated with zlib's 16 KiB default. */
const INFLATE_CHUNK_BYTES = 256 * 1024;
/** zlib's smallest output chunk (Z_MIN_CHUNK). */
const MIN_CHUNK_BYTES = 64;
const LOCAL_HEADER_BYTES = 30;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;

/**
 * Planned is what the write needs of a judged central-directory record: small, so that even a
 * bundle at the entry limit keeps its plan in tens of MB, not yauzl's Entry objects.
 */
interface Planned {
  name: string;
  shape: ZipEntryShape;
  segments: string[];
  mtime: Date;
  headerOffset: number;
  compressedSize: number;
  size: number;
  crc: number;
  method: number;
}

/**
 * ZIP_INFLATE_THREAD_FROM_BYTES is the bundle size from which small entries are inflated in a
 * {@link ZipInflater} thread as well as in this one: below it, starting the thread (about 25 ms of
 * CPU) costs more than sharing the work saves.
 */
export const ZIP_INFLATE_THREAD_FROM_BYTES = 4 * 1024 * 1024;

/**
 * ZipInflating says where a zip's small entries are inflated: `auto`, in this thread, and from
 * {@link ZIP_INFLATE_THREAD_FROM_BYTES} on in an inflating thread too; `thread`, all of them in the
 * inflating thread, whatever the size (tests use it to take that path on small zips).
 */
export type ZipInflating = 'auto' | 'thread';
/** The inflating thread's carrying buffers: each holds one small entry at least, and there are a few. */
const BATCH_BYTES = SMALL_ENTRY_BYTES;
const BATCHES = 4;

/**
 * extractZip judges the whole central directory of a zip bundle through `index`, then writes the
 * entries into the existing folder `stagingDir`. Symbolic links are not created here (the index
 * keeps them; the caller creates them after `index.finish()` judged them); folder modes and times,
 * and link times, are left in `attrs`. A refused or broken bundle throws the DeployError to report;
 * whatever was written stays in `stagingDir` for the caller to remove. `inflating` says whether an
 * inflating thread helps (see zip-inflater.ts).
 */
export async function extractZip(
  bundlePath: string,
  label: string,
  stagingDir: string,
  index: BundleIndex,
  attrs: PendingAttributes,
  inflating: ZipInflating = 'auto',
): Promise<void> {
  let handle: FileHandle | undefined;
  let inflater: ZipInflater | undefined;
  try {
    handle = await open(bundlePath, 'r');
    const fileBytes = (await handle.stat()).size;
    // Started before the central directory is read, so that the thread's start overlaps it.
    if (inflating === 'thread' || fileBytes >= ZIP_INFLATE_THREAD_FROM_BYTES) {
      inflater = new ZipInflater({ fd: handle.fd, fileBytes, windowBytes: WINDOW_BYTES, batchBytes: BATCH_BYTES, batches: BATCHES, shareWork: inflating === 'auto' });
    }
    // One descriptor serves both the central directory and the data, so the file read is one file.
    const window = new FileWindow(handle, fileBytes, WINDOW_BYTES);
    const plan = await judge(window, index);
    await writeEntries(plan, window, new TreeWriter(stagingDir), attrs, inflater);
  } catch (err) {
    if (err instanceof WriteError) throw extractionError(err.cause, label);
    throw invalidArchiveError(err, label, 'zip');
  } finally {
    await inflater?.close();
    await handle?.close();
  }
}

/** judge reads the central directory once, admitting every entry to the index, and returns the plan. */
async function judge(window: FileWindow, index: BundleIndex): Promise<Planned[]> {
  const zip = await yauzl.fromRandomAccessReaderPromise(new WindowReader(window), window.fileBytes, { autoClose: false, decodeStrings: false, validateEntrySizes: false });
  index.declareEntryCount(zip.entryCount);
  const plan: Planned[] = [];
  for await (const entry of zip.eachEntry()) plan.push(await admit(entry, window, index));
  return plan;
}

/**
 * WindowReader gives yauzl the bundle through the read window. yauzl reads the central directory a
 * record at a time, two reads each: from a file descriptor that was 4,000 thread-pool round trips for
 * a 2,000-file zip (a 660 ms pass, 41 ms of it on the CPU, in a profile on a loaded machine); from
 * the window it is one read for a central directory of up to WINDOW_BYTES.
 */
class WindowReader extends yauzl.RandomAccessReader {
  constructor(private readonly window: FileWindow) {
    super();
  }

  /** Never called: entry data is read through the window itself, not yauzl's streams. */
  override _readStreamForRange(): never {
    throw new Error('zip entry data is not read through yauzl');
  }

  /** read is fs.read() over the window: yauzl reads at most one record (under 200 KiB) at once. */
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    const held = this.window.held(position, length);
    if (held !== undefined) {
      held.copy(buffer, offset);
      process.nextTick(callback, null, length);
      return;
    }
    this.window.read(position, length, 'the central directory').then(
      (bytes) => callback(null, bytes.copy(buffer, offset)),
      (err: unknown) => callback(err as Error),
    );
  }
}

/** admit describes one central-directory record to the index (reading a link's text if needed). */
async function admit(entry: Entry, window: FileWindow, index: BundleIndex): Promise<Planned> {
  // Names are decoded here, not by yauzl, so that its own path checks (which would reject every
  // `..` with a message naming no reason) do not pre-empt ours; backslashes are kept for our rules.
  const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
  const shape = classifyZipEntry({ fileName: name, versionMadeBy: entry.versionMadeBy, externalFileAttributes: entry.externalFileAttributes });
  if (shape.kind === 'file' || shape.kind === 'symlink') {
    if (entry.isEncrypted()) throw entryRefusal(name, 'entry is encrypted');
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw entryRefusal(name, `compression method ${entry.compressionMethod} is not supported`);
    }
  }
  const planned: Planned = {
    name,
    shape,
    segments: [],
    mtime: entry.getLastModDate(),
    headerOffset: entry.relativeOffsetOfLocalHeader,
    compressedSize: entry.compressedSize,
    size: entry.uncompressedSize,
    crc: entry.crc32,
    method: entry.compressionMethod,
  };
  const described: ArchiveEntry = { rawPath: name, kind: shape.kind, size: shape.kind === 'file' ? planned.size : 0, typeName: shape.typeName };
  if (shape.kind === 'symlink') described.linkTarget = await readLinkText(planned, window);
  planned.segments = index.admit(described);
  return planned;
}

/**
 * readLinkText reads a symbolic link's target, stored as the entry's content. The size is checked
 * before reading so a "link" cannot be used to make the judging inflate a large entry.
 */
async function readLinkText(link: Planned, window: FileWindow): Promise<string> {
  if (link.size >= MAX_PATH_BYTES || link.compressedSize > SMALL_ENTRY_BYTES) {
    throw entryRefusal(link.name, `symbolic link target is longer than ${MAX_PATH_BYTES - 1} bytes`);
  }
  const { raw } = await locate(link, window);
  return inflateSmall(link, raw as Buffer).toString('utf8');
}

/** inMemory tells whether an entry's data is inflated with one call (else it is streamed). */
function inMemory(entry: Planned): boolean {
  return entry.shape.kind === 'file' && entry.compressedSize <= SMALL_ENTRY_BYTES && entry.size <= SMALL_ENTRY_BYTES;
}

/**
 * writeEntries writes the judged entries. Without an `inflater` (a small bundle) or when two file
 * entries have the same name (the later one must win), in archive order. Otherwise the entries the
 * inflater is not given (folders, links, large files) first, in archive order, then the small files,
 * in chunks, as this thread and the inflating one get to them. Either way a failure is reported at
 * the first failing entry in archive order, as writing in archive order would report it.
 */
async function writeEntries(plan: readonly Planned[], window: FileWindow, writer: TreeWriter, attrs: PendingAttributes, inflater: ZipInflater | undefined): Promise<void> {
  if (inflater === undefined || sharesAFileName(plan)) {
    for (const entry of plan) {
      const pending = writeEntry(entry, window, writer, attrs);
      if (pending !== undefined) await pending;
    }
    return;
  }
  const small = plan.filter(inMemory);
  inflater.submit(small);
  let first: { at: number; err: unknown } | undefined;
  for (let at = 0; at < plan.length && first === undefined; at++) {
    if (inMemory(plan[at]!)) continue;
    try {
      const pending = writeEntry(plan[at]!, window, writer, attrs);
      if (pending !== undefined) await pending;
    } catch (err) {
      first = { at, err };
    }
  }
  const before = first === undefined ? small.length : plan.slice(0, first.at).filter(inMemory).length;
  const sink: InflateSink = {
    own: (job) => writeEntry(small[job]!, window, writer, attrs),
    write: (job, data) => writeAndClose(openFile(writer, small[job]!), [data]),
    refused: (job, failure) => inflateFailure(small[job]!, failure, window.fileBytes),
  };
  const failed = await inflater.drain(sink, before);
  if (failed !== undefined) throw failed.err;
  if (first !== undefined) throw first.err;
}

/** sharesAFileName tells whether two file entries have the same path (a later one replaces the earlier). */
function sharesAFileName(plan: readonly Planned[]): boolean {
  const names = new Set<string>();
  for (const entry of plan) {
    if (entry.shape.kind !== 'file') continue;
    const name = entry.segments.join('/');
    if (names.has(name)) return true;
    names.add(name);
  }
  return false;
}

function openFile(writer: TreeWriter, entry: Planned): FileSink {
  return writing(() => writer.openFileSync(entry.segments, { mode: entry.shape.mode, mtime: entry.mtime }));
}

/**
 * writeEntry writes one entry. A small entry's data is inflated with one call; most are already in
 * the window, and then there is no await (nor a trip through the event loop): undefined is returned.
 */
function writeEntry(entry: Planned, window: FileWindow, writer: TreeWriter, attrs: PendingAttributes): Promise<void> | undefined {
  const { shape, segments } = entry;
  if (shape.kind === 'dir') {
    attrs.dir(writing(() => writer.dir(segments)), shape.mode, entry.mtime, segments.length);
  } else if (shape.kind === 'symlink') {
    attrs.link(writer.pathOf(segments), entry.mtime);
  } else if (shape.kind === 'file') {
    const held = locateHeld(entry, window);
    if (held === undefined) return locate(entry, window).then((located) => writeFile(entry, located, window, writer));
    return writeFile(entry, held, window, writer);
  }
  return undefined;
}

function writeFile(entry: Planned, { start, raw }: Located, window: FileWindow, writer: TreeWriter): Promise<void> | undefined {
  if (raw !== undefined && entry.size <= SMALL_ENTRY_BYTES) {
    const data = inflateSmall(entry, raw);
    writeAndClose(openFile(writer, entry), [data]);
    return undefined;
  }
  return streamEntry(entry, start, window, openFile(writer, entry));
}

/** inflateFailure words a failure found by the inflating thread as the in-thread path words it. */
function inflateFailure(entry: Planned, failure: InflateFailure, fileBytes: number): Error {
  const name = JSON.stringify(entry.name);
  switch (failure.code) {
    case 'no-header':
      return noLocalHeader(entry);
    case 'past-end':
      return new Error(pastEndMessage(failure.what === 'header' ? `the local header of entry ${name}` : `entry ${name}`, failure.end, fileBytes));
    case 'cut':
      return new Error(cutMessage(failure.what === 'header' ? `the local header of entry ${name}` : `entry ${name}`));
    case 'too-large':
      return tooLarge(entry);
    case 'short':
      return shortData(entry, failure.length);
    case 'crc':
      return crcMismatch(entry);
    case 'zlib':
      return new Error(`entry ${name}: ${failure.message}`);
    case 'other':
      return new Error(failure.message);
    default: {
      const never: never = failure;
      return new Error(`unknown inflate failure ${JSON.stringify(never)}`);
    }
  }
}

/** Located is where an entry's data starts and, when it is at most SMALL_ENTRY_BYTES, the data (a view of the window). */
interface Located {
  start: number;
  raw: Buffer | undefined;
}

/**
 * locate reads an entry's local header for where its data begins (the local name and extra field
 * lengths may differ from the central directory's; the names themselves are not used), and a small
 * entry's compressed data.
 */
async function locate(entry: Planned, window: FileWindow): Promise<Located> {
  const start = startAfter(await window.read(entry.headerOffset, LOCAL_HEADER_BYTES, `the local header of entry ${JSON.stringify(entry.name)}`), entry);
  if (entry.compressedSize > SMALL_ENTRY_BYTES) return { start, raw: undefined };
  return { start, raw: await window.read(start, entry.compressedSize, `entry ${JSON.stringify(entry.name)}`) };
}

/** locateHeld is {@link locate} when the window already holds what it reads, else undefined. */
function locateHeld(entry: Planned, window: FileWindow): Located | undefined {
  const header = window.held(entry.headerOffset, LOCAL_HEADER_BYTES);
  if (header === undefined) return undefined;
  const start = startAfter(header, entry);
  if (entry.compressedSize > SMALL_ENTRY_BYTES) return { start, raw: undefined };
  const raw = window.held(start, entry.compressedSize);
  return raw === undefined ? undefined : { start, raw };
}

function startAfter(header: Buffer, entry: Planned): number {
  if (header.readUInt32LE(0) !== LOCAL_HEADER_SIGNATURE) {
    throw noLocalHeader(entry);
  }
  return entry.headerOffset + LOCAL_HEADER_BYTES + header.readUInt16LE(26) + header.readUInt16LE(28);
}

/**
 * inflateSmall inflates one small entry's compressed data in one synchronous call, capped at one
 * byte more than declared: a thread-pool round trip per entry cost more than inflating it. The
 * result is checked against the declared size and CRC-32.
 */
function inflateSmall(entry: Planned, raw: Buffer): Buffer {
  let data = raw;
  if (entry.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: entry.size + 1, chunkSize: Math.max(MIN_CHUNK_BYTES, entry.size + 1) });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(entry);
      throw zlibError(err, entry);
    }
  }
  if (data.length > entry.size) throw tooLarge(entry);
  checkData(entry, data.length, crc32(data));
  return data;
}

/**
 * streamEntry writes a large entry slice by slice as it is read and inflated, its size checked as
 * the data comes. A failure leaves a partial file; the caller removes the whole staging folder.
 */
async function streamEntry(entry: Planned, start: number, window: FileWindow, sink: FileSink): Promise<void> {
  let written = 0;
  let crc = 0;
  const take = (chunk: Buffer): void => {
    written += chunk.length;
    if (written > entry.size) throw tooLarge(entry);
    crc = crc32(chunk, crc);
    writing(() => sink.write(chunk));
  };
  try {
    const slices = dataSlices(entry, start, window);
    if (entry.method === 8) {
      for await (const chunk of inflating(slices, entry)) take(chunk as Buffer);
    } else {
      for await (const slice of slices) take(slice);
    }
    checkData(entry, written, crc);
  } catch (err) {
    sink.abort();
    throw err;
  }
  writing(() => sink.close());
}

/** dataSlices yields an entry's compressed data as views of the window: each is gone at the next. */
async function* dataSlices(entry: Planned, start: number, window: FileWindow): AsyncGenerator<Buffer> {
  const end = start + entry.compressedSize;
  for (let pos = start; pos < end; ) {
    const slice = await window.read(pos, Math.min(STREAM_SLICE_BYTES, end - pos), `entry ${JSON.stringify(entry.name)}`);
    pos += slice.length;
    yield slice;
  }
}

/**
 * inflating returns a raw-inflate stream fed with `slices`. A slice is a view of the reused window,
 * so the next one is read only once zlib has called back for the last (it has consumed it then).
 */
function inflating(slices: AsyncIterable<Buffer>, entry: Planned): AsyncIterable<unknown> {
  const inflate = createInflateRaw({ chunkSize: INFLATE_CHUNK_BYTES });
  const feed = async (): Promise<void> => {
    for await (const slice of slices) {
      await new Promise<void>((resolve, reject) => inflate.write(slice, (err) => (err ? reject(err) : resolve())));
    }
    inflate.end();
  };
  feed().catch((err: unknown) => inflate.destroy(err as Error));
  return (async function* () {
    try {
      yield* inflate;
    } catch (err) {
      throw zlibError(err, entry);
    } finally {
      inflate.destroy();
    }
  })();
}

function writeAndClose(sink: FileSink, chunks: readonly Buffer[]): void {
  try {
    for (const chunk of chunks) sink.write(chunk);
  } catch (err) {
    sink.abort();
    throw new WriteError(err);
  }
  writing(() => sink.close());
}

/** WriteError wraps a file-system failure, which is reported as such and not as a broken archive. */
class WriteError extends Error {
  constructor(override readonly cause: unknown) {
    super('write failed');
  }
}

/** writing runs one call into the tree writer, marking its failure as a write failure. */
function writing<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw err instanceof WriteError ? err : new WriteError(err);
  }
}

function tooLarge(entry: Planned): Error {
  return entryRefusal(entry.name, `data is larger than its declared size of ${entry.size} bytes`);
}

function checkData(entry: Planned, length: number, crc: number): void {
  if (length < entry.size) throw shortData(entry, length);
  if (crc !== entry.crc) throw crcMismatch(entry);
}

function shortData(entry: Planned, length: number): Error {
  return new Error(`entry ${JSON.stringify(entry.name)} has ${length} bytes, ${entry.size} declared`);
}

function crcMismatch(entry: Planned): Error {
  return new Error(`entry ${JSON.stringify(entry.name)} does not match its CRC-32`);
}

function noLocalHeader(entry: Planned): Error {
  return new Error(`entry ${JSON.stringify(entry.name)} has no local header at byte ${entry.headerOffset}`);
}

/** zlibError names the entry whose data zlib (codes Z_*) could not inflate. */
function zlibError(err: unknown, entry: Planned): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return new Error(`entry ${JSON.stringify(entry.name)}: ${(err as Error).message}`);
  return err;
}
