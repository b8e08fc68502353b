/**
 * zip bundles, read with yauzl's random-access reader. The central directory lists every name and
 * declared size up front, so the scan reads no file data (only symbolic-link texts, a few bytes
 * each); extraction reads the entries in order (small ones whole, large ones as a stream) and
 * checks the data against what was declared, because declared sizes can lie.
 */
import { join } from 'node:path';
import { Transform, pipeline } from 'node:stream';
import { crc32, inflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import type { PendingAttributes } from './attributes.js';
import type { ArchiveEntry, BundleIndex } from './bundle-index.js';
import { MAX_PATH_BYTES } from './entry-guard.js';
import { entryRefusal, extractionError, invalidArchiveError } from './errors.js';
import { SMALL_FILE_BYTES, TreeWriter } from './tree-writer.js';
import { classifyZipEntry } from './zip-entry.js';
import type { ZipEntryShape } from './zip-entry.js';

/**
 * scanZip reads the central directory of a zip bundle into `index`, which refuses the bundle on the
 * first bad entry or exceeded limit. Nothing is written.
 */
export async function scanZip(bundlePath: string, label: string, index: BundleIndex): Promise<void> {
  try {
    await withZip(bundlePath, async (zip) => {
      index.declareEntryCount(zip.entryCount);
      for await (const entry of zip.eachEntry()) await admit(zip, entry, index, label);
    });
  } catch (err) {
    throw invalidArchiveError(err, label, 'zip');
  }
}

/**
 * extractZip writes a bundle that {@link scanZip} accepted into the existing folder `targetDir`, in
 * archive order. Each entry passes `index` again first, so a bundle changed since the scan is
 * stopped before the changed entry is written. Symbolic links are left to the caller (created
 * last); folder modes and times, and link times, are left in `attrs` for the end.
 */
export async function extractZip(
  bundlePath: string,
  label: string,
  targetDir: string,
  index: BundleIndex,
  attrs: PendingAttributes,
): Promise<void> {
  const writer = new TreeWriter(targetDir);
  try {
    await withZip(bundlePath, async (zip) => {
      index.declareEntryCount(zip.entryCount);
      for await (const entry of zip.eachEntry()) {
        const { name, shape, segments } = await admit(zip, entry, index, label);
        const abs = join(targetDir, ...segments);
        if (shape.kind === 'dir') {
          writer.dir(segments);
          attrs.dir(abs, shape.mode, entry.getLastModDate(), segments.length);
        } else if (shape.kind === 'symlink') {
          attrs.link(abs, entry.getLastModDate());
        } else if (shape.kind === 'file') {
          await writeEntry(zip, entry, name, writer, segments, shape.mode, label);
        }
      }
    });
  } catch (err) {
    throw extractionError(err, label);
  }
}

interface Admitted {
  name: string;
  shape: ZipEntryShape;
  segments: string[];
}

/** admit describes one central-directory record to the index (reading a link's text if needed). */
async function admit(zip: ZipFile, entry: Entry, index: BundleIndex, label: string): Promise<Admitted> {
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
  const described: ArchiveEntry = {
    rawPath: name,
    kind: shape.kind,
    size: shape.kind === 'file' ? entry.uncompressedSize : 0,
    typeName: shape.typeName,
  };
  if (shape.kind === 'symlink') described.linkTarget = await readLinkText(zip, entry, name, label);
  return { name, shape, segments: index.admit(described) };
}

/**
 * readLinkText reads a symbolic link's target, stored as the entry's content. The size is checked
 * before reading so a "link" cannot be used to make the scan inflate a large entry.
 */
async function readLinkText(zip: ZipFile, entry: Entry, name: string, label: string): Promise<string> {
  if (entry.uncompressedSize >= MAX_PATH_BYTES) {
    throw entryRefusal(name, `symbolic link target is longer than ${MAX_PATH_BYTES - 1} bytes`);
  }
  return (await readSmallEntry(zip, entry, name, label)).toString('utf8');
}

/**
 * writeEntry hands one file entry to the writer. Small entries are read and inflated in one piece:
 * a zlib stream per entry (what yauzl's read streams use) was measured at 130 MB peak RSS on a
 * 2,000-file zip against 70 MB this way. Large entries are streamed, their size checked as the data
 * comes. Data beyond the declared size is refused (the index counted declared sizes against the
 * limits); short data and CRC-32 mismatches mean a corrupt archive. A failure leaves a partial file;
 * the caller removes the whole target folder.
 */
async function writeEntry(zip: ZipFile, entry: Entry, name: string, writer: TreeWriter, segments: string[], mode: number, label: string): Promise<void> {
  const meta = { mode, mtime: entry.getLastModDate() };
  const declared = entry.uncompressedSize;
  try {
    if (declared <= SMALL_FILE_BYTES && entry.compressedSize <= SMALL_FILE_BYTES) {
      const data = await readSmallEntry(zip, entry, name, label);
      await writer.file(segments, [data], meta, data.length);
      return;
    }
    let written = 0;
    let crc = 0;
    const guard = new Transform({
      transform(chunk: Buffer, _enc, done) {
        written += chunk.length;
        if (written > declared) return done(tooLarge(name, declared));
        crc = crc32(chunk, crc);
        done(null, chunk);
      },
    });
    const source = await zip.openReadStreamPromise(entry);
    // pipeline() passes a source error on to `guard`, where the writer's read loop sees it.
    const checked = pipeline(source, guard, () => undefined);
    await writer.file(segments, checked, meta, declared);
    checkData(entry, name, label, written, crc);
  } catch (err) {
    throw zlibAsArchiveError(err, name, label);
  }
}

/** readSmallEntry reads one entry's raw data and inflates it in one call, capped at its declared size. */
async function readSmallEntry(zip: ZipFile, entry: Entry, name: string, label: string): Promise<Buffer> {
  const declared = entry.uncompressedSize;
  const chunks: Buffer[] = [];
  for await (const chunk of await zip.openReadStreamPromise(entry, { decodeFileData: false })) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  let data: Buffer = raw;
  if (entry.compressionMethod === 8) {
    try {
      data = await new Promise<Buffer>((resolve, reject) => {
        inflateRaw(raw, { maxOutputLength: declared + 1 }, (err, out) => (err ? reject(err) : resolve(out)));
      });
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(name, declared);
      throw zlibAsArchiveError(err, name, label);
    }
  }
  if (data.length > declared) throw tooLarge(name, declared);
  checkData(entry, name, label, data.length, crc32(data));
  return data;
}

function tooLarge(name: string, declared: number): Error {
  return entryRefusal(name, `data is larger than its declared size of ${declared} bytes`);
}

function checkData(entry: Entry, name: string, label: string, length: number, crc: number): void {
  if (length < entry.uncompressedSize) {
    throw invalidArchiveError(new Error(`entry ${JSON.stringify(name)} has ${length} bytes, ${entry.uncompressedSize} declared`), label, 'zip');
  }
  if (crc !== entry.crc32) {
    throw invalidArchiveError(new Error(`entry ${JSON.stringify(name)} does not match its CRC-32`), label, 'zip');
  }
}

/** zlibAsArchiveError reports inflate failures (zlib codes Z_*) as a corrupt archive. */
function zlibAsArchiveError(err: unknown, name: string, label: string): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return invalidArchiveError(new Error(`entry ${JSON.stringify(name)}: ${(err as Error).message}`), label, 'zip');
  }
  return err;
}

/** withZip opens the bundle for lazy, random-access reading and always closes it. */
async function withZip(bundlePath: string, use: (zip: ZipFile) => Promise<void>): Promise<void> {
  const zip = await yauzl.openPromise(bundlePath, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false });
  try {
    await use(zip);
  } finally {
    zip.close();
  }
}
