/**
 * Migration 5: resource tags, the `Tags` of TagResource / ListTagsForResource and of
 * CreateApplication / CreateDeploymentGroup. A tag belongs to a resource's id (an application's
 * applicationId, a group's deploymentGroupId), not to its name, so a rename keeps its tags and a
 * resource made again under a deleted one's name starts with none.
 *
 *   resource_tags  (resource id, key) → value, with the tag's position in the resource's list
 */

/**
 * migration is the resource-tag table, applied after the earlier versions.
 * Append-only: change the schema with a new migration, never by editing this one.
 */
export const migration = {
  version: 5,
  name: 'resource-tags',
  sql: `
CREATE TABLE resource_tags (
  resource_id TEXT    NOT NULL,
  key         TEXT    NOT NULL,
  value       TEXT    NOT NULL,
  position    INTEGER NOT NULL,
  PRIMARY KEY (resource_id, key)
) STRICT, WITHOUT ROWID;
`,
};
