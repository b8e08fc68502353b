/**
 * Migration 13: a deployment target's status as a column beside its document, so that GetDeployment
 * counts a deployment's instances by status (its deploymentOverview) and names the unfinished ones
 * without reading and parsing every target's record: with 10 deployments of 1,000 instances polled
 * four times a second (bench-fleet), that parsing was a quarter of the coordinator's CPU.
 */

/** migration adds deployment_targets.status. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 13,
  name: 'target-status',
  sql: `
ALTER TABLE deployment_targets ADD COLUMN status TEXT NOT NULL DEFAULT '';
UPDATE deployment_targets SET status = COALESCE(json_extract(doc, '$.status'), '');
CREATE INDEX deployment_targets_by_status ON deployment_targets (deployment_id, status);
`,
} as const;
