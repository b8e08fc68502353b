/**
 * Bounds how fast one client address may guess secrets at the console's sign-in: after `maxFailures`
 * failed sign-ins within `windowMs`, that address is refused (HTTP 429) until the oldest failure in
 * the window is `windowMs` old. A success does not reset the count: a guesser holding one valid key
 * gains nothing. Memory is bounded by dropping the oldest address when `maxAddresses` are tracked.
 */

/** LoginLimiter counts failed sign-ins per address. */
export interface LoginLimiter {
  /** retryAfterMs is 0 when `address` may try now, else how long until it may. */
  retryAfterMs(address: string): number;
  /** failed records a failed sign-in from `address`. */
  failed(address: string): void;
}

export interface LoginLimiterOptions {
  now: () => number;
  maxFailures: number;
  windowMs: number;
  maxAddresses?: number;
}

/** createLoginLimiter makes a limiter holding each address's failure times within the window. */
export function createLoginLimiter(opts: LoginLimiterOptions): LoginLimiter {
  const failures = new Map<string, number[]>();
  const maxAddresses = opts.maxAddresses ?? 10_000;
  const recent = (address: string): number[] => {
    const since = opts.now() - opts.windowMs;
    const times = (failures.get(address) ?? []).filter((t) => t > since);
    if (times.length === 0) failures.delete(address);
    else failures.set(address, times);
    return times;
  };
  return {
    retryAfterMs(address) {
      const times = recent(address);
      if (times.length < opts.maxFailures) return 0;
      return Math.max(1, times[times.length - opts.maxFailures]! + opts.windowMs - opts.now());
    },
    failed(address) {
      const times = recent(address);
      times.push(opts.now());
      failures.delete(address); // re-insert: the Map's order is then least recently failed first
      failures.set(address, times);
      while (failures.size > maxAddresses) failures.delete(failures.keys().next().value!);
    },
  };
}
