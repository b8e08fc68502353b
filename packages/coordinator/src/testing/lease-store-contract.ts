/**
 * The lease store contract: what every {@link LeaseStore} must do, as one list of tests run against
 * each implementation (SQLite, PostgreSQL). Time is the store's own clock: the SQLite store runs on a
 * fake clock the harness advances, the PostgreSQL one on the database server's, for which the
 * harness really waits (so its ttl is short, but long enough for a statement's round trip).
 */
import { afterEach, expect, it } from 'vitest';
import type { LeaseStore } from '../lease/lease-store.js';
import { byOwner } from '../lease/lease-store.js';

/** LeaseStoreUnderTest is a fresh store with no leases, a ttl to use, and a way to let time pass. */
export interface LeaseStoreUnderTest {
  leases: LeaseStore;
  /** ttl is the lease duration the tests use (ms): long against the store's round trip. */
  ttl: number;
  /** elapse lets `ms` pass on the store's clock. */
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

/** defineLeaseStoreContract defines the contract's tests; `open` makes a fresh store for each. */
export function defineLeaseStoreContract(open: () => Promise<LeaseStoreUnderTest>): void {
  const opened: LeaseStoreUnderTest[] = [];
  const fresh = async (): Promise<LeaseStoreUnderTest> => {
    const under = await open();
    opened.push(under);
    return under;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((u) => u.close()));
  });

  it('gives a free lease to the first owner at generation 1 and refuses a second owner while it is live', async () => {
    const { leases, ttl } = await fresh();
    const a = await leases.acquire('deployment/d-1', 'replica-a', ttl);
    expect(a).toMatchObject({ name: 'deployment/d-1', owner: 'replica-a', generation: 1 });
    expect(await leases.acquire('deployment/d-1', 'replica-b', ttl)).toBeUndefined();
    expect(await leases.holds('deployment/d-1', 'replica-a', 1)).toBe(true);
    expect(await leases.holds('deployment/d-1', 'replica-b', 1)).toBe(false);
    // Another name is another lease.
    expect(await leases.acquire('deployment/d-2', 'replica-b', ttl)).toMatchObject({ owner: 'replica-b', generation: 1 });
  });

  it('extends a live lease its owner acquires again, keeping the generation', async () => {
    const { leases, ttl, elapse } = await fresh();
    const first = (await leases.acquire('l', 'replica-a', ttl))!;
    await elapse(ttl / 2);
    const again = (await leases.acquire('l', 'replica-a', ttl))!;
    expect(again.generation).toBe(first.generation);
    expect(again.expiresAt).toBeGreaterThan(first.expiresAt);
    await elapse(ttl * 0.7); // past the first expiry, within the second
    expect(await leases.acquire('l', 'replica-b', ttl)).toBeUndefined();
  });

  it('hands an expired lease to another owner with a higher generation; the old tenure can no longer renew, release or pass the fencing check', async () => {
    const { leases, ttl, elapse } = await fresh();
    const a = (await leases.acquire('l', 'replica-a', ttl))!;
    await elapse(ttl * 1.3);
    const b = (await leases.acquire('l', 'replica-b', ttl))!;
    expect(b).toMatchObject({ owner: 'replica-b', generation: a.generation + 1 });
    expect(await leases.renew('l', 'replica-a', a.generation, ttl)).toBeUndefined();
    expect(await leases.release('l', 'replica-a', a.generation)).toBe(false);
    expect(await leases.holds('l', 'replica-a', a.generation)).toBe(false);
    expect(await leases.holds('l', 'replica-b', b.generation)).toBe(true);
    // The old owner acquiring again is refused: B's tenure is live.
    expect(await leases.acquire('l', 'replica-a', ttl)).toBeUndefined();
  });

  it('renews only for the owner of the current generation, before expiry, from the time of the renewal', async () => {
    const { leases, ttl, elapse } = await fresh();
    const a = (await leases.acquire('l', 'replica-a', ttl))!;
    await elapse(ttl / 2);
    expect(await leases.renew('l', 'replica-b', a.generation, ttl)).toBeUndefined();
    expect(await leases.renew('l', 'replica-a', a.generation + 1, ttl)).toBeUndefined();
    const renewed = (await leases.renew('l', 'replica-a', a.generation, ttl))!;
    expect(renewed).toMatchObject({ owner: 'replica-a', generation: a.generation });
    expect(renewed.expiresAt).toBeGreaterThan(a.expiresAt);
    await elapse(ttl * 0.7); // 1.2 ttl after the acquire, 0.7 after the renewal
    expect(await leases.holds('l', 'replica-a', a.generation)).toBe(true);
    expect(await leases.acquire('l', 'replica-b', ttl)).toBeUndefined();
  });

  it('refuses a renewal after expiry even when nobody took the lease; acquiring it back is a new tenure', async () => {
    const { leases, ttl, elapse } = await fresh();
    const a = (await leases.acquire('l', 'replica-a', ttl))!;
    await elapse(ttl * 1.3);
    expect(await leases.renew('l', 'replica-a', a.generation, ttl)).toBeUndefined();
    expect(await leases.holds('l', 'replica-a', a.generation)).toBe(false);
    expect(await leases.acquire('l', 'replica-a', ttl)).toMatchObject({ owner: 'replica-a', generation: a.generation + 1 });
  });

  it('releases at once: another owner takes the lease without waiting, at a higher generation', async () => {
    const { leases, ttl } = await fresh();
    const a = (await leases.acquire('l', 'replica-a', ttl))!;
    expect(await leases.release('l', 'replica-b', a.generation)).toBe(false);
    expect(await leases.release('l', 'replica-a', a.generation + 1)).toBe(false);
    expect(await leases.release('l', 'replica-a', a.generation)).toBe(true);
    expect(await leases.release('l', 'replica-a', a.generation)).toBe(false);
    expect(await leases.holds('l', 'replica-a', a.generation)).toBe(false);
    expect(await leases.renew('l', 'replica-a', a.generation, ttl)).toBeUndefined();
    expect(await leases.acquire('l', 'replica-b', ttl)).toMatchObject({ owner: 'replica-b', generation: a.generation + 1 });
  });

  it('keeps generations growing over many tenures: a released lease never starts again at 1', async () => {
    const { leases, ttl } = await fresh();
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const owner = `replica-${i % 3}`;
      const l = (await leases.acquire('l', owner, ttl))!;
      seen.push(l.generation);
      expect(await leases.release('l', owner, l.generation)).toBe(true);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('lists the live leases by owner then name: what each replica owns, without the expired or released', async () => {
    const { leases, ttl, elapse } = await fresh();
    expect(await leases.list()).toEqual([]);
    await leases.acquire('old', 'replica-c', ttl);
    await elapse(ttl * 1.3);
    await leases.acquire('z', 'replica-a', ttl);
    await leases.acquire('b', 'replica-b', ttl);
    await leases.acquire('a', 'replica-a', ttl);
    const gone = (await leases.acquire('gone', 'replica-b', ttl))!;
    await leases.release('gone', 'replica-b', gone.generation);
    const listed = await leases.list();
    expect(listed.map((l) => `${l.owner} ${l.name} ${l.generation}`)).toEqual(['replica-a a 1', 'replica-a z 1', 'replica-b b 1']);
    for (const l of listed) expect(typeof l.expiresAt).toBe('number');
    expect(byOwner(listed)).toEqual(new Map([['replica-a', ['a', 'z']], ['replica-b', ['b']]]));
  });

  it.each([0, -5, 1.5, Number.NaN])('refuses a ttl of %s ms, naming it', async (ttl) => {
    const { leases } = await fresh();
    await expect(leases.acquire('l', 'replica-a', ttl)).rejects.toThrow(`lease ttl: expected a positive whole number of milliseconds, got ${ttl}`);
    await expect(leases.renew('l', 'replica-a', 1, ttl)).rejects.toThrow(/lease ttl: expected a positive whole number/);
    expect(await leases.list()).toEqual([]);
  });
}
