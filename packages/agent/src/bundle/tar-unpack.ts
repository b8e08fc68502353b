/**
 * tar and tgz bundles, parsed with node-tar's Parser as a stream in one pass: a tar file has no
 * table of contents, so every header is judged by the bundle index as it streams past, and only
 * judged bytes reach the writer (see judged-stream.ts). The writer is the host's GNU tar or, without
 * one, a {@link TreeWriter}; either writes into a staging folder that unpack.ts moves into place once
 * the whole bundle is judged. Memory holds a few chunks, whatever the bundle's size.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, pipeline } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import type { ReadEntry } from 'tar';
import type { PendingAttributes } from './attributes.js';
import type { ArchiveEntry, BundleIndex, EntryKind } from './bundle-index.js';
import { checkEntryPath } from './entry-guard.js';
import { extractionError, invalidArchiveError } from './errors.js';
import { startGnuTarExtraction } from './gnu-tar.js';
import { JudgedStream } from './judged-stream.js';
import { TreeWriter } from './tree-writer.js';

const READ_CHUNK_BYTES = 1024 * 1024;
const INFLATE_CHUNK_BYTES = 256 * 1024;

/**
 * extractTarWithGnuTar streams a tar or tgz bundle through `index` into the host's GNU tar
 * extracting in `stagingDir`, as the AWS agent extracts with `tar -xp`. Node inflates (zlib here is
 * faster than gzip) and judges each header while tar writes the previous entries on the other core.
 * The first bad entry or exceeded limit kills tar before it receives that entry's header. Symbolic
 * links are created by tar, so their targets are only judged by `index.finish()` afterwards: the
 * caller must not move the staging folder into place before that.
 */
export async function extractTarWithGnuTar(bundlePath: string, label: string, type: 'tar' | 'tgz', stagingDir: string, index: BundleIndex): Promise<void> {
  const gnuTar = startGnuTarExtraction(stagingDir, label);
  let tarFailure: unknown;
  try {
    const parser = new tar.Parser({ strict: true, brotli: false, zstd: false });
    await drive(bundlePath, index, parser, (fail) => {
      parser.on('entry', (entry: ReadEntry) => {
        try {
          index.admit(describe(entry));
        } catch (err) {
          fail(err);
        }
        entry.resume();
      });
      parser.on('ignoredEntry', (entry: ReadEntry) => refuseIgnored(entry, index, fail));
      gnuTar.done.catch((err: unknown) => {
        tarFailure = err;
        fail(err);
      });
    }, gnuTar.input);
  } catch (err) {
    await gnuTar.kill();
    if (err === tarFailure) throw err;
    throw invalidArchiveError(err, label, type);
  }
  await gnuTar.done;
}

/**
 * extractTar is the JavaScript writer: it streams a tar or tgz bundle through `index` into the
 * existing folder `stagingDir`, each entry admitted before it is written. Entries go to a
 * {@link TreeWriter} in archive order (node-tar parses, but its Unpack runs ahead of the disk; see
 * tree-writer.ts). Symbolic links are skipped here (the index keeps them, the caller creates them
 * after `index.finish()` judged them); folder modes and times, and link times, are left in `attrs`.
 */
export async function extractTar(
  bundlePath: string,
  label: string,
  type: 'tar' | 'tgz',
  stagingDir: string,
  index: BundleIndex,
  attrs: PendingAttributes,
): Promise<void> {
  try {
    const writer = new TreeWriter(stagingDir);
    // Like `tar -x` (and node-tar), keep the archive's owners only when running as root.
    const keepOwners = process.getuid?.() === 0;
    const parser = new tar.Parser({ strict: true, brotli: false, zstd: false });
    let queue: Promise<void> = Promise.resolve();
    let writeError: unknown;
    let stopped = false;
    let writing: ReadEntry | undefined;
    const run = drive(bundlePath, index, parser, (fail) => {
      const stop = (err: unknown): void => {
        stopped = true;
        fail(err);
      };
      parser.on('entry', (entry: ReadEntry) => {
        let segments: string[];
        try {
          segments = index.admit(describe(entry));
        } catch (err) {
          stop(err);
          return;
        }
        // The parser holds the next entry (and the input) until this one is read: memory stays flat.
        queue = queue.then(async () => {
          if (stopped) return;
          writing = entry;
          try {
            await writeEntry(writer, attrs, entry, segments, keepOwners);
          } catch (err) {
            writeError ??= err;
            stop(err);
          } finally {
            writing = undefined;
          }
        });
      });
      parser.on('ignoredEntry', (entry: ReadEntry) => refuseIgnored(entry, index, stop));
    });
    const streamError = await run.then(
      () => undefined,
      (err: unknown) => err ?? new Error('extraction failed'),
    );
    if (streamError !== undefined) {
      stopped = true;
      // The input is gone, so an entry being written will never end by itself: end its write.
      writing?.destroy();
    }
    // Never return (and let the caller delete the folder) while a write is still in flight.
    await queue;
    const flushError = await writer.flush().then(
      () => undefined,
      (err: unknown) => err ?? new Error('write failed'),
    );
    if (writeError !== undefined) throw extractionError(writeError, label);
    if (streamError !== undefined) throw invalidArchiveError(streamError, label, type);
    if (flushError !== undefined) throw flushError;
  } catch (err) {
    throw extractionError(err, label);
  }
}

/** writeEntry hands one checked entry to the writer; consuming its data lets the parser go on. */
async function writeEntry(writer: TreeWriter, attrs: PendingAttributes, entry: ReadEntry, segments: string[], keepOwners: boolean): Promise<void> {
  const owner = keepOwners && entry.uid !== undefined && entry.gid !== undefined ? { uid: entry.uid, gid: entry.gid } : undefined;
  const abs = join(writer.root, ...segments);
  switch (kindOf(entry)) {
    case 'file':
      await writer.file(segments, entry, { mode: entry.mode ?? 0o644, mtime: entry.mtime, owner }, entry.size);
      return;
    case 'dir':
      await writer.dir(segments, owner);
      attrs.dir(abs, entry.mode ?? 0o755, entry.mtime, segments.length);
      break;
    case 'hardlink': {
      const target = checkEntryPath(entry.linkpath ?? '', 'tar');
      if (!target.ok) throw new Error(`unexpected hard link target ${JSON.stringify(entry.linkpath)}`);
      await writer.hardLink(segments, target.segments);
      break;
    }
    case 'symlink':
      attrs.link(abs, entry.mtime, owner);
      break;
    default:
      throw new Error(`unexpected entry type ${entry.type}`);
  }
  entry.resume();
}

/**
 * drive streams the bundle (gunzipped when its magic bytes say gzip, as `tar -x` detects it) through
 * a byte counter into a {@link JudgedStream} feeding `parser` (and `forward`, when given), and settles
 * on the parser's close or the first error. `wire` attaches the parser's entry handlers and receives
 * `fail`, which stops everything with that error; nothing is forwarded after it.
 */
async function drive(
  bundlePath: string,
  index: BundleIndex,
  parser: tar.Parser,
  wire: (fail: (err: unknown) => void) => void,
  forward?: Writable,
): Promise<void> {
  const compression = await sniffCompression(bundlePath);
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    let expanded = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (expanded === 0 && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
          return done(new Error('the tar data inside is gzip-compressed a second time'));
        }
        expanded += chunk.length;
        try {
          // Judged before the chunk goes on: an archive bomb is stopped before it is written.
          index.noteExpanded(expanded);
        } catch (err) {
          return done(err as Error);
        }
        done(null, chunk);
      },
    });
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      source.unpipe();
      source.destroy();
      reject(err);
    };
    const sink = new JudgedStream(parser, forward, () => settled);
    // Large chunks: per-chunk stream overhead, not inflation, dominated with the 64 KiB / 16 KiB defaults.
    const stages: (Readable | Transform)[] = [createReadStream(bundlePath, { highWaterMark: READ_CHUNK_BYTES })];
    if (compression === 'gzip') stages.push(createGunzip({ chunkSize: INFLATE_CHUNK_BYTES }));
    stages.push(counter);
    const source = (pipeline as (...s: unknown[]) => Readable)(...stages, (err: Error | null) => {
      if (err) fail(err);
    });
    parser.on('error', fail);
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    wire(fail);
    source.pipe(sink);
  });
}

/**
 * sniffCompression reads the first bytes of the bundle. CodeDeploy bundles are tar, tar.gz or zip;
 * other compressors are named in the error instead of failing as "not a tar archive".
 */
async function sniffCompression(bundlePath: string): Promise<'gzip' | 'none'> {
  const handle = await open(bundlePath, 'r');
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const magic = head.subarray(0, bytesRead);
    if (magic[0] === 0x1f && magic[1] === 0x8b) return 'gzip';
    if (magic.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) throw new Error('zstd compression is not supported');
    if (magic.subarray(0, 3).toString('latin1') === 'BZh') throw new Error('bzip2 compression is not supported');
    if (magic.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) throw new Error('xz compression is not supported');
    return 'none';
  } finally {
    await handle.close();
  }
}

/** describe turns a node-tar entry into what the bundle index judges. */
function describe(entry: ReadEntry): ArchiveEntry {
  const kind = kindOf(entry);
  return {
    rawPath: entry.path,
    kind,
    size: kind === 'file' ? entry.size : 0,
    ...(entry.linkpath === undefined ? {} : { linkTarget: entry.linkpath }),
    typeName: entry.type,
  };
}

function kindOf(entry: ReadEntry): EntryKind {
  if (entry.meta) return 'unsupported';
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return 'file';
    case 'Directory':
    case 'GNUDumpDir':
      return 'dir';
    case 'SymbolicLink':
      return 'symlink';
    case 'Link':
      return 'hardlink';
    case 'CharacterDevice':
    case 'BlockDevice':
    case 'FIFO':
      return 'device';
    default:
      return 'unsupported';
  }
}

/**
 * refuseIgnored handles entries node-tar would silently skip (unknown types, oversized extended
 * headers): the bundle is refused rather than unpacked with files missing.
 */
function refuseIgnored(entry: ReadEntry, index: BundleIndex, fail: (err: unknown) => void): void {
  try {
    index.admit({ rawPath: entry.path, kind: 'unsupported', size: 0, typeName: entry.meta ? `${entry.type} (too large)` : entry.type });
  } catch (err) {
    fail(err);
  }
  entry.resume();
}
