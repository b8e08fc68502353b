/**
 * The revision bucket's periodic chores: abort multipart uploads abandoned for longer than
 * `bucket_upload_expiry_seconds` (24 h by default, as MinIO's stale-upload expiry; S3 leaves this to
 * a lifecycle rule, AbortIncompleteMultipartUpload, which this bucket does not implement), then sweep
 * the blob store for anything unreferenced. It runs once at start (what a previous process left)
 * and then every quarter of the expiry, at most hourly, so an upload is gone within 1¼ expiries.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import type { AsyncBucketStore } from '../store/pg/pg-bucket-store.js';
import type { BlobCollector, SweepReport } from './blob-collector.js';

/** HousekeepingDeps are what the chores need; `expirySeconds` is how long an upload may stay unfinished. */
export interface HousekeepingDeps {
  buckets: Pick<AsyncBucketStore, 'expireUploads'>;
  collector: BlobCollector;
  clock: Clock;
  expirySeconds: number;
  log: Logger;
}

/** BucketHousekeeping is made by {@link startBucketHousekeeping}. */
export interface BucketHousekeeping {
  /** runOnce expires abandoned uploads and sweeps now; resolves with the sweep's report. */
  runOnce(): Promise<SweepReport & { expiredUploads: number }>;
  /** idle resolves when no run is in progress. */
  idle(): Promise<void>;
  /** stop cancels the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/** housekeepingIntervalMs is how often the chores run for an expiry: a quarter of it, between 1 s and an hour. */
export function housekeepingIntervalMs(expirySeconds: number): number {
  return Math.min(3_600_000, Math.max(1000, (expirySeconds * 1000) / 4));
}

/** startBucketHousekeeping runs the chores at once and then on a timer. */
export function startBucketHousekeeping(deps: HousekeepingDeps): BucketHousekeeping {
  const { buckets, collector, clock, log } = deps;
  let timer: Timer | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function runOnce(): Promise<SweepReport & { expiredUploads: number }> {
    const expired = await buckets.expireUploads(clock.now() - deps.expirySeconds * 1000);
    for (const u of expired) {
      log.info({ bucket: u.bucket, key: u.key, uploadId: u.uploadId, initiated: new Date(u.initiated).toISOString() }, 'abandoned multipart upload expired');
    }
    const report = await collector.sweep();
    return { ...report, expiredUploads: expired.length };
  }

  // Fixed rate: the next run is due an interval after this one began; a run still going when it is
  // due (a sweep of a huge folder) makes that turn skip rather than overlap.
  let busy = false;
  function tick(): void {
    if (stopped) return;
    timer = clock.setTimeout(tick, housekeepingIntervalMs(deps.expirySeconds));
    if (busy) return;
    busy = true;
    running = runOnce()
      .catch((err: unknown) => log.error({ err }, 'bucket housekeeping failed; trying again at the next interval'))
      .finally(() => (busy = false));
  }
  tick();

  return {
    runOnce,
    idle: () => running.then(() => undefined),
    async stop() {
      stopped = true;
      timer?.cancel();
      await running;
    },
  };
}
