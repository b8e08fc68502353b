/**
 * When a replica may count itself a member, and when it renews its row: the membership loop's
 * decisions, apart from its I/O (membership.ts), on the same reasoning as a lease's
 * (lease/lease-timing.ts): the store stamps `alive_until` by its own clock at some moment after the
 * replica sent the renewal, so by the replica's monotonic clock the row is live at least until
 * sentAt + ttl; a safety margin comes off that. Other replicas reap a row only once the store's
 * clock has passed `alive_until`, so a replica stops counting itself a member before anyone may
 * close its sessions.
 */
import type { LeaseTiming, LossReasons } from '../lease/lease-timing.js';
import { judgeRenewal as judgeLeaseRenewal, leaseTiming, trustedUntil } from '../lease/lease-timing.js';
import { checkReplicaTtl } from './replica-store.js';

/** MembershipTiming is the loop's durations in milliseconds: renewals every ttl/3, retries after ttl/10. */
export type MembershipTiming = LeaseTiming;

/** membershipTiming derives the durations from the ttl; the safety margin defaults to a tenth of it. */
export function membershipTiming(ttlMs: number, safetyMs?: number): MembershipTiming {
  checkReplicaTtl(ttlMs);
  try {
    return leaseTiming(ttlMs, safetyMs);
  } catch (err) {
    throw new RangeError(`replica membership: ${(err as Error).message.replace(/^lease /, '')}`);
  }
}

/** Answer is what the store said: the row (granted), no row to renew (refused), or nothing (an error). */
export type Answer = 'granted' | 'refused' | 'error';

/** MembershipVerdict is what the loop does next. */
export type MembershipVerdict =
  /** member until `until` (the replica's clock); renew at `renewAt`. */
  | { kind: 'member'; until: number; renewAt: number }
  /** lapsed: the replica is no longer a member (others may reap it); join again. */
  | { kind: 'lapsed'; reason: string }
  /** retry the same call at `at`. */
  | { kind: 'retry'; at: number };

const ROW_LAPSE: LossReasons = {
  refused: 'its row had lapsed or was removed: the other replicas may have taken it for dead',
  noRenewal: (last) => `no renewal succeeded (last: ${last}) before its row could lapse`,
  late: (ms) => `the renewal was answered ${ms} ms after it was sent, too late to trust its row`,
};

/**
 * judgeRenewal decides on a renewal sent at `sentAt`, answered at `answeredAt`, while membership
 * was trusted until `until`, as a lease's renewal is judged: a member for longer, lapsed (the row
 * was gone or had lapsed, or the answer came too late to trust), or retried soon when the store gave
 * no answer and trust remains.
 */
export function judgeRenewal(t: MembershipTiming, r: { sentAt: number; answeredAt: number; answer: Answer; until: number; error?: string }): MembershipVerdict {
  const v = judgeLeaseRenewal(t, r, ROW_LAPSE);
  if (v.kind === 'held') return { kind: 'member', until: v.until, renewAt: v.renewAt };
  return v.kind === 'lost' ? { kind: 'lapsed', reason: v.reason } : v;
}

/** judgeJoin decides on a join: a member as after a renewal, or tried again after ttl/10 (an error, or an answer too late to trust). */
export function judgeJoin(t: MembershipTiming, r: { sentAt: number; answeredAt: number; answer: Exclude<Answer, 'refused'> }): MembershipVerdict {
  const until = trustedUntil(t, r.sentAt);
  if (r.answer === 'error' || r.answeredAt >= until) return { kind: 'retry', at: r.answeredAt + t.retryMs };
  return { kind: 'member', until, renewAt: r.sentAt + t.renewEveryMs };
}
