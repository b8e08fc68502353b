/**
 * TriggerOutbox keeps the notifications owed to trigger targets (migration 009) on the coordinator's
 * database, so enqueueing joins the engine's transactions.
 *
 * Several coordinators on one database must not send a row at the same time: the delivery loop
 * takes the rows it sends with {@link TriggerOutbox.claim}, which marks them as this replica's
 * until a claim expiry (migration 015). A claimed row is not claimed again until its claim lapses
 * (its replica died mid-send) or a report of the attempt clears it. Expiry is judged by the
 * claimers' clocks, like next_attempt_at: replicas whose clocks disagree by more than the claim's
 * margin could send a row twice, which receivers absorb (they deduplicate by event id).
 */
import type Database from 'better-sqlite3';
import type { Notification } from './trigger-messages.js';

/** Delivery is one outbox row. */
export interface Delivery extends Notification {
  deploymentId: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  state: 'pending' | 'delivered' | 'dead';
  lastError?: string;
  finishedAt?: number;
  /** The replica id whose attempt is under way, until claimedUntil. */
  claimedBy?: string;
  claimedUntil?: number;
}

/** TriggerOutbox reads and writes the outbox. */
export interface TriggerOutbox {
  /** enqueue adds notifications; one whose event id is already there (a repeated event) is left as it is. */
  enqueue(deploymentId: string, notifications: readonly Notification[], now: number): number;
  /** due lists pending deliveries whose time has come, oldest first, claimed or not (for inspection: senders use claim). */
  due(now: number, limit: number): Delivery[];
  /**
   * claim takes up to `limit` pending deliveries whose time has come and which no live claim holds
   * (none, or one that lapsed by `now`), oldest first, and marks them claimed by `claimant` until
   * `until`. Atomic: of replicas claiming at once, each row goes to one.
   */
  claim(now: number, limit: number, claimant: string, until: number): Delivery[];
  /** release clears `claimant`'s claim on a row (its attempt was cut short), so it may be claimed at once. */
  release(eventId: string, claimant: string): void;
  /**
   * releaseAll clears every claim; returns how many. Only for a database that one coordinator holds
   * alone (SQLite, under the data directory's lock): its claims at start were left by a dead process.
   */
  releaseAll(): number;
  /** nextDue is the earliest time a pending delivery may be claimed: its next attempt, or its claim's expiry if later. */
  nextDue(): number | undefined;
  /** delivered records a delivery after `attempts` attempts; a row already delivered keeps its first record. */
  delivered(eventId: string, attempts: number, now: number): void;
  /**
   * failed records a failed attempt: pending again at `retryAt`, or dead without one. Ignored unless
   * the row is pending with fewer attempts (a late report of an earlier attempt). Both reports clear
   * the row's claim.
   */
  failed(eventId: string, attempts: number, error: string, retryAt: number | undefined, now: number): void;
  get(eventId: string): Delivery | undefined;
  /** list gives deliveries in a state, newest first. */
  list(state: Delivery['state'], limit: number): Delivery[];
  countByState(): Record<string, number>;
  /** prune deletes delivered rows finished before `before`; returns how many. */
  prune(before: number): number;
}

interface Row {
  event_id: string;
  deployment_id: string;
  trigger_name: string;
  trigger_event: string;
  target: string;
  subject: string;
  body: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  state: Delivery['state'];
  last_error: string | null;
  finished_at: number | null;
  claimed_by: string | null;
  claimed_until: number | null;
}

function fromRow(r: Row): Delivery {
  return {
    eventId: r.event_id,
    deploymentId: r.deployment_id,
    triggerName: r.trigger_name,
    triggerEvent: r.trigger_event as Delivery['triggerEvent'],
    target: r.target,
    subject: r.subject,
    body: r.body,
    createdAt: r.created_at,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    state: r.state,
    ...(r.last_error === null ? {} : { lastError: r.last_error }),
    ...(r.finished_at === null ? {} : { finishedAt: r.finished_at }),
    ...(r.claimed_by === null ? {} : { claimedBy: r.claimed_by }),
    ...(r.claimed_until === null ? {} : { claimedUntil: r.claimed_until }),
  };
}

/** ClaimParameters are {@link CLAIM_SQL}'s named parameters. */
export interface ClaimParameters {
  now: number;
  limit: number;
  claimant: string;
  until: number;
}

/** CLAIM_SQL is SQLite's claim: one statement, so the rows chosen are the rows marked whatever another connection does. */
export const CLAIM_SQL = `UPDATE trigger_deliveries SET claimed_by = :claimant, claimed_until = :until
  WHERE event_id IN (SELECT event_id FROM trigger_deliveries WHERE state = 'pending' AND next_attempt_at <= :now AND (claimed_until IS NULL OR claimed_until <= :now)
    ORDER BY next_attempt_at, created_at, event_id LIMIT :limit)
  RETURNING *`;

/**
 * createTriggerOutbox builds the outbox on an open, migrated database. A report of an attempt is
 * guarded so that a late or repeated one cannot undo a later one (with several coordinators two may
 * attempt the same row): a delivered row stays delivered, a failure counts only on a pending row
 * with fewer attempts than it reports.
 */
export function createTriggerOutbox(db: Database.Database): TriggerOutbox {
  const insert = db.prepare(`INSERT INTO trigger_deliveries (event_id, deployment_id, trigger_name, trigger_event, target, subject, body, created_at, next_attempt_at, state)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (event_id) DO NOTHING`);
  const due = db.prepare<[number, number], Row>("SELECT * FROM trigger_deliveries WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at LIMIT ?");
  const claim = db.prepare<ClaimParameters, Row>(CLAIM_SQL);
  const release = db.prepare('UPDATE trigger_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE event_id = ? AND claimed_by = ?');
  const releaseAll = db.prepare('UPDATE trigger_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by IS NOT NULL');
  const nextDue = db.prepare<[], { t: number | null }>("SELECT MIN(MAX(next_attempt_at, COALESCE(claimed_until, 0))) AS t FROM trigger_deliveries WHERE state = 'pending'");
  const delivered = db.prepare(`UPDATE trigger_deliveries SET state = 'delivered', attempts = ?, finished_at = ?, last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE event_id = ? AND state <> 'delivered'`);
  const retry = db.prepare(`UPDATE trigger_deliveries SET attempts = ?, last_error = ?, next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL WHERE event_id = ? AND state = 'pending' AND attempts < ?`);
  const dead = db.prepare(`UPDATE trigger_deliveries SET state = 'dead', attempts = ?, last_error = ?, finished_at = ?, claimed_by = NULL, claimed_until = NULL WHERE event_id = ? AND state = 'pending' AND attempts < ?`);
  const get = db.prepare<[string], Row>('SELECT * FROM trigger_deliveries WHERE event_id = ?');
  const list = db.prepare<[string, number], Row>('SELECT * FROM trigger_deliveries WHERE state = ? ORDER BY created_at DESC LIMIT ?');
  const counts = db.prepare<[], { state: string; n: number }>('SELECT state, COUNT(*) AS n FROM trigger_deliveries GROUP BY state');
  const prune = db.prepare("DELETE FROM trigger_deliveries WHERE state = 'delivered' AND finished_at < ?");
  return {
    enqueue(deploymentId, notifications, now) {
      let added = 0;
      for (const n of notifications) added += insert.run(n.eventId, deploymentId, n.triggerName, n.triggerEvent, n.target, n.subject, n.body, now, now).changes;
      return added;
    },
    due: (now, limit) => due.all(now, limit).map(fromRow),
    claim: (now, limit, claimant, until) => inDueOrder(claim.all({ now, limit, claimant, until }).map(fromRow)),
    release(eventId, claimant) {
      release.run(eventId, claimant);
    },
    releaseAll: () => releaseAll.run().changes,
    nextDue: () => nextDue.get()?.t ?? undefined,
    delivered(eventId, attempts, now) {
      delivered.run(attempts, now, eventId);
    },
    failed(eventId, attempts, error, retryAt, now) {
      if (retryAt === undefined) dead.run(attempts, error, now, eventId, attempts);
      else retry.run(attempts, error, retryAt, eventId, attempts);
    },
    get(eventId) {
      const row = get.get(eventId);
      return row === undefined ? undefined : fromRow(row);
    },
    list: (state, limit) => list.all(state, limit).map(fromRow),
    countByState: () => Object.fromEntries(counts.all().map((r) => [r.state, r.n])),
    prune: (before) => prune.run(before).changes,
  };
}

/** inDueOrder sorts claimed rows oldest first, as claim's query chose them (RETURNING gives them in no set order). */
export function inDueOrder(rows: Delivery[]): Delivery[] {
  return rows.sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
}
