/**
 * TriggerOutbox keeps the notifications owed to trigger targets (migration 009) on the coordinator's
 * database, so enqueueing joins the engine's transactions.
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
}

/** TriggerOutbox reads and writes the outbox. */
export interface TriggerOutbox {
  /** enqueue adds notifications; one whose event id is already there (a repeated event) is left as it is. */
  enqueue(deploymentId: string, notifications: readonly Notification[], now: number): number;
  /** due lists pending deliveries whose time has come, oldest first. */
  due(now: number, limit: number): Delivery[];
  /** nextDue is the earliest next attempt of a pending delivery. */
  nextDue(): number | undefined;
  /** delivered records a delivery after `attempts` attempts; a row already delivered keeps its first record. */
  delivered(eventId: string, attempts: number, now: number): void;
  /**
   * failed records a failed attempt: pending again at `retryAt`, or dead without one. Ignored unless
   * the row is pending with fewer attempts (a late report of an earlier attempt).
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
  };
}

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
  const nextDue = db.prepare<[], { t: number | null }>("SELECT MIN(next_attempt_at) AS t FROM trigger_deliveries WHERE state = 'pending'");
  const delivered = db.prepare(`UPDATE trigger_deliveries SET state = 'delivered', attempts = ?, finished_at = ?, last_error = NULL WHERE event_id = ? AND state <> 'delivered'`);
  const retry = db.prepare(`UPDATE trigger_deliveries SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE event_id = ? AND state = 'pending' AND attempts < ?`);
  const dead = db.prepare(`UPDATE trigger_deliveries SET state = 'dead', attempts = ?, last_error = ?, finished_at = ? WHERE event_id = ? AND state = 'pending' AND attempts < ?`);
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
