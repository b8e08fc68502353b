/**
 * Frees the blob files nothing references any more: overwritten and deleted objects, the parts of
 * completed, aborted and expired multipart uploads, uploads refused or broken off after their bytes
 * were stored.
 *
 * Why mark-and-sweep rather than reference counts in SQLite: the references already are rows
 * (objects, parts, deployments' bundles) with an index on the digest, so "is this blob used?" is one
 * query, and a count kept beside them could only drift from them (a deployment's JSON document
 * changes in many places). A count would still need a sweep for what no row ever named: a put whose
 * commit failed, a crash between a rename and its commit, data directories from before this
 * existed. So there is one mechanism, in two sizes:
 *
 *   consider(sha256s)  after a change that may have dropped references (the bucket store and the
 *                      blob store's releases call it): checks just those blobs, at once
 *   sweep()            every blob file against every reference, plus stale temp files: at start and
 *                      periodically (bucket-housekeeping.ts), for whatever consider never heard of
 *
 * Work runs one task at a time. Safety against concurrent writers comes from the blob store's holds
 * and its check-then-unlink without an await between (blob-store.ts), and from asking the database
 * again for each blob just before it goes.
 */
import type { Logger } from 'pino';
import type { BlobStore } from './blob-store.js';
import type { AsyncBlobReferences } from '../store/pg/pg-side-stores.js';

/** SweepReport says what one sweep found and freed. */
export interface SweepReport {
  /** blob files looked at */
  scanned: number;
  removed: number;
  /** bytes of blobs and stale temp files deleted */
  freedBytes: number;
}

/** BlobCollector is made by {@link createBlobCollector}. */
export interface BlobCollector {
  /** consider queues blobs that may have lost their last reference; they are checked soon, in order. */
  consider(sha256s: Iterable<string>): void;
  /** sweep checks every stored blob (after the queued work) and resolves with what it freed. */
  sweep(): Promise<SweepReport>;
  /** idle resolves once all queued work is done. */
  idle(): Promise<void>;
  /** close lets the running task finish and refuses new work (queued considerations are dropped). */
  close(): Promise<void>;
}

/** CollectorDeps are the collector's parts; `now` gives ms since the epoch. */
export interface CollectorDeps {
  blobs: BlobStore;
  references: AsyncBlobReferences;
  log: Logger;
  now: () => number;
  /** How old a temp file must be for a sweep to delete it (a put that long has surely died); default an hour. */
  staleTempMs?: number;
}

/** STALE_TEMP_MS is the default age past which a sweep deletes a temp file no put is writing. */
export const STALE_TEMP_MS = 3_600_000;

/** createBlobCollector makes the collector of one blob store. */
export function createBlobCollector(deps: CollectorDeps): BlobCollector {
  const { blobs, references, log } = deps;
  let tail: Promise<unknown> = Promise.resolve();
  const queued = new Set<string>();
  let drainQueued = false;
  let closed = false;

  function enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  }

  async function removeIfUnused(sha256: string): Promise<number | undefined> {
    try {
      return await blobs.remove(sha256, async () => !(await references.has(sha256)));
    } catch (err) {
      log.warn({ err, sha256 }, 'cannot remove an unreferenced blob; a later sweep tries again');
      return undefined;
    }
  }

  async function drain(): Promise<void> {
    drainQueued = false;
    const batch = [...queued];
    queued.clear();
    let freed = 0;
    let removed = 0;
    for (const sha256 of batch) {
      if (closed) return;
      const bytes = await removeIfUnused(sha256);
      if (bytes === undefined) continue;
      removed++;
      freed += bytes;
    }
    if (removed > 0) log.debug({ removed, freedBytes: freed }, 'unreferenced blobs removed');
  }

  async function sweepNow(): Promise<SweepReport> {
    const report: SweepReport = { scanned: 0, removed: 0, freedBytes: 0 };
    if (closed) return report;
    const marked = await references.all();
    for await (const sha256 of blobs.list()) {
      if (closed) break;
      report.scanned++;
      if (marked.has(sha256)) continue;
      const bytes = await removeIfUnused(sha256);
      if (bytes === undefined) continue;
      report.removed++;
      report.freedBytes += bytes;
    }
    if (!closed) report.freedBytes += await blobs.removeStaleTemps(deps.now() - (deps.staleTempMs ?? STALE_TEMP_MS));
    log.info(report, 'blob sweep done');
    return report;
  }

  return {
    consider(sha256s) {
      if (closed) return;
      for (const sha256 of sha256s) queued.add(sha256);
      if (drainQueued || queued.size === 0) return;
      drainQueued = true;
      void enqueue(drain);
    },
    sweep: () => enqueue(sweepNow),
    idle: () => enqueue(async () => undefined),
    async close() {
      closed = true;
      queued.clear();
      await tail;
    },
  };
}
