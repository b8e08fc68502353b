/**
 * The Leaser is what a replica runs to hold its leases: it acquires the leases it is asked to
 * claim, renews each every ttl/3, reports a lease lost as soon as a renewal is refused or its
 * answer comes too late to be trusted (lease-timing.ts: before the store could hand it to another),
 * and keeps trying the leases it claimed but does not hold, so that it takes over a lease another
 * replica let expire. A store that gives no answer (an error) is tried again while the lease is
 * still trusted; the lease is lost when trust runs out without a renewal.
 *
 * Time is a monotonic clock by default: a wall clock set back or forward must not stretch a tenure.
 */
import type { Clock, Timer } from '../clock.js';
import { systemClock } from '../clock.js';
import type { LeaseStore } from './lease-store.js';
import type { Answer, LeaseTiming, Verdict } from './lease-timing.js';
import { judgeAcquire, judgeRenewal, leaseTiming } from './lease-timing.js';

/** monotonicClock counts from the process's time origin with the monotonic clock Node's timers use. */
export const monotonicClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: systemClock.setTimeout,
};

/** HeldLease is a lease the Leaser holds: its tenure's generation, trusted until `trustedUntil` (the Leaser's clock). */
export interface HeldLease {
  name: string;
  generation: number;
  trustedUntil: number;
}

/** LeaserOptions: whose leases, how long, and what to tell the replica. */
export interface LeaserOptions {
  leases: LeaseStore;
  /** owner is this replica's id, unique to the process (a restarted replica is a new owner). */
  owner: string;
  ttlMs: number;
  /** safetyMs is taken off each tenure (default ttl/10, below ttl/3). */
  safetyMs?: number;
  clock?: Clock;
  /** onAcquired: the lease is this replica's, at a new generation (or the same one, taken back before it expired). */
  onAcquired?(lease: HeldLease): void;
  /** onRenewed: the lease was renewed and is trusted for longer. */
  onRenewed?(lease: HeldLease): void;
  /** onLost: stop the work done under `generation` now; the Leaser keeps trying to take the lease back. */
  onLost?(name: string, generation: number, reason: string): void;
  /** onError: a store call failed (logged by the replica; the Leaser retries on its own). */
  onError?(name: string, err: unknown): void;
}

/** Leaser holds a set of leases for one replica. */
export interface Leaser {
  /** claim wants the lease `name`: taken now if free, else whenever the holder lets it expire. */
  claim(name: string): void;
  /** release stops wanting `name` and gives the lease up at once if held (no onLost). */
  release(name: string): Promise<void>;
  /** held is every lease currently trusted, by name. */
  held(): HeldLease[];
  /** holds tells whether the tenure `generation` of `name` is held and trusted now. */
  holds(name: string, generation: number): boolean;
  /** stop releases every lease and claims nothing more. */
  stop(): Promise<void>;
}

interface Entry {
  name: string;
  held?: { generation: number; until: number };
  /** busy: a store call is in flight; what comes next is decided on its answer. */
  busy: boolean;
  /** next: the timer of the next renewal or acquisition attempt. */
  next?: Timer;
  /** deadline fires when trust in the held tenure runs out. */
  deadline?: Timer;
  /** released: answers arriving later are undone. */
  released: boolean;
  /** lastError is why the renewals since the last success got no answer, for the loss's reason. */
  lastError?: string;
}

/** createLeaser starts a Leaser holding nothing; claim leases to hold them. */
export function createLeaser(options: LeaserOptions): Leaser {
  const { leases, owner } = options;
  const clock = options.clock ?? monotonicClock;
  const t: LeaseTiming = leaseTiming(options.ttlMs, options.safetyMs);
  const entries = new Map<string, Entry>();
  let stopped = false;

  const call = async <T>(e: Entry, fn: () => Promise<T>): Promise<{ answer: Answer; value?: T; error?: string; sentAt: number }> => {
    const sentAt = clock.now();
    e.busy = true;
    try {
      const value = await fn();
      return { answer: value === undefined ? 'refused' : 'granted', value, sentAt };
    } catch (err) {
      options.onError?.(e.name, err);
      return { answer: 'error', error: err instanceof Error ? err.message : String(err), sentAt };
    } finally {
      e.busy = false;
    }
  };

  const schedule = (e: Entry, at: number, step: (e: Entry) => void): void => {
    e.next?.cancel();
    e.next = clock.setTimeout(() => {
      e.next = undefined;
      step(e);
    }, at - clock.now());
  };

  const heldLease = (e: Entry): HeldLease => ({ name: e.name, generation: e.held!.generation, trustedUntil: e.held!.until });

  const hold = (e: Entry, generation: number, v: Extract<Verdict, { kind: 'held' }>): void => {
    e.held = { generation, until: v.until };
    e.deadline?.cancel();
    e.lastError = undefined;
    e.deadline = clock.setTimeout(() => {
      const why = e.lastError === undefined ? 'not renewed' : `no renewal succeeded (last: ${e.lastError})`;
      lose(e, `${why} before the lease could no longer be trusted`);
    }, v.until - clock.now());
    schedule(e, v.renewAt, renew);
  };

  const lose = (e: Entry, reason: string): void => {
    if (e.held === undefined) return;
    const generation = e.held.generation;
    e.held = undefined;
    e.deadline?.cancel();
    e.deadline = undefined;
    options.onLost?.(e.name, generation, reason);
    // Take it back when it is free again (its holder lets it expire, or it was only our renewal that came late).
    schedule(e, clock.now() + t.renewEveryMs, acquire);
  };

  const acquire = (e: Entry): void => {
    if (e.released || e.held !== undefined) return;
    if (e.busy) return schedule(e, clock.now() + t.retryMs, acquire);
    void call(e, () => leases.acquire(e.name, owner, t.ttlMs)).then((r) => {
      if (e.released) {
        // Released while the acquisition was on its way: give back what it got.
        if (r.value !== undefined) void leases.release(e.name, owner, r.value.generation).catch((err: unknown) => options.onError?.(e.name, err));
        return;
      }
      const v = judgeAcquire(t, { sentAt: r.sentAt, answeredAt: clock.now(), answer: r.answer });
      if (v.kind === 'held') {
        hold(e, r.value!.generation, v);
        options.onAcquired?.(heldLease(e));
      } else if (v.kind === 'retry') schedule(e, v.at, acquire);
    });
  };

  const renew = (e: Entry): void => {
    if (e.released || e.held === undefined) return;
    if (e.busy) return schedule(e, clock.now() + t.retryMs, renew);
    const { generation } = e.held;
    void call(e, () => leases.renew(e.name, owner, generation, t.ttlMs)).then((r) => {
      // Released, or lost to the deadline while the renewal was on its way: its answer decides nothing.
      if (e.released || e.held?.generation !== generation) return;
      const v = judgeRenewal(t, { sentAt: r.sentAt, answeredAt: clock.now(), answer: r.answer, until: e.held.until, error: r.error });
      if (v.kind === 'lost') lose(e, v.reason);
      else if (v.kind === 'retry') {
        e.lastError = r.error;
        schedule(e, v.at, renew);
      } else {
        hold(e, generation, v);
        options.onRenewed?.(heldLease(e));
      }
    });
  };

  const release = async (name: string): Promise<void> => {
    const e = entries.get(name);
    if (e === undefined) return;
    entries.delete(name);
    e.released = true;
    e.next?.cancel();
    e.deadline?.cancel();
    const held = e.held;
    e.held = undefined;
    if (held === undefined) return;
    try {
      await leases.release(name, owner, held.generation);
    } catch (err) {
      options.onError?.(name, err); // it lapses at its expiry instead
    }
  };

  return {
    claim(name) {
      if (stopped) throw new Error(`lease ${name}: the Leaser of ${owner} is stopped`);
      if (entries.has(name)) return;
      const e: Entry = { name, busy: false, released: false };
      entries.set(name, e);
      acquire(e);
    },
    release,
    // Trust is checked against the clock too: a deadline timer may fire late on a busy event loop.
    held: () =>
      [...entries.values()]
        .filter((e) => e.held !== undefined && clock.now() < e.held.until)
        .map(heldLease)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    holds: (name, generation) => {
      const held = entries.get(name)?.held;
      return held?.generation === generation && clock.now() < held.until;
    },
    async stop() {
      stopped = true;
      await Promise.all([...entries.keys()].map(release));
    },
  };
}
