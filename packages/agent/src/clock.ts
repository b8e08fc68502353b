/**
 * The agent daemon's only source of time: heartbeats, reconnect delays and download retries take a
 * Clock, so tests can drive them and nothing else in the daemon reads the wall clock.
 */

/** Clock is the wall time and the timers the daemon uses. `after` returns a function that cancels. */
export interface Clock {
  now(): number;
  after(ms: number, fn: () => void): () => void;
}

/** systemClock is the real clock: Date.now and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

/**
 * sleep waits `ms` on `clock`; an abort of `signal` ends the wait early and rejects with the
 * signal's reason. The abort listener is removed either way, so repeated sleeps leak nothing.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason as Error);
    };
    const cancel = clock.after(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * stopwatch starts a monotonic timer and returns a function that gives the milliseconds since then.
 * It reads process.hrtime: perf_hooks' `performance` would load ten of Node's internal modules at the
 * start of every `local` run just to time its events.
 */
export function stopwatch(): () => number {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e6;
}
