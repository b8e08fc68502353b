/**
 * Migration 20: an IAM user or session ARN is used by at most one registered instance, kept by the
 * database itself. RegisterOnPremisesInstance checked it by reading first; on PostgreSQL, where
 * replicas register concurrently at SERIALIZABLE, those reads of index pages others were writing
 * made most concurrent registrations refuse each other (issue 13). A registration is now one write
 * that these indexes refuse when an ARN is taken (Store.registerInstance).
 */

/** migration is the unique ARN indexes. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 20,
  name: 'unique-instance-arns',
  sql: `
CREATE UNIQUE INDEX registered_instances_unique_user_arn ON instances (json_extract(doc, '$.iamUserArn'))
  WHERE json_extract(doc, '$.deregisterTime') IS NULL AND json_extract(doc, '$.iamUserArn') IS NOT NULL;
CREATE UNIQUE INDEX registered_instances_unique_session_arn ON instances (json_extract(doc, '$.iamSessionArn'))
  WHERE json_extract(doc, '$.deregisterTime') IS NULL AND json_extract(doc, '$.iamSessionArn') IS NOT NULL;
`,
} as const;
