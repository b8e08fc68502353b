/**
 * The cached counts /metrics shows on PostgreSQL: a scrape answers at once from the last read, and
 * starts at most one read when the counts are older than their age limit.
 */
import { describe, expect, it } from 'vitest';
import type { Counts } from './cached-counts.js';
import { cachedCounts } from './cached-counts.js';

const counts = (n: number): Counts => ({ deploymentsByStatus: { Succeeded: n }, bucketBytes: n * 10, triggerDeliveriesByState: { pending: n } });

function setup() {
  let now = 0;
  const reads: Array<{ resolve(c: Counts): void; reject(e: Error): void }> = [];
  const failures: unknown[] = [];
  const cached = cachedCounts(() => new Promise<Counts>((resolve, reject) => reads.push({ resolve, reject })), { maxAgeMs: 1000, now: () => now, failed: (err) => void failures.push(err) });
  return { cached, reads, failures, advance: (ms: number) => void (now += ms) };
}

describe('cachedCounts', () => {
  it('answers with the counts of the read the start awaited, and reads no more until they are old', async () => {
    const t = setup();
    const first = t.cached.refresh();
    t.reads[0]!.resolve(counts(1));
    await first;
    expect([t.cached.deploymentsByStatus(), t.cached.bucketBytes(), t.cached.triggerDeliveriesByState()]).toEqual([{ Succeeded: 1 }, 10, { pending: 1 }]);
    t.advance(999);
    t.cached.bucketBytes();
    expect(t.reads).toHaveLength(1);
  });

  it('once they are old, a scrape answers with the old counts at once and starts one read, whose counts the next scrape sees', async () => {
    const t = setup();
    const first = t.cached.refresh();
    t.reads[0]!.resolve(counts(1));
    await first;
    t.advance(1000);
    expect(t.cached.bucketBytes()).toBe(10); // not waiting for the read it started
    expect(t.cached.deploymentsByStatus()).toEqual({ Succeeded: 1 });
    expect(t.reads).toHaveLength(2); // one read for the three getters
    t.reads[1]!.resolve(counts(2));
    await new Promise((r) => setImmediate(r));
    expect(t.cached.bucketBytes()).toBe(20);
    expect(t.reads).toHaveLength(2);
  });

  it('keeps the last counts when a read fails, reports it, and tries again only after the age limit', async () => {
    const t = setup();
    const first = t.cached.refresh();
    t.reads[0]!.resolve(counts(3));
    await first;
    t.advance(1000);
    t.cached.bucketBytes();
    t.reads[1]!.reject(new Error('connection lost'));
    await new Promise((r) => setImmediate(r));
    expect(t.failures).toEqual([new Error('connection lost')]);
    expect(t.cached.bucketBytes()).toBe(30);
    expect(t.reads).toHaveLength(2);
    t.advance(1000);
    t.cached.bucketBytes();
    expect(t.reads).toHaveLength(3);
  });
});
