/**
 * The counts /metrics shows, read from a database a scrape should not wait for (PostgreSQL): the
 * getters answer at once with the counts last read, and a getter asked once they are older than
 * `maxAgeMs` starts one read in the background. So a scrape costs nothing on the database's side
 * beyond one read per `maxAgeMs`, however often it comes, and its numbers are at most that old
 * (plus one read) behind. SQLite's counts (metrics-sources.ts) are read at the scrape instead.
 */
import type { MetricsSources } from './coordinator-metrics.js';

/** Counts are the values of the count getters, read together. */
export interface Counts {
  deploymentsByStatus: Record<string, number>;
  bucketBytes: number;
  triggerDeliveriesByState: Record<string, number>;
}

/** CountSources are the count getters of {@link MetricsSources}. */
export type CountSources = Required<Pick<MetricsSources, 'deploymentsByStatus' | 'bucketBytes' | 'triggerDeliveriesByState'>>;

/** CachedCounts are count getters over cached counts; `refresh` reads them now (the start awaits one). */
export interface CachedCounts extends CountSources {
  refresh(): Promise<void>;
}

/** CachedCountsOptions: how old the counts may be, the clock (ms), and where a failed read is reported. */
export interface CachedCountsOptions {
  maxAgeMs: number;
  now: () => number;
  failed: (err: unknown) => void;
}

/** cachedCounts keeps the counts `read` gives, read again when asked for after `maxAgeMs`. */
export function cachedCounts(read: () => Promise<Counts>, options: CachedCountsOptions): CachedCounts {
  let counts: Counts = { deploymentsByStatus: {}, bucketBytes: 0, triggerDeliveriesByState: {} };
  let readAt: number | undefined;
  let reading: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    reading ??= read().then(
      (fresh) => {
        counts = fresh;
        readAt = options.now();
      },
      (err: unknown) => {
        // Tried again at the next scrape after maxAgeMs; the last counts stay meanwhile.
        readAt = options.now();
        options.failed(err);
      },
    ).finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const current = (): Counts => {
    if (readAt === undefined || options.now() - readAt >= options.maxAgeMs) void refresh();
    return counts;
  };
  return {
    refresh,
    deploymentsByStatus: () => current().deploymentsByStatus,
    bucketBytes: () => current().bucketBytes,
    triggerDeliveriesByState: () => current().triggerDeliveriesByState,
  };
}
