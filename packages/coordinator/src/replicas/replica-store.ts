/**
 * Replica membership: which coordinator replicas sharing one database are alive (issue 13). Each
 * live replica keeps a row in `replicas` (migration 17), renewed well before its `alive_until`; a
 * replica that stops cleanly deletes its row, and a row whose `alive_until` has passed is a dead
 * replica's (killed, cut off from the database, or stalled past its ttl).
 *
 * As for leases (lease/lease-store.ts), one clock judges: the store's, which on PostgreSQL is the
 * database server's, so replicas whose clocks disagree still agree on who is dead. A replica never
 * compares an `alive_until` with its own clock; it counts its own trust from when it sent a renewal
 * (membership-timing.ts).
 */
/** ReplicaAddress is who a replica is and where it serves. */
export interface ReplicaAddress {
  id: string;
  /** apiUrl is where it serves the API. */
  apiUrl: string;
  /** agentAddress is the host:port its agents connect to. */
  agentAddress: string;
}

/** ReplicaRecord is a replica's row as the store answered it. */
export interface ReplicaRecord extends ReplicaAddress {
  /** startedAt is when the replica joined, epoch milliseconds. */
  startedAt: number;
  /** aliveUntil is when the row lapses unless renewed, epoch milliseconds of the store's clock. */
  aliveUntil: number;
}

/** ReapedReplica is a dead replica whose row was removed, and how many of its open agent sessions were closed with it. */
export interface ReapedReplica {
  id: string;
  apiUrl: string;
  agentAddress: string;
  closedSessions: number;
}

/** ReplicaStore keeps the membership rows; every call is one atomic step, safe against other replicas' calls. */
export interface ReplicaStore {
  /** join writes (or replaces) the row of `replica`, alive for `ttlMs` from now by the store's clock. */
  join(replica: ReplicaAddress & { startedAt: number }, ttlMs: number): Promise<ReplicaRecord>;
  /** renew extends the row of `id` by `ttlMs` from now; undefined when the row has lapsed or is gone (the replica was seen dead). */
  renew(id: string, ttlMs: number): Promise<ReplicaRecord | undefined>;
  /** leave deletes the row of `id` (a clean stop); false when there was none. */
  leave(id: string): Promise<boolean>;
  /** live is every unexpired row, by id. */
  live(): Promise<ReplicaRecord[]>;
  /**
   * reap removes the rows of dead replicas other than `self` and, in the same step, closes the agent
   * sessions they held (migration 16's `held_by`) at their last heartbeat, as a replica's own start
   * closes those it left open (fleet/agent-sessions.ts). A row is removed by one caller only, so
   * each dead replica is reaped once however many replicas look. `everyOther`: every row but
   * `self`'s counts as dead, lapsed or not (a coordinator alone on its database, under the data
   * directory's lock, knows any other row is an earlier process's). Returns what was reaped, by id.
   */
  reap(self: string, options?: { everyOther?: boolean }): Promise<ReapedReplica[]>;
}

/** checkReplicaTtl refuses a membership duration that is not a positive whole number of milliseconds. */
export function checkReplicaTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new RangeError(`replica membership ttl: expected a positive whole number of milliseconds, got ${ttlMs}`);
}
