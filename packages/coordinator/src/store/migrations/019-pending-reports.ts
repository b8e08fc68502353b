/**
 * Migration 19: agents' reports waiting for the replica that drives their deployment, for several
 * coordinator replicas on one database (issue 13). An agent's ack or result reaches the replica it
 * is connected to; when another replica holds the deployment's lease, the report is stored here
 * before the agent is acknowledged, and the owner applies it and deletes it in one transaction
 * (deployment/engine.ts), so a report is neither lost nor applied twice when a replica dies.
 *
 *   seq            the order the reports were stored in
 *   deployment_id  the deployment of the command reported on (the owner reads its own)
 *   instance       the instance whose agent reported
 *   command_id     the command reported on
 *   received_at    when the replica received it, epoch milliseconds
 *   doc            the report as JSON (the agent's result, or nothing for an ack)
 */

/** migration is the pending_reports table. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 19,
  name: 'pending-reports',
  sql: `
CREATE TABLE pending_reports (
  seq INTEGER PRIMARY KEY,
  deployment_id TEXT NOT NULL,
  instance TEXT NOT NULL,
  command_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX pending_reports_by_deployment ON pending_reports (deployment_id, seq);
`,
} as const;
