/**
 * A full disk, told apart from other failures and logged once per episode. When the file system of
 * the data directory fills up, every write fails (SQLite: SQLITE_FULL; files: ENOSPC, or EDQUOT past
 * a quota) while reads go on working; nothing is wrong with the coordinator, and nothing it retries
 * will help until an operator frees space. So callers answer "storage full" (HTTP 507, not a
 * retryable 500), keep what they could not store where they can, and report here; the operator's log
 * gets one error line when the disk becomes full and one info line when a write succeeds again,
 * however many requests and engine steps failed in between.
 */
import type { Logger } from 'pino';

/**
 * DISK_FULL_MESSAGE is what a client is told when its request could not be stored: what happened,
 * that retrying now will not help, and who can fix it.
 */
export const DISK_FULL_MESSAGE = "the coordinator's disk is full, so it cannot store this request; nothing was changed. Retry once its operator has freed space in the coordinator's data directory";

const FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

/** isDiskFull tells a failure caused by a full disk (or a quota) from any other, looking through `cause`s. */
export function isDiskFull(err: unknown, depth = 0): boolean {
  if (depth > 4 || typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && FULL_CODES.has(code)) return true;
  return isDiskFull((err as { cause?: unknown }).cause, depth + 1);
}

/** DiskFullWatch is the coordinator's one view of whether its disk is full. */
export interface DiskFullWatch {
  /**
   * failed reports a failed write: true when `err` is a full disk (logged here, once per episode;
   * the caller need log nothing more than a debug line), false for any other failure, which the
   * caller handles as before.
   */
  failed(err: unknown, what: string): boolean;
  /** wrote reports a write that was stored: the end of an episode, if one was going on. */
  wrote(what: string): void;
  /** full is whether the last write reported failed for a full disk. */
  full(): boolean;
}

/** DiskFullWatchDeps: `now` in ms since the epoch (for how long the episode lasted), `dataDir` for the log. */
export interface DiskFullWatchDeps {
  log: Logger;
  now: () => number;
  dataDir?: string;
}

/** createDiskFullWatch starts with the disk taken to have space. */
export function createDiskFullWatch(deps: DiskFullWatchDeps): DiskFullWatch {
  const { log, now } = deps;
  let since: number | undefined;
  let failures = 0;
  return {
    failed(err, what) {
      if (!isDiskFull(err)) return false;
      failures += 1;
      if (since === undefined) {
        since = now();
        const e = err as { code?: string; message?: string };
        log.error({ code: e.code, detail: e.message, what, ...(deps.dataDir === undefined ? {} : { dataDir: deps.dataDir }) }, 'disk full: nothing can be stored until space is freed in the data directory');
      }
      return true;
    },
    wrote(what) {
      if (since === undefined) return;
      log.info({ what, fullForMs: now() - since, failedWrites: failures }, 'disk space is back: writes succeed again');
      since = undefined;
      failures = 0;
    },
    full: () => since !== undefined,
  };
}
