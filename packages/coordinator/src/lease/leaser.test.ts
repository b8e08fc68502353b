/**
 * The Leaser on a fake clock, over the real SQLite lease store judged by the same clock. What
 * stands between them models the network: each call takes `up` ms to reach the store and `down` ms
 * to come back, fails with an error, or never answers (a replica cut off or dead).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { createFakeClock } from '../testing/fake-clock.js';
import type { FakeClock } from '../testing/fake-clock.js';
import type { LeaseStore } from './lease-store.js';
import { sqliteLeaseStore } from './sqlite-lease-store.js';
import type { HeldLease, Leaser } from './leaser.js';
import { createLeaser } from './leaser.js';

const TTL = 30_000; // renewals every 10 s, trusted until 27 s after sending, retries after 3 s

interface Network {
  up: number;
  down: number;
  fail?: string;
  hang?: boolean;
}

/** overNetwork is `inner` reached through `net`, whose settings a test changes as it goes. */
function overNetwork(inner: LeaseStore, clock: FakeClock, net: Network): LeaseStore {
  const wait = (ms: number) => new Promise<void>((resolve) => (ms === 0 ? resolve() : void clock.setTimeout(resolve, ms)));
  const through =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const { hang, fail, down } = net;
      if (hang === true) return new Promise<R>(() => {});
      if (fail !== undefined) throw new Error(fail);
      await wait(net.up);
      const result = await fn(...args);
      await wait(down);
      return result;
    };
  return { acquire: through(inner.acquire), renew: through(inner.renew), release: through(inner.release), holds: through(inner.holds), list: through(inner.list) };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

interface Replica {
  leaser: Leaser;
  net: Network;
  events: string[];
  acquired: Array<HeldLease & { at: number }>;
  renewed: Array<HeldLease & { at: number }>;
  lost: Array<{ name: string; generation: number; reason: string; at: number }>;
  errors: string[];
}

describe('Leaser', () => {
  const stores: SqliteStore[] = [];
  afterEach(() => stores.splice(0).forEach((s) => s.close()));

  const setUp = () => {
    const store = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-leaser-')));
    stores.push(store);
    const clock = createFakeClock(0);
    const db = sqliteLeaseStore(store.db, clock);
    const replica = (owner: string): Replica => {
      const net: Network = { up: 0, down: 0 };
      const r: Replica = { net, events: [], acquired: [], renewed: [], lost: [], errors: [], leaser: undefined as unknown as Leaser };
      r.leaser = createLeaser({
        leases: overNetwork(db, clock, net),
        owner,
        ttlMs: TTL,
        clock,
        onAcquired: (l) => r.acquired.push({ ...l, at: clock.now() }),
        onRenewed: (l) => r.renewed.push({ ...l, at: clock.now() }),
        onLost: (name, generation, reason) => r.lost.push({ name, generation, reason, at: clock.now() }),
        onError: (_name, err) => r.errors.push((err as Error).message),
      });
      return r;
    };
    /** pass lets `ms` go by, 100 ms at a time, letting the store's answers arrive in between. */
    const pass = async (ms: number) => {
      for (let done = 0; done < ms; done += 100) {
        clock.advance(Math.min(100, ms - done));
        await flush();
      }
    };
    return { db, clock, replica, pass };
  };

  it('takes a free lease at once and keeps it over many ttls, renewing every ttl/3, while another replica waits', async () => {
    const { db, replica, pass } = setUp();
    const a = replica('replica-a');
    const b = replica('replica-b');
    a.leaser.claim('d-1');
    await flush();
    b.leaser.claim('d-1');
    await pass(95_000);
    expect(a.acquired).toEqual([{ name: 'd-1', generation: 1, trustedUntil: 27_000, at: 0 }]);
    expect(a.renewed.map((r) => r.at)).toEqual([10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000]);
    expect(a.leaser.held()).toEqual([{ name: 'd-1', generation: 1, trustedUntil: 117_000 }]);
    expect(a.leaser.holds('d-1', 1)).toBe(true);
    expect(a.lost).toEqual([]);
    expect(b.acquired).toEqual([]);
    expect(b.leaser.held()).toEqual([]);
    expect((await db.list()).map((l) => `${l.owner} ${l.name} ${l.generation}`)).toEqual(['replica-a d-1 1']);
  });

  it('lets another replica take over a dead one\'s lease only once it has expired, at a higher generation; the dead one stops trusting it first', async () => {
    const { db, replica, pass } = setUp();
    const a = replica('replica-a');
    const b = replica('replica-b');
    a.leaser.claim('d-1');
    await flush();
    const expiresAt = (await db.list())[0]!.expiresAt;
    a.net.hang = true; // A can reach nothing any more, as if dead
    b.leaser.claim('d-1');
    await flush();
    await pass(40_000);
    expect(expiresAt).toBe(30_000);
    expect(a.lost).toEqual([{ name: 'd-1', generation: 1, reason: 'not renewed before the lease could no longer be trusted', at: 27_000 }]);
    expect(b.acquired).toEqual([{ name: 'd-1', generation: 2, trustedUntil: 57_000, at: 30_000 }]);
    expect(a.lost[0]!.at).toBeLessThan(b.acquired[0]!.at);
    expect(a.leaser.held()).toEqual([]);
  });

  it('reports the loss as soon as a renewal is refused, and keeps trying while another holds it', async () => {
    const { db, replica, pass } = setUp();
    const a = replica('replica-a');
    a.leaser.claim('d-1');
    await flush();
    await pass(5_000);
    // Another owner takes the lease behind A's back (an operator's release, say).
    expect(await db.release('d-1', 'replica-a', 1)).toBe(true);
    expect(await db.acquire('d-1', 'replica-b', TTL)).toMatchObject({ generation: 2 });
    await pass(30_000);
    expect(a.lost).toEqual([{ name: 'd-1', generation: 1, reason: 'the renewal was refused: the lease had expired or another owner had taken it', at: 10_000 }]);
    expect(a.acquired).toHaveLength(1);
    await pass(10_000); // B's tenure (from 5 s) has expired: A takes it back at its next try
    expect(a.acquired.map((l) => `${l.generation}@${l.at}`)).toEqual(['1@0', '3@40000']);
  });

  it('counts a slow renewal from its sending: the round trip is not trusted', async () => {
    const { db, replica, pass } = setUp();
    const a = replica('replica-a');
    a.leaser.claim('d-1');
    await pass(5_000);
    a.net.up = 500;
    a.net.down = 8_000;
    await pass(14_000);
    // Sent at 10 s, stamped by the store at 10.5 s (expiry 40.5 s), answered at 18.5 s.
    expect(a.renewed).toEqual([{ name: 'd-1', generation: 1, trustedUntil: 37_000, at: 18_500 }]);
    expect((await db.list())[0]!.expiresAt).toBe(40_500);
  });

  it('reports the loss when trust runs out, before a renewal\'s late answer, and the late answer does not bring it back', async () => {
    const { replica, pass } = setUp();
    const a = replica('replica-a');
    a.leaser.claim('d-1');
    await pass(5_000);
    a.net.up = 1_000;
    a.net.down = 25_000; // the renewal sent at 10 s is answered at 36 s
    await pass(31_500);
    expect(a.renewed).toEqual([]);
    expect(a.lost).toEqual([{ name: 'd-1', generation: 1, reason: 'not renewed before the lease could no longer be trusted', at: 27_000 }]);
    expect(a.leaser.held()).toEqual([]);
    expect(a.leaser.holds('d-1', 1)).toBe(false);
  });

  it('retries a renewal the store did not answer, keeping the lease when a retry succeeds in time', async () => {
    const { replica, pass } = setUp();
    const a = replica('replica-a');
    a.leaser.claim('d-1');
    await pass(9_000);
    a.net.fail = 'Connection terminated unexpectedly';
    await pass(6_000); // the renewal at 10 s and its retry at 13 s fail
    delete a.net.fail;
    await pass(3_000); // the retry at 16 s succeeds
    expect(a.errors).toEqual(['Connection terminated unexpectedly', 'Connection terminated unexpectedly']);
    expect(a.renewed).toEqual([{ name: 'd-1', generation: 1, trustedUntil: 43_000, at: 16_000 }]);
    expect(a.lost).toEqual([]);
  });

  it('loses the lease when no renewal succeeds before trust runs out, naming the last error', async () => {
    const { replica, pass } = setUp();
    const a = replica('replica-a');
    a.leaser.claim('d-1');
    await pass(9_000);
    a.net.fail = 'connect ECONNREFUSED';
    await pass(20_000);
    expect(a.lost).toEqual([{ name: 'd-1', generation: 1, reason: 'no renewal succeeded (last: connect ECONNREFUSED) before the lease could no longer be trusted', at: 27_000 }]);
    expect(a.errors.length).toBeGreaterThanOrEqual(5); // 10, 13, ..., 25 s
  });

  it('releases a lease at once without reporting it lost, so another replica takes it without waiting', async () => {
    const { db, replica, pass } = setUp();
    const a = replica('replica-a');
    const b = replica('replica-b');
    a.leaser.claim('d-1');
    await pass(1_000);
    await a.leaser.release('d-1');
    expect(a.leaser.held()).toEqual([]);
    b.leaser.claim('d-1');
    await flush();
    expect(b.acquired.map((l) => `${l.generation}@${l.at}`)).toEqual(['2@1000']);
    await pass(40_000);
    expect(a.lost).toEqual([]);
    expect(a.acquired).toHaveLength(1); // released: A no longer tries
    expect((await db.list()).map((l) => l.owner)).toEqual(['replica-b']);
  });

  it('gives back a lease whose acquisition answered after it was released', async () => {
    const { db, replica, pass } = setUp();
    const a = replica('replica-a');
    a.net.down = 5_000;
    a.leaser.claim('d-1');
    await pass(1_000);
    expect((await db.list()).map((l) => l.owner)).toEqual(['replica-a']); // granted, answer on its way
    await a.leaser.release('d-1');
    await pass(10_000);
    expect(a.acquired).toEqual([]);
    expect(await db.list()).toEqual([]);
  });

  it('holds several leases, claims each once, and releases them all on stop; a stopped Leaser claims nothing', async () => {
    const { db, replica, pass } = setUp();
    const a = replica('replica-a');
    for (const name of ['d-2', 'd-1', 'd-2']) a.leaser.claim(name);
    await pass(25_000);
    expect(a.leaser.held().map((l) => `${l.name}:${l.generation}`)).toEqual(['d-1:1', 'd-2:1']);
    expect(a.acquired).toHaveLength(2);
    await a.leaser.stop();
    expect(await db.list()).toEqual([]);
    expect(() => a.leaser.claim('d-3')).toThrow('lease d-3: the Leaser of replica-a is stopped');
  });

  it('refuses a safety margin that leaves no room for a second renewal', () => {
    const { db } = setUp();
    expect(() => createLeaser({ leases: db, owner: 'r', ttlMs: 30_000, safetyMs: 12_000 })).toThrow(/lease safety margin: expected 0 ≤ margin < ttl\/3 .* got 12000/);
  });
});
