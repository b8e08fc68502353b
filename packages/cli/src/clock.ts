/**
 * The only module of the command line that reads the time or waits: everything else asks it, so a
 * reader finds every timer in one place.
 */

/** now is the wall clock in milliseconds since the epoch. */
export function now(): number {
  return Date.now();
}

/** sleep resolves after `ms` milliseconds; an aborted signal resolves it early. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * withTimeout settles as `promise` does, or rejects with `onTimeout()` after `ms` milliseconds,
 * whichever comes first.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
