/** How long a failed trigger delivery waits before its next attempt. */

/** RetryPolicy is the configured backoff: base and cap in milliseconds, and the attempts before a delivery is dead. */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

/**
 * retryDelayMs is the wait after the `attempts`-th failed attempt: base, 2×base, 4×base... capped
 * at maxMs. No jitter: a coordinator has few targets, and a target that was down gets its backlog
 * in creation order.
 */
export function retryDelayMs(attempts: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>): number {
  const exponent = Math.max(0, attempts - 1);
  // 2^exponent overflows to Infinity long after the cap applies; min() keeps the cap.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
}

/** nextAttemptAt is when a delivery that failed its `attempts`-th attempt at `now` is tried again, or undefined when it is dead. */
export function nextAttemptAt(attempts: number, now: number, policy: RetryPolicy): number | undefined {
  return attempts >= policy.maxAttempts ? undefined : now + retryDelayMs(attempts, policy);
}
