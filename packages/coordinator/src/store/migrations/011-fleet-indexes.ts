/**
 * Migration 11: what the API and the engine look instances and deployments up by, so that a call
 * touches the rows it needs instead of reading the whole fleet (issue 14):
 * - instance_tags holds each registered instance's tags as rows (the instance's doc keeps them too,
 *   as the record of truth): a group's tag filters find their instances through its indexes;
 * - registered instances by IAM user or session ARN, for RegisterOnPremisesInstance's uniqueness rule;
 * - the active deployments, a few rows among the whole history;
 * - deployments.rev, a value each write of a deployment changes, so that the store can tell that the
 *   document it parsed last is still current without reading the document (tens of kilobytes with
 *   the plan of 1,000 targets, read for every command, ack and result).
 * Existing rows are copied in, so a data directory from before takes the indexes as it is.
 */

/** migration is the fleet indexes. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 11,
  name: 'fleet-indexes',
  sql: `
CREATE TABLE instance_tags (
  instance TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (instance, key, value)
);
CREATE INDEX instance_tags_by_key_value ON instance_tags (key, value);
CREATE INDEX instance_tags_by_value ON instance_tags (value);
INSERT OR IGNORE INTO instance_tags (instance, key, value)
  SELECT i.name, json_extract(t.value, '$.Key'), json_extract(t.value, '$.Value')
  FROM instances i, json_each(i.doc, '$.tags') t
  WHERE json_extract(i.doc, '$.deregisterTime') IS NULL;
CREATE INDEX registered_instances_by_user_arn ON instances (json_extract(doc, '$.iamUserArn'))
  WHERE json_extract(doc, '$.deregisterTime') IS NULL;
CREATE INDEX registered_instances_by_session_arn ON instances (json_extract(doc, '$.iamSessionArn'))
  WHERE json_extract(doc, '$.deregisterTime') IS NULL;
CREATE INDEX active_deployments ON deployments (seq)
  WHERE status NOT IN ('Succeeded', 'Failed', 'Stopped');
ALTER TABLE deployments ADD COLUMN rev TEXT;
`,
} as const;
