/**
 * What keeps a blob alive, read from the database: the bucket's live objects, the parts of its
 * unfinished multipart uploads, and every deployment's bundle (migrations 002 and 008).
 *
 * The deployment rule is deliberately the simplest safe one: a blob named by ANY deployment record
 * is never collected, whatever the deployment's status. Agents download a running deployment's
 * bundle, and rollbacks and auto-updates copy a past deployment's bundle (deployment/engine.ts
 * copyDeployment), so finished deployments must keep theirs too. Deployment records are not deleted,
 * so a deployed bundle stays on disk for as long as the coordinator's history does.
 */
import type Database from 'better-sqlite3';

/** BlobReferences answers the collector's two questions; both read committed rows only. */
export interface BlobReferences {
  /** all is the SHA-256 of every referenced blob: the mark phase of a sweep. */
  all(): Set<string>;
  /** has tells whether anything references this blob now (three indexed lookups). */
  has(sha256: string): boolean;
}

/** createBlobReferences prepares the queries over a database with migrations 002 and 008 applied. */
export function createBlobReferences(db: Database.Database): BlobReferences {
  const all = db.prepare<[], { sha256: string }>(
    `SELECT sha256 FROM bucket_objects
     UNION SELECT sha256 FROM bucket_upload_parts
     UNION SELECT json_extract(doc, '$.bundle.sha256') AS sha256 FROM deployments
       WHERE json_extract(doc, '$.bundle.sha256') IS NOT NULL`,
  );
  const one = db.prepare<{ sha256: string }, { one: number }>(
    `SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM bucket_objects WHERE sha256 = @sha256)
       OR EXISTS (SELECT 1 FROM bucket_upload_parts WHERE sha256 = @sha256)
       OR EXISTS (SELECT 1 FROM deployments WHERE json_extract(doc, '$.bundle.sha256') = @sha256)`,
  );
  return {
    all: () => new Set(all.all().map((r) => r.sha256)),
    has: (sha256) => one.get({ sha256 }) !== undefined,
  };
}
