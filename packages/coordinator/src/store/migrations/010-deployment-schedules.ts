/**
 * Migration 10: deployments scheduled for a cron time (`FleetDeploy_20261204.CreateDeploymentSchedule`),
 * kept so that a coordinator restarted before the time still creates them. Version 9 is left to a
 * migration of another branch.
 */

/** migration is the schedules table. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 10,
  name: 'deployment-schedules',
  sql: `
CREATE TABLE deployment_schedules (
  schedule_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  doc TEXT NOT NULL
);
`,
} as const;
