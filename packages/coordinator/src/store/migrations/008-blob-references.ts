/**
 * Migration 8: lets the blob collector ask cheaply whether a deployment still names a blob. A
 * deployment's bundle lives inside its JSON document (`doc.bundle.sha256`); this expression index
 * answers `json_extract(doc, '$.bundle.sha256') = ?` without reading every deployment.
 */

/** migration is the index of deployments by bundle. Append-only: change it with a new migration, never by editing this one. */
export const migration = {
  version: 8,
  name: 'blob-references',
  sql: `
CREATE INDEX deployments_by_bundle ON deployments (json_extract(doc, '$.bundle.sha256'));
`,
} as const;
