/**
 * Migration 9: the trigger outbox. One row per notification owed to one trigger's target (an SNS
 * topic or a webhook URL), written with the engine step that produced its event, so a coordinator
 * killed before sending it sends it after it restarts (triggers/trigger-delivery.ts).
 *
 *   trigger_deliveries  event id → target, message, attempts so far, next attempt, state
 *   state: pending (to send at next_attempt_at), delivered, dead (gave up after the configured attempts)
 */

/** migration is the trigger outbox. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 9,
  name: 'trigger-deliveries',
  sql: `
CREATE TABLE trigger_deliveries (
  event_id        TEXT NOT NULL PRIMARY KEY,
  deployment_id   TEXT NOT NULL,
  trigger_name    TEXT NOT NULL,
  trigger_event   TEXT NOT NULL,
  target          TEXT NOT NULL,
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  last_error      TEXT,
  finished_at     INTEGER
) STRICT;
CREATE INDEX trigger_deliveries_due ON trigger_deliveries (state, next_attempt_at);
`,
} as const;
