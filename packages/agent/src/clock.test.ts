import { describe, expect, it } from 'vitest';
import { stopwatch } from './clock.js';

describe('stopwatch', () => {
  it('gives the milliseconds since it started, never going back', async () => {
    const elapsed = stopwatch();
    const first = elapsed();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const second = elapsed();
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first).toBeLessThan(30);
    // Node may fire a timer up to a millisecond early; a wrong unit (ns, s) would miss by 1,000×.
    expect(second).toBeGreaterThanOrEqual(29);
    expect(second).toBeLessThan(5_000);
    expect(elapsed()).toBeGreaterThanOrEqual(second);
  });
});
