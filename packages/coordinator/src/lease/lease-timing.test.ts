import { describe, expect, it } from 'vitest';
import { judgeAcquire, judgeRenewal, leaseTiming, trustedUntil } from './lease-timing.js';

describe('lease timing', () => {
  const t = leaseTiming(30_000);

  it('renews every ttl/3 and takes a tenth of the ttl off each tenure by default', () => {
    expect(t).toEqual({ ttlMs: 30_000, renewEveryMs: 10_000, safetyMs: 3_000, retryMs: 3_000 });
    expect(trustedUntil(t, 1_000)).toBe(28_000);
  });

  it('refuses a margin that leaves no room for a second renewal, and a bad ttl, naming them', () => {
    expect(() => leaseTiming(30_000, 10_000)).toThrow('lease safety margin: expected 0 ≤ margin < ttl/3 (10000 ms for a ttl of 30000 ms), got 10000');
    expect(() => leaseTiming(30_000, -1)).toThrow(/got -1$/);
    expect(() => leaseTiming(0)).toThrow('lease ttl: expected a positive whole number of milliseconds, got 0');
    expect(leaseTiming(30_000, 0).safetyMs).toBe(0);
  });

  it('counts a renewal\'s tenure from its sending, not its answer: the round trip buys no time', () => {
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 19_000, answer: 'granted', until: 28_000 })).toEqual({ kind: 'held', until: 37_000, renewAt: 20_000 });
  });

  it('loses the lease on a refused renewal, whatever time is left', () => {
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 10_005, answer: 'refused', until: 28_000 })).toEqual({ kind: 'lost', reason: 'the renewal was refused: the lease had expired or another owner had taken it' });
  });

  it('loses the lease on a renewal answered after the tenure it would buy has ended', () => {
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 37_000, answer: 'granted', until: 28_000 })).toEqual({ kind: 'lost', reason: 'the renewal was answered 27000 ms after it was sent, too late to trust the lease' });
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 36_999, answer: 'granted', until: 28_000 }).kind).toBe('held');
  });

  it('retries a renewal that got no answer while the lease is trusted, never past its end', () => {
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 10_100, answer: 'error', until: 28_000 })).toEqual({ kind: 'retry', at: 13_100 });
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 27_000, answer: 'error', until: 28_000 })).toEqual({ kind: 'retry', at: 28_000 });
    expect(judgeRenewal(t, { sentAt: 20_000, answeredAt: 28_000, answer: 'error', until: 28_000, error: 'ECONNRESET' })).toEqual({ kind: 'lost', reason: 'no renewal succeeded (last: ECONNRESET) before the lease could no longer be trusted' });
  });

  it('holds an acquired lease like a renewed one, and tries again ttl/3 later when refused, failed or answered too late', () => {
    expect(judgeAcquire(t, { sentAt: 0, answeredAt: 50, answer: 'granted' })).toEqual({ kind: 'held', until: 27_000, renewAt: 10_000 });
    expect(judgeAcquire(t, { sentAt: 0, answeredAt: 50, answer: 'refused' })).toEqual({ kind: 'retry', at: 10_050 });
    expect(judgeAcquire(t, { sentAt: 0, answeredAt: 50, answer: 'error' })).toEqual({ kind: 'retry', at: 10_050 });
    expect(judgeAcquire(t, { sentAt: 0, answeredAt: 27_000, answer: 'granted' })).toEqual({ kind: 'retry', at: 37_000 });
  });
});
