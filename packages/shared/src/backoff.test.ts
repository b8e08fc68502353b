import { describe, expect, it } from 'vitest';
import { nextDelay } from './backoff.js';

describe('nextDelay', () => {
  it('grows the ceiling exponentially up to the maximum', () => {
    expect(nextDelay(0, 0.999999)).toBe(499);
    expect(nextDelay(3, 0.999999)).toBe(3999);
    expect(nextDelay(6, 0.999999)).toBe(29_999);
    expect(nextDelay(1000, 0.5)).toBe(15_000);
  });
  it('spreads delays over the whole window with the random share', () => {
    expect(nextDelay(4, 0)).toBe(0);
    expect(nextDelay(4, 0.25)).toBe(2000);
    expect(nextDelay(-1, 0.5, { baseMs: 100, maxMs: 1000 })).toBe(50);
  });
});
