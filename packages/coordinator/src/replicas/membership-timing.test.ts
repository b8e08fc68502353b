import { describe, expect, it } from 'vitest';
import { judgeJoin, judgeRenewal, membershipTiming } from './membership-timing.js';

describe('membership timing', () => {
  const t = membershipTiming(30_000);

  it('renews every ttl/3, retries after ttl/10, and trusts a row until a tenth of the ttl before it could lapse', () => {
    expect(t).toEqual({ ttlMs: 30_000, renewEveryMs: 10_000, safetyMs: 3_000, retryMs: 3_000 });
    expect(judgeJoin(t, { sentAt: 1_000, answeredAt: 1_050, answer: 'granted' })).toEqual({ kind: 'member', until: 28_000, renewAt: 11_000 });
  });

  it('refuses a bad ttl or margin, naming it', () => {
    expect(() => membershipTiming(0)).toThrow('replica membership ttl: expected a positive whole number of milliseconds, got 0');
    expect(() => membershipTiming(30_000, 10_000)).toThrow('replica membership: safety margin: expected 0 ≤ margin < ttl/3 (10000 ms for a ttl of 30000 ms), got 10000');
  });

  it('counts a renewal from its sending: the round trip buys no time', () => {
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 19_000, answer: 'granted', until: 28_000 })).toEqual({ kind: 'member', until: 37_000, renewAt: 20_000 });
  });

  it('lapses when the row was gone or lapsed, whatever time the replica thought it had', () => {
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 10_005, answer: 'refused', until: 28_000 })).toEqual({ kind: 'lapsed', reason: 'its row had lapsed or was removed: the other replicas may have taken it for dead' });
  });

  it('lapses on a renewal answered after the time it would buy had ended', () => {
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 37_000, answer: 'granted', until: 28_000 })).toEqual({ kind: 'lapsed', reason: 'the renewal was answered 27000 ms after it was sent, too late to trust its row' });
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 36_999, answer: 'granted', until: 28_000 }).kind).toBe('member');
  });

  it('retries a renewal that got no answer while trusted, never past the trust; lapses once it ran out', () => {
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 10_100, answer: 'error', until: 28_000 })).toEqual({ kind: 'retry', at: 13_100 });
    expect(judgeRenewal(t, { sentAt: 10_000, answeredAt: 26_000, answer: 'error', until: 28_000 })).toEqual({ kind: 'retry', at: 28_000 });
    expect(judgeRenewal(t, { sentAt: 20_000, answeredAt: 28_000, answer: 'error', until: 28_000, error: 'ECONNRESET' })).toEqual({ kind: 'lapsed', reason: 'no renewal succeeded (last: ECONNRESET) before its row could lapse' });
  });

  it('retries a join that failed or was answered too late to trust', () => {
    expect(judgeJoin(t, { sentAt: 0, answeredAt: 50, answer: 'error' })).toEqual({ kind: 'retry', at: 3_050 });
    expect(judgeJoin(t, { sentAt: 0, answeredAt: 27_000, answer: 'granted' })).toEqual({ kind: 'retry', at: 30_000 });
  });
});
