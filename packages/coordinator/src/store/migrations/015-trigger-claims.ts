/**
 * Migration 15: claims on trigger deliveries, so that several coordinator replicas on one database
 * (issue 13) do not send the same notification at the same time. A replica's delivery loop claims
 * the due rows it is about to send (triggers/trigger-outbox.ts):
 *
 *   claimed_by     the replica id sending the row; NULL when no attempt is under way
 *   claimed_until  when the claim lapses (epoch ms): a replica that died mid-send leaves a claim
 *                  that lapses, and then another replica may take the row
 *
 * A report of the attempt (delivered, failed) clears the claim. Rows from before this migration
 * have no claim, so they are sent as before.
 */

/** migration adds the claim columns. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 15,
  name: 'trigger-claims',
  sql: `
ALTER TABLE trigger_deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE trigger_deliveries ADD COLUMN claimed_until INTEGER;
`,
} as const;
