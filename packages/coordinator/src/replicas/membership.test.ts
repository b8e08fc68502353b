/**
 * Membership on a fake clock, over the real SQLite replica store judged by the same clock. Between a
 * replica and the store stands a switch that models what can happen to it: calls fail with an
 * error, or never answer (the replica was killed, or cut off).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAgentSessionStore } from '../fleet/agent-sessions.js';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { createFakeClock } from '../testing/fake-clock.js';
import type { FakeClock } from '../testing/fake-clock.js';
import type { Membership } from './membership.js';
import { createMembership } from './membership.js';
import type { ReplicaStore } from './replica-store.js';
import { sqliteReplicaStore } from './sqlite-replica-store.js';

const TTL = 30_000; // renewals every 10 s, trusted until 27 s after sending, retries after 3 s

interface Switch {
  fail?: string;
  /** failOnly limits `fail` to one call. */
  failOnly?: keyof ReplicaStore;
  dead?: boolean;
}

/** through is `inner` behind `sw`: a dead replica's calls never answer, a failing one's reject. */
function through(inner: ReplicaStore, sw: Switch): ReplicaStore {
  const wrap =
    <A extends unknown[], R>(name: keyof ReplicaStore, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (sw.dead === true) return new Promise<R>(() => {});
      if (sw.fail !== undefined && (sw.failOnly === undefined || sw.failOnly === name)) throw new Error(sw.fail);
      return fn(...args);
    };
  return { join: wrap('join', inner.join), renew: wrap('renew', inner.renew), leave: wrap('leave', inner.leave), live: wrap('live', inner.live), reap: wrap('reap', inner.reap) };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

interface Replica {
  membership: Membership;
  sw: Switch;
  lines: Array<Record<string, unknown>>;
  lapses: string[];
}

describe('replica membership', () => {
  const stores: SqliteStore[] = [];
  afterEach(() => stores.splice(0).forEach((s) => s.close()));

  const setUp = () => {
    const store = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-membership-')));
    stores.push(store);
    const clock: FakeClock = createFakeClock(1_000_000);
    const db = sqliteReplicaStore(store.db, clock);
    const replica = (id: string, extra: { exclusive?: boolean } = {}): Replica => {
      const sw: Switch = {};
      const lines: Array<Record<string, unknown>> = [];
      const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) });
      const lapses: string[] = [];
      const membership = createMembership({
        replicas: through(db, sw),
        id,
        where: () => ({ apiUrl: `https://${id}.test:8443`, agentAddress: `${id}.test:8444` }),
        ttlMs: TTL,
        clock,
        wallClock: clock,
        log: pino({ level: 'info' }, sink),
        onLapsed: (reason) => lapses.push(reason),
        ...extra,
      });
      return { membership, sw, lines, lapses };
    };
    /** pass lets `ms` go by, 100 ms at a time, letting the store's answers arrive in between. */
    const pass = async (ms: number) => {
      for (let done = 0; done < ms; done += 100) {
        clock.advance(Math.min(100, ms - done));
        await flush();
      }
    };
    const ids = () => db.live().then((rows) => rows.map((r) => r.id));
    return { store, db, clock, replica, pass, ids };
  };

  it('keeps a row per live replica; when one dies the other closes that replica\'s open sessions once, logging its name, and not its own', async () => {
    const { store, replica, pass, ids } = setUp();
    const a = replica('replica-a');
    const b = replica('replica-b');
    await a.membership.start();
    await b.membership.start();
    expect(await ids()).toEqual(['replica-a', 'replica-b']);
    const sessionsA = createAgentSessionStore(store.db, 'replica-a');
    const sessionsB = createAgentSessionStore(store.db, 'replica-b');
    sessionsA.connected('web-01', '0.1.0', 1_000);
    sessionsB.connected('web-02', '0.1.0', 1_000);
    sessionsB.heartbeat('web-02', 1_500);
    sessionsB.connected('web-03', '0.1.0', 1_000);

    // Renewals keep both alive well past the ttl; each sees the other.
    await pass(3 * TTL);
    expect(a.membership.live().map((r) => r.id)).toEqual(['replica-a', 'replica-b']);
    expect(b.membership.status()).toEqual({ member: true });

    b.sw.dead = true; // SIGKILL: no more renewals, no leave
    await pass(19_000); // its last renewal was at most 10 s before it died: its row is live for 20 s more at least
    expect(sessionsA.get('web-02')).not.toHaveProperty('disconnectedAt');
    expect(await ids()).toEqual(['replica-a', 'replica-b']);
    await pass(21_000); // its row has lapsed (30 s after its last renewal at the latest) and a's next round has looked
    expect(sessionsA.get('web-02')).toMatchObject({ disconnectedAt: 1_500, heldBy: 'replica-b' });
    expect(sessionsA.get('web-03')).toMatchObject({ disconnectedAt: 1_000, heldBy: 'replica-b' });
    expect(sessionsA.get('web-01')).not.toHaveProperty('disconnectedAt');
    expect(await ids()).toEqual(['replica-a']);
    expect(a.membership.live().map((r) => r.id)).toEqual(['replica-a']);
    await pass(3 * TTL);
    const reaped = a.lines.filter((l) => l.replica === 'replica-b');
    expect(reaped.map((l) => ({ level: l.level, msg: l.msg, closedSessions: l.closedSessions }))).toEqual([
      { level: 40, msg: 'replica replica-b is dead (its row lapsed); closed the 2 agent session(s) it held', closedSessions: 2 },
    ]);
    expect(a.lapses).toEqual([]);
    // b counted itself out before a could reap it: its trust ran out with its last renewal's.
    expect(b.membership.status()).toMatchObject({ member: false });
  });

  it('deletes its row when it stops cleanly: nothing is left to reap', async () => {
    const { replica, pass, ids } = setUp();
    const a = replica('replica-a');
    const b = replica('replica-b');
    await a.membership.start();
    await b.membership.start();
    await b.membership.stop();
    expect(await ids()).toEqual(['replica-a']);
    expect(b.membership.status()).toEqual({ member: false, reason: 'it has stopped' });
    await pass(2 * TTL);
    expect(a.lines.filter((l) => l.replica === 'replica-b')).toEqual([]);
    await a.membership.stop();
    expect(await ids()).toEqual([]);
  });

  it('a coordinator alone (exclusive) reaps the rows of earlier processes at once, lapsed or not', async () => {
    const { store, db, replica, ids } = setUp();
    await db.join({ id: 'replica-killed', startedAt: 1, apiUrl: 'https://old.test', agentAddress: 'old.test:1' }, TTL);
    createAgentSessionStore(store.db, 'replica-killed').connected('web-01', '0.1.0', 1_000);
    const a = replica('replica-a', { exclusive: true });
    await a.membership.start();
    expect(await ids()).toEqual(['replica-a']);
    expect(a.membership.live().map((r) => r.id)).toEqual(['replica-a']);
    expect(createAgentSessionStore(store.db).get('web-01')).toMatchObject({ disconnectedAt: 1_000 });
    expect(a.lines.map((l) => l.msg)).toContain('replica replica-killed is dead (its row lapsed); closed the 1 agent session(s) it held');
  });

  it('a replica whose row was reaped while it stalled is told, says why, and joins again', async () => {
    const { db, replica, pass } = setUp();
    const a = replica('replica-a');
    await a.membership.start();
    await pass(5_000);
    await db.reap('replica-b', { everyOther: true }); // as another replica would once a's row lapsed
    await pass(5_000); // a's renewal at 10 s finds no row
    expect(a.lapses).toEqual(['its row had lapsed or was removed: the other replicas may have taken it for dead']);
    expect(a.lines.find((l) => l.level === 40)).toMatchObject({ msg: 'replica replica-a lost its membership: its row had lapsed or was removed: the other replicas may have taken it for dead; joining again' });
    expect(await db.live()).toEqual([{ id: 'replica-a', apiUrl: 'https://replica-a.test:8443', agentAddress: 'replica-a.test:8444', startedAt: 1_000_000, aliveUntil: expect.any(Number) }]); // started when it first did
    expect(a.membership.status()).toEqual({ member: true });
  });

  it('retries renewals that fail while trusted; lapses when none succeeded in time, then joins again once the store answers', async () => {
    const { replica, pass } = setUp();
    const a = replica('replica-a');
    await a.membership.start();
    a.sw.fail = 'connection refused';
    await pass(20_000);
    expect(a.membership.status()).toEqual({ member: true }); // trusted until 27 s
    expect(a.lapses).toEqual([]);
    await pass(8_000);
    expect(a.lapses).toEqual(['no renewal succeeded (last: connection refused) before its row could lapse']);
    expect(a.membership.status()).toEqual({ member: false, reason: 'no renewal succeeded (last: connection refused) before its row could lapse' });
    delete a.sw.fail;
    await pass(4_000);
    expect(a.membership.status()).toEqual({ member: true });
  });

  it('stays a member when looking at the others fails, logging it, and looks again at the next renewal', async () => {
    const { store, db, replica, pass } = setUp();
    const a = replica('replica-a');
    await a.membership.start();
    await db.join({ id: 'replica-gone', startedAt: 1, apiUrl: 'https://gone.test', agentAddress: 'gone.test:1' }, 1_000);
    createAgentSessionStore(store.db, 'replica-gone').connected('web-01', '0.1.0', 1_000);
    Object.assign(a.sw, { fail: 'disk I/O error', failOnly: 'reap' });
    await pass(10_000);
    expect(a.lines.filter((l) => l.level === 40).map((l) => [l.msg, (l.err as { message: string }).message])).toEqual([['could not look at the other replicas; trying again at the next renewal', 'disk I/O error']]);
    expect(a.membership.status()).toEqual({ member: true });
    expect(createAgentSessionStore(store.db).get('web-01')).not.toHaveProperty('disconnectedAt'); // replica-gone's row lapsed, not reaped yet
    delete a.sw.fail;
    await pass(10_000);
    expect(createAgentSessionStore(store.db).get('web-01')).toMatchObject({ disconnectedAt: 1_000 });
    expect(a.lines.map((l) => l.msg)).toContain('replica replica-gone is dead (its row lapsed); closed the 1 agent session(s) it held');
  });

  it('stops even when it cannot delete its row, logging it: the row then lapses by itself', async () => {
    const { replica, pass, ids } = setUp();
    const a = replica('replica-a');
    const b = replica('replica-b');
    await a.membership.start();
    await b.membership.start();
    Object.assign(b.sw, { fail: 'connection terminated', failOnly: 'leave' });
    await b.membership.stop();
    expect(b.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['could not delete this replica\'s membership row; it lapses by itself']);
    expect(await ids()).toEqual(['replica-a', 'replica-b']);
    await pass(40_000);
    expect(await ids()).toEqual(['replica-a']);
  });

  it('fails its start when the first join fails, naming the store\'s error', async () => {
    const { replica, ids } = setUp();
    const a = replica('replica-a');
    a.sw.fail = 'no such table: replicas';
    await expect(a.membership.start()).rejects.toThrow('no such table: replicas');
    expect(a.membership.status()).toEqual({ member: false, reason: 'it has not joined yet' });
    delete a.sw.fail;
    expect(await ids()).toEqual([]);
  });
});
