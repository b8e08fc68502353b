/**
 * The agent server's writes to the agent session store, one after another in the order they were
 * made. On SQLite each write ran at once anyway; on PostgreSQL two writes in flight together may
 * run on two connections in either order, and an agent that connects and drops at once would be
 * left "connected" by its start landing after its end. A failed write is handed to `failed` (the
 * session record only informs, so the stream goes on) and the writes after it still run.
 */
import type { Logger } from 'pino';
import type { DiskFullWatch } from '../store/disk-full.js';

/** OrderedWrites queues writes; see {@link createOrderedWrites}. */
export interface OrderedWrites {
  /** write queues `fn` after every write queued before it; `what` names it for `failed`. */
  write(what: string, fn: () => Promise<unknown>): void;
  /** settled resolves once every write queued so far has finished (a failed one included). */
  settled(): Promise<void>;
}

/** createOrderedWrites makes the queue; `failed` hears each write that rejected. */
export function createOrderedWrites(failed: (err: unknown, what: string) => void): OrderedWrites {
  let tail: Promise<void> = Promise.resolve();
  return {
    write(what, fn) {
      tail = tail.then(fn).then(
        () => undefined,
        (err: unknown) => failed(err, what),
      );
    },
    settled: () => tail,
  };
}

/**
 * skippedOnFailure is the `failed` of writes that only inform (the agent sessions): one that failed
 * for a full disk is reported by `disk` (once per episode), any other is logged at error; either way
 * the write is skipped and its caller goes on.
 */
export function skippedOnFailure(disk: Pick<DiskFullWatch, 'failed'>, log: Logger): (err: unknown, what: string) => void {
  return (err, what) => {
    if (!disk.failed(err, what)) log.error({ err }, `${what}: the agent session record was not written`);
  };
}
