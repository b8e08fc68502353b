/**
 * Migration 6: the traffic journal of Lambda (and later ECS) deployments. One row per deployment
 * holds its {@link TrafficState} (deployment/traffic/plan.ts): the step it is at and when that step
 * was applied, the hook executions and their reported statuses, and how it ends. The driver writes
 * the row before each action, so a restarted coordinator resumes at the recorded weight.
 *
 *   traffic_shifts  deployment id → state document
 */

/**
 * migration is the traffic journal, applied after the earlier versions.
 * Append-only: change the schema with a new migration, never by editing this one.
 */
export const migration = {
  version: 6,
  name: 'traffic-shifts',
  sql: `
CREATE TABLE traffic_shifts (
  deployment_id TEXT NOT NULL PRIMARY KEY,
  doc           TEXT NOT NULL
) STRICT;
`,
};
