/**
 * A replica's membership: it joins by writing its row (replica-store.ts), renews it every ttl/3,
 * and leaves by deleting it when it stops. After each successful join or renewal it looks at the
 * others: it keeps the list of live replicas (for /healthz and the metrics) and reaps the dead
 * ones, closing the agent sessions they held, with one log line per replica reaped (the store
 * makes sure each is reaped by one replica only).
 *
 * Only a member reaps: a replica that has lost touch with the database, or whose own row lapsed,
 * is in no position to judge the others. A replica whose row lapsed (the renewal came back refused
 * or too late, or none succeeded in time) is told through `onLapsed`, since the other replicas may
 * have closed its sessions by then, and joins again.
 *
 * Its own trust is counted by its monotonic clock from when it sent each renewal
 * (membership-timing.ts); the rows are judged by the store's clock.
 */
import type { Logger } from 'pino';
import type { Clock, Timer } from '../clock.js';
import { systemClock } from '../clock.js';
import { monotonicClock } from '../lease/leaser.js';
import type { MembershipTiming, MembershipVerdict } from './membership-timing.js';
import { judgeJoin, judgeRenewal, membershipTiming } from './membership-timing.js';
import type { ReplicaAddress, ReplicaRecord, ReplicaStore } from './replica-store.js';

/** DEFAULT_REPLICA_TTL_MS is how long a row lives unrenewed: renewed every 10 s, a replica is taken for dead 30 s after its last renewal. */
export const DEFAULT_REPLICA_TTL_MS = 30_000;

/** MembershipOptions: whose row, where, for how long. */
export interface MembershipOptions {
  replicas: ReplicaStore;
  /** id is this replica's id, unique among the live replicas. */
  id: string;
  /** where is where it serves, read at each join (the ports are known once it listens, before it starts). */
  where(): Omit<ReplicaAddress, 'id'>;
  ttlMs: number;
  /** safetyMs is taken off each renewal's time (default ttl/10, below ttl/3). */
  safetyMs?: number;
  /** clock times the loop and the trust (monotonic by default). */
  clock?: Clock;
  /** wallClock stamps `started_at`, when the membership is made. */
  wallClock?: Pick<Clock, 'now'>;
  /**
   * exclusive: no other coordinator shares the database (SQLite, under the data directory's lock),
   * so the rows found when joining are earlier processes', reaped at once, lapsed or not.
   */
  exclusive?: boolean;
  log: Logger;
  /** onLapsed: this replica's row lapsed or could not be renewed in time; the others may have closed its agents' sessions. */
  onLapsed?(reason: string): void;
}

/** MembershipStatus is whether this replica counts itself a member now, and why not. */
export type MembershipStatus = { member: true } | { member: false; reason: string };

/** Membership is one replica's row, kept alive. */
export interface Membership {
  readonly id: string;
  /** start joins; it rejects when the first join fails (the replica cannot start without its row). */
  start(): Promise<void>;
  status(): MembershipStatus;
  /** live is the live replicas this one saw at its last look (itself included), by id. */
  live(): readonly ReplicaRecord[];
  /** stop renews no more and deletes the row. */
  stop(): Promise<void>;
}

const NOT_JOINED = 'it has not joined yet';

/** createMembership makes the loop; nothing is written until start. */
export function createMembership(options: MembershipOptions): Membership {
  const { replicas, id, log } = options;
  const clock = options.clock ?? monotonicClock;
  const wallClock = options.wallClock ?? systemClock;
  const startedAt = wallClock.now(); // the replica's start, kept when it joins again
  const row = () => ({ id, ...options.where(), startedAt });
  const t: MembershipTiming = membershipTiming(options.ttlMs, options.safetyMs);
  let until: number | undefined; // trusted until, by `clock`; undefined when not a member
  let notMember = NOT_JOINED;
  let lastError: string | undefined;
  let seen: readonly ReplicaRecord[] = [];
  let next: Timer | undefined;
  let deadline: Timer | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

  const lapse = (reason: string): void => {
    if (until === undefined) return;
    until = undefined;
    notMember = reason;
    deadline?.cancel();
    deadline = undefined;
    log.warn({ replica: id, reason }, `replica ${id} lost its membership: ${reason}; joining again`);
    options.onLapsed?.(reason);
  };

  const member = (v: Extract<MembershipVerdict, { kind: 'member' }>): void => {
    until = v.until;
    lastError = undefined;
    deadline?.cancel();
    deadline = clock.setTimeout(() => lapse(`no renewal succeeded${lastError === undefined ? '' : ` (last: ${lastError})`} before its row could lapse`), v.until - clock.now());
  };

  /** look lists the live replicas and reaps the dead, logging each; a failure is logged and tried again next round. */
  const look = async (everyOther: boolean): Promise<void> => {
    try {
      for (const r of await replicas.reap(id, { everyOther })) {
        log.warn({ replica: r.id, apiUrl: r.apiUrl, agentAddress: r.agentAddress, closedSessions: r.closedSessions }, `replica ${r.id} is dead (its row lapsed); closed the ${r.closedSessions} agent session(s) it held`);
      }
      seen = await replicas.live();
    } catch (err) {
      log.warn({ err, replica: id }, 'could not look at the other replicas; trying again at the next renewal');
    }
  };

  /** step runs one call on the loop, unless stopped; the next is scheduled from its verdict. */
  const schedule = (at: number, step: () => Promise<void>): void => {
    next?.cancel();
    if (stopped) return; // stopped while the last call or look was on its way: no timer left behind
    next = clock.setTimeout(() => {
      next = undefined;
      if (!stopped) running = step();
    }, at - clock.now());
  };

  const join = async (everyOther = false): Promise<void> => {
    const sentAt = clock.now();
    let answer: 'granted' | 'error' = 'granted';
    try {
      await replicas.join(row(), t.ttlMs);
    } catch (err) {
      answer = 'error';
      log.warn({ err, replica: id }, 'could not write this replica\'s membership row; trying again');
    }
    if (stopped) return;
    const v = judgeJoin(t, { sentAt, answeredAt: clock.now(), answer });
    if (v.kind === 'member') {
      member(v);
      await look(everyOther);
      schedule(v.renewAt, renew);
    } else if (v.kind === 'retry') schedule(v.at, () => join());
  };

  const renew = async (): Promise<void> => {
    if (until === undefined) return join();
    const sentAt = clock.now();
    let answer: 'granted' | 'refused' | 'error';
    let error: string | undefined;
    try {
      answer = (await replicas.renew(id, t.ttlMs)) === undefined ? 'refused' : 'granted';
    } catch (err) {
      answer = 'error';
      error = errorText(err);
      log.warn({ err, replica: id }, 'could not renew this replica\'s membership row; trying again');
    }
    if (stopped) return;
    if (until === undefined) return join(); // lapsed while the renewal was on its way
    const v = judgeRenewal(t, { sentAt, answeredAt: clock.now(), answer, until, ...(error !== undefined ? { error } : {}) });
    if (v.kind === 'member') {
      member(v);
      await look(false);
      schedule(v.renewAt, renew);
    } else if (v.kind === 'retry') {
      lastError = error;
      schedule(v.at, renew);
    } else {
      lapse(v.reason);
      return join();
    }
  };

  return {
    id,
    async start() {
      const sentAt = clock.now();
      await replicas.join(row(), t.ttlMs); // a failure here fails the start
      const v = judgeJoin(t, { sentAt, answeredAt: clock.now(), answer: 'granted' });
      if (v.kind === 'member') {
        member(v);
        running = look(options.exclusive === true);
        await running;
        schedule(v.renewAt, renew);
      } else schedule(clock.now(), () => join(options.exclusive === true));
    },
    status: () => (until !== undefined && clock.now() < until ? { member: true } : { member: false, reason: until === undefined ? notMember : 'its last renewal is too old to trust' }),
    live: () => seen,
    async stop() {
      if (stopped) return;
      stopped = true;
      next?.cancel();
      deadline?.cancel();
      await running.catch(() => {});
      until = undefined;
      notMember = 'it has stopped';
      try {
        await replicas.leave(id);
      } catch (err) {
        log.warn({ err, replica: id }, 'could not delete this replica\'s membership row; it lapses by itself');
      }
    },
  };
}
