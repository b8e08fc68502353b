/**
 * Reconnect delays with full jitter: after a coordinator restart, a thousand agents spread their
 * reconnects over the whole window instead of arriving together. Pure; the caller supplies the
 * random number, so tests are exact.
 */

/** BackoffOptions bounds the delays, in milliseconds. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** defaultBackoff starts around half a second and never waits more than 30 s. */
export const defaultBackoff: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * nextDelay is the wait before reconnect attempt `attempt` (0 for the first retry): a uniformly
 * random share of min(max, base·2^attempt). Worked example with the defaults: attempt 0 waits up
 * to 0.5 s, attempt 3 up to 4 s, attempt 6 and later up to 30 s.
 */
export function nextDelay(attempt: number, random: number, opts: BackoffOptions = defaultBackoff): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.floor(Math.min(Math.max(random, 0), 0.999999) * ceiling);
}
