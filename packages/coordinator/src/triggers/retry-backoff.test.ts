import { describe, expect, it } from 'vitest';
import { nextAttemptAt, retryDelayMs } from './retry-backoff.js';

describe('trigger retry backoff', () => {
  const policy = { baseMs: 5_000, maxMs: 60_000, maxAttempts: 10 };

  it('doubles from the base after each failure, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 50, 5000].map((n) => retryDelayMs(n, policy))).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000]);
  });

  it('schedules the next attempt from now, and none after the last attempt (dead)', () => {
    expect(nextAttemptAt(1, 1_000, policy)).toBe(6_000);
    expect(nextAttemptAt(9, 1_000, policy)).toBe(61_000);
    expect(nextAttemptAt(10, 1_000, policy)).toBeUndefined();
    expect(nextAttemptAt(1, 0, { ...policy, maxAttempts: 1 })).toBeUndefined();
  });
});
