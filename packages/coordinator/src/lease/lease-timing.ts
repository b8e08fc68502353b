/**
 * When a replica may trust a lease, and when it renews it: the Leaser's decisions, apart from its
 * I/O so that they can be checked one by one.
 *
 * The store judges expiry by its own clock (the database server's), which a replica cannot read.
 * What the replica knows is when it sent a renewal, by its own monotonic clock: the store stamped
 * the new expiry at some moment after that, so the lease is the replica's at least until
 * sentAt + ttl. Counting from the send, not the answer, accounts for the round trip (however long
 * the answer took, it bought no time). A safety margin is taken off for what the two clocks' rates
 * may differ by and for a timer that fires late. An answer arriving after that moment is too late to
 * trust: the store may be handing the lease to another replica already.
 */
import { checkTtl } from './lease-store.js';

/** LeaseTiming is a Leaser's durations, in milliseconds. */
export interface LeaseTiming {
  ttlMs: number;
  /** renewEveryMs is ttl/3: two more renewals may fail or come late before trust runs out. */
  renewEveryMs: number;
  /** safetyMs is taken off each tenure's end. */
  safetyMs: number;
  /** retryMs is how soon a renewal that got no answer (an error) is tried again. */
  retryMs: number;
}

/** leaseTiming derives the durations from the ttl; safety defaults to a tenth of it. */
export function leaseTiming(ttlMs: number, safetyMs = Math.ceil(ttlMs / 10)): LeaseTiming {
  checkTtl(ttlMs);
  const renewEveryMs = Math.floor(ttlMs / 3);
  // The margin must leave room for at least one renewal after the one that failed.
  if (!(safetyMs >= 0 && safetyMs < ttlMs - 2 * renewEveryMs)) {
    throw new RangeError(`lease safety margin: expected 0 ≤ margin < ttl/3 (${ttlMs - 2 * renewEveryMs} ms for a ttl of ${ttlMs} ms), got ${safetyMs}`);
  }
  return { ttlMs, renewEveryMs, safetyMs, retryMs: Math.max(1, Math.floor(ttlMs / 10)) };
}

/** trustedUntil is the end of the tenure a renewal or acquisition sent at `sentAt` bought, by the replica's clock. */
export function trustedUntil(t: LeaseTiming, sentAt: number): number {
  return sentAt + t.ttlMs - t.safetyMs;
}

/** Answer is what the store said to an acquire or renew: a lease, no (held by another, or over), or nothing (an error). */
export type Answer = 'granted' | 'refused' | 'error';

/** Verdict is what the Leaser does next with a lease. */
export type Verdict =
  | { kind: 'held'; until: number; renewAt: number }
  | { kind: 'lost'; reason: string }
  | { kind: 'retry'; at: number };

/** LossReasons word judgeRenewal's reasons for a loss, in terms of what was renewed (a lease, a replica's row). */
export interface LossReasons {
  refused: string;
  noRenewal(lastError: string): string;
  late(afterMs: number): string;
}

const LEASE_LOSS: LossReasons = {
  refused: 'the renewal was refused: the lease had expired or another owner had taken it',
  noRenewal: (last) => `no renewal succeeded (last: ${last}) before the lease could no longer be trusted`,
  late: (ms) => `the renewal was answered ${ms} ms after it was sent, too late to trust the lease`,
};

/**
 * judgeRenewal decides on a renewal sent at `sentAt` and answered at `answeredAt` while the lease was
 * trusted until `until`: held (until the new tenure's end, renewed again ttl/3 after this send),
 * lost, or retried soon when the store gave no answer and the lease is still trusted.
 */
export function judgeRenewal(t: LeaseTiming, r: { sentAt: number; answeredAt: number; answer: Answer; until: number; error?: string }, reasons: LossReasons = LEASE_LOSS): Verdict {
  if (r.answer === 'refused') return { kind: 'lost', reason: reasons.refused };
  if (r.answer === 'error') {
    if (r.answeredAt >= r.until) return { kind: 'lost', reason: reasons.noRenewal(r.error ?? 'an error') };
    return { kind: 'retry', at: Math.min(r.answeredAt + t.retryMs, r.until) };
  }
  const until = trustedUntil(t, r.sentAt);
  if (r.answeredAt >= until) return { kind: 'lost', reason: reasons.late(r.answeredAt - r.sentAt) };
  return { kind: 'held', until, renewAt: r.sentAt + t.renewEveryMs };
}

/**
 * judgeAcquire decides on an acquisition: held as for a renewal, or tried again ttl/3 later (another
 * owner holds it, the store gave no answer, or the answer came too late to trust).
 */
export function judgeAcquire(t: LeaseTiming, r: { sentAt: number; answeredAt: number; answer: Answer }): Verdict {
  const until = trustedUntil(t, r.sentAt);
  if (r.answer !== 'granted' || r.answeredAt >= until) return { kind: 'retry', at: r.answeredAt + t.renewEveryMs };
  return { kind: 'held', until, renewAt: r.sentAt + t.renewEveryMs };
}
