import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { operatorChoseGrowth } from './heap-growth.js';

describe('operatorChoseGrowth', () => {
  it("sees the flag in node's arguments or NODE_OPTIONS, with dashes or underscores", () => {
    expect(operatorChoseGrowth(['--heap-growing-percent=30'], undefined)).toBe(true);
    expect(operatorChoseGrowth(['--heap_growing_percent', '30'], undefined)).toBe(true);
    expect(operatorChoseGrowth([], '--max-old-space-size=2048 --heap-growing-percent=50')).toBe(true);
    expect(operatorChoseGrowth(['--cpu-prof'], '--max-old-space-size=2048')).toBe(false);
    expect(operatorChoseGrowth([], undefined)).toBe(false);
  });
});

/** peakHeapMb runs a churn beside 100 MB that stay alive in a child node (the built module: npm test builds first) and returns its peak heap (MB). */
function peakHeapMb(limit: boolean, nodeArgs: string[] = []): number {
  const script = `
    ${limit ? `const { limitHeapGrowth } = await import(${JSON.stringify(new URL('../dist/heap-growth.js', import.meta.url).href)}); limitHeapGrowth();` : ''}
    const live = []; for (let i = 0; i < 1e6; i++) live.push({ a: i, b: 'x' + i });
    let peak = 0, keep = [];
    for (let r = 0; r < 300; r++) {
      for (let i = 0; i < 20000; i++) keep.push({ i, s: 'y' + i + r });
      if (keep.length > 200000) keep = [];
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    console.log(Math.round(peak / 1048576), live.length);`;
  const out = execFileSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { encoding: 'utf8' });
  return Number(out.split(' ')[0]);
}

describe('limitHeapGrowth', () => {
  it('keeps the heap of a process that churns beside what it holds well under what V8 lets it reach by default', () => {
    const unlimited = peakHeapMb(false);
    const limited = peakHeapMb(true);
    // Allocation-driven, not timed: by default the heap grows to ~2.7x what is live before a full collection.
    expect(limited).toBeLessThan(unlimited * 0.75);
  }, 60_000);
});
