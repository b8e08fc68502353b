/**
 * Leases: how several coordinator replicas on one database share out work (a deployment, a group)
 * so that one replica at a time drives each piece. A lease is a row (name, owner, expiry,
 * generation) in the `leases` table (migration 12), kept by a {@link LeaseStore}:
 *
 * - acquire takes a lease that is free, expired or released, or extends one the owner holds already;
 * - renew extends it, only for the owner of the current generation and only before it expires;
 * - release gives it up at once, keeping its row so that generations keep growing.
 *
 * generation is the fencing token. It grows at each new tenure: whenever acquire takes a lease that
 * was not live in the caller's hands, including a lease the same owner had let lapse (its Leaser
 * has told its work the lease was lost by then). Work stamped with an older generation can be
 * refused with {@link LeaseStore.holds}.
 *
 * Whose clock judges expiry: a single clock, the store's. On PostgreSQL that is the database
 * server's (clock_timestamp()), so that replicas on machines whose clocks disagree still agree on
 * when a lease lapses; a replica never compares an expiry with its own clock (the Leaser counts its
 * own margin from when it sent a renewal, see leaser.ts). On SQLite one process holds the database
 * (the data directory's lock), so its clock is the only one there is.
 */

/** Lease is one tenure of a lease as the store answered it. */
export interface Lease {
  name: string;
  /** owner is the replica id holding the lease. */
  owner: string;
  /** generation is the tenure's fencing token: higher than every earlier tenure's of this name. */
  generation: number;
  /** expiresAt is when the lease lapses unless renewed, in epoch milliseconds of the store's clock. */
  expiresAt: number;
}

/** LeaseStore keeps the leases; every call is one atomic step, safe against other replicas' calls. */
export interface LeaseStore {
  /**
   * acquire gives `owner` the lease `name` for `ttlMs` when it is free, expired, released or already
   * `owner`'s and live (then it is extended, same generation); undefined when another owner holds it.
   */
  acquire(name: string, owner: string, ttlMs: number): Promise<Lease | undefined>;
  /** renew extends the tenure `generation` of `owner` by `ttlMs` from now; undefined when that tenure is over (expired, released, taken). */
  renew(name: string, owner: string, generation: number, ttlMs: number): Promise<Lease | undefined>;
  /** release ends the tenure at once, so another owner may take it; false when it was over already. */
  release(name: string, owner: string, generation: number): Promise<boolean>;
  /**
   * holds tells whether the tenure `generation` of `owner` is current and unexpired: the fencing
   * check. Made in the transaction whose writes it guards (the lease store over that transaction),
   * those writes commit only if no takeover came first. On PostgreSQL the check also locks the row
   * (FOR SHARE) until that transaction ends, so no takeover can come between the check and the commit.
   */
  holds(name: string, owner: string, generation: number): Promise<boolean>;
  /** list is every live (unexpired) lease, by owner then name: what each replica owns. */
  list(): Promise<Lease[]>;
}

/** checkTtl refuses a lease duration that is not a positive whole number of milliseconds. */
export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`lease ttl: expected a positive whole number of milliseconds, got ${ttlMs}`);
}

/** byOwner groups live leases by their owner: replica id → lease names. */
export function byOwner(leases: readonly Lease[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const l of leases) out.set(l.owner, [...(out.get(l.owner) ?? []), l.name]);
  return out;
}
