/**
 * The coordinator's look inside a stored bundle: it reads the AppSpec (at the top, or inside a single
 * wrapper folder, as the agent finds it) to learn the hooks' timeouts, so that it can fail an event
 * whose agent never reports after that long plus a margin. Nothing else of the bundle is kept.
 *
 * A bundle is uploaded by anyone with a deployer key, so the look is bounded like the agent's unpack:
 * the agent's bundle limits (entries, bytes, compression ratio) refuse a bomb, the tar walk stops at
 * the archive's end marker or as soon as a top-level appspec.yml is read, and inflation runs on
 * zlib's thread pool, one chunk per turn of the event loop, so that /healthz and the agents'
 * heartbeats are answered while a bundle is examined.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import yauzl from 'yauzl';
import { DEFAULT_TIMEOUT_SECONDS, TarReader, defaultBundleLimits, parseAppSpec } from '@fleetdeploy/shared';
import type { BundleLimits, TarHeader, TarSink } from '@fleetdeploy/shared';
import { BundleBudget } from './bundle-budget.js';

export { BundleLimitError } from './bundle-budget.js';

/** MAX_APPSPEC_BYTES bounds what is read of an AppSpec; real ones are a few kilobytes. */
const MAX_APPSPEC_BYTES = 1024 * 1024;
const APPSPEC = /^(?:[^/]+\/)?appspec\.ya?ml$/;
const READ_CHUNK_BYTES = 256 * 1024;
/** Each inflated chunk is one trip to zlib's thread pool and one turn of the event loop. */
const INFLATE_CHUNK_BYTES = 256 * 1024;

/** rank prefers a top-level appspec.yml, then appspec.yaml, then one in a wrapper folder. */
const rank = (name: string): number => (name.includes('/') ? 2 : 0) + (name.endsWith('.yaml') ? 1 : 0);

/**
 * readBundleAppSpec returns the AppSpec text of a tar, tgz or zip bundle, or undefined when it has
 * none. It throws a {@link BundleLimitError} for a bundle past `limits`, and another error for a file
 * that is not the archive it claims to be.
 */
export async function readBundleAppSpec(file: string, bundleType: 'tar' | 'tgz' | 'zip', limits: BundleLimits = defaultBundleLimits): Promise<string | undefined> {
  const bundleBytes = (await fs.promises.stat(file)).size;
  const budget = new BundleBudget(limits, bundleBytes);
  const found = bundleType === 'zip' ? await zipAppSpecs(file, budget) : await tarAppSpecs(file, budget);
  const best = [...found.entries()].sort(([a], [b]) => rank(a) - rank(b))[0];
  return best?.[1];
}

/** AppSpecScan walks a tar stream for AppSpec candidates; it is `done` once a top-level appspec.yml is read. */
class AppSpecScan implements TarSink {
  readonly found = new Map<string, string>();
  readonly reader = new TarReader(this);
  done = false;
  private current: { name: string; chunks: Buffer[] } | undefined;

  constructor(private readonly budget: BundleBudget) {}

  entry(header: TarHeader): void {
    this.budget.admit(header.size);
    const name = header.path.replace(/^\.\//, '');
    const isFile = header.type === 'File' || header.type === 'OldFile' || header.type === 'ContiguousFile';
    this.current = isFile && APPSPEC.test(name) && header.size <= MAX_APPSPEC_BYTES ? { name, chunks: [] } : undefined;
  }

  data(slice: Buffer): void {
    // The slice is a view of the inflated chunk: copied, as the chunk is not kept.
    this.current?.chunks.push(Buffer.from(slice));
  }

  endEntry(): void {
    if (this.current === undefined) return;
    this.found.set(this.current.name, Buffer.concat(this.current.chunks).toString('utf8'));
    if (rank(this.current.name) === 0) {
      this.done = true;
      this.reader.stop(); // nothing after it can matter
    }
    this.current = undefined;
  }
}

/**
 * tarAppSpecs walks a tar or tgz bundle (gzip is recognised by its magic, as the agent does) until a
 * top-level appspec.yml is read or the archive's end marker is reached, and never further.
 */
async function tarAppSpecs(file: string, budget: BundleBudget): Promise<Map<string, string>> {
  const gzip = await isGzip(file);
  const source = fs.createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
  const inflate = gzip ? zlib.createGunzip({ chunkSize: INFLATE_CHUNK_BYTES }) : undefined;
  const chunks: Readable = inflate === undefined ? source : source.on('error', (err) => inflate.destroy(err)).pipe(inflate);
  const scan = new AppSpecScan(budget);
  let expanded = 0;
  try {
    for await (const chunk of chunks as AsyncIterable<Buffer>) {
      expanded += chunk.length;
      budget.noteExpanded(expanded);
      scan.reader.push(chunk);
      if (scan.done || scan.reader.atEnd) return scan.found;
    }
    scan.reader.end();
    return scan.found;
  } finally {
    inflate?.destroy();
    source.destroy();
  }
}

async function isGzip(file: string): Promise<boolean> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * zipAppSpecs reads a zip's central directory entry by entry, judging each declared size against the
 * limits, inflates only AppSpec candidates, and stops at a top-level appspec.yml.
 */
function zipAppSpecs(file: string, budget: BundleBudget): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open zip'));
      let settled = false;
      const finish = (problem?: unknown): void => {
        if (settled) return;
        settled = true;
        zip.close();
        if (problem === undefined) resolve(found);
        else reject(problem);
      };
      zip.on('error', finish);
      zip.on('end', () => finish());
      zip.on('entry', (entry: yauzl.Entry) => {
        try {
          budget.admit(entry.uncompressedSize);
        } catch (refused) {
          return finish(refused);
        }
        if (!APPSPEC.test(entry.fileName) || entry.uncompressedSize > MAX_APPSPEC_BYTES) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return finish(e ?? new Error('cannot read zip entry'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', finish);
          stream.on('end', () => {
            found.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
            if (rank(entry.fileName) === 0) finish();
            else zip.readEntry();
          });
        });
      });
      try {
        budget.declareEntryCount(zip.entryCount);
      } catch (refused) {
        return finish(refused);
      }
      zip.readEntry();
    });
  });
}

/** EVENTS_FROM_ELSEWHERE run scripts this bundle does not decide (the previous revision's), or move the bundle itself. */
const EVENTS_FROM_ELSEWHERE = ['ApplicationStop', 'BeforeBlockTraffic', 'AfterBlockTraffic', 'DownloadBundle', 'Install'];
/** NOOP_EVENT_SECONDS is how long a hook with no scripts in this bundle may take: the agent only looks and reports. */
export const NOOP_EVENT_SECONDS = 300;

/**
 * eventTimeouts gives each lifecycle event the seconds its scripts may run: the sum of the
 * AppSpec's script timeouts for a hook of this revision, CodeDeploy's hour for events whose work
 * this bundle does not bound (ApplicationStop runs the previous revision's scripts; DownloadBundle
 * and Install move the bundle), and {@link NOOP_EVENT_SECONDS} for a hook with no scripts. An AppSpec
 * that cannot be read or parsed leaves every event the hour: the agent will report the problem.
 * Worked example: AfterInstall with scripts of 60 s and 90 s → 150; ValidateService without scripts → 300.
 */
export function eventTimeouts(appSpecText: string | undefined, events: readonly string[]): Record<string, number> {
  const timeouts: Record<string, number> = { default: DEFAULT_TIMEOUT_SECONDS };
  if (appSpecText === undefined) return timeouts;
  let hooks: Record<string, { timeout: number }[]>;
  try {
    const spec = parseAppSpec(appSpecText, { platform: 'linux' });
    if (spec.kind !== 'server') return timeouts;
    hooks = spec.hooks;
  } catch {
    return timeouts;
  }
  for (const event of events) {
    if (EVENTS_FROM_ELSEWHERE.includes(event)) continue;
    const scripts = hooks[event] ?? [];
    timeouts[event] = scripts.length === 0 ? NOOP_EVENT_SECONDS : scripts.reduce((sum, s) => sum + s.timeout, 0);
  }
  return timeouts;
}
