import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';

// What the references are is the side store contract's (testing/side-store-contract.ts), on SQLite and PostgreSQL.
describe('blob references', () => {
  it('migration 008 indexes deployments by bundle, and the per-blob question uses every index', () => {
    const db = new Database(':memory:');
    migrate(db, migrations);
    expect(migrations.find((m) => m.version === 8)).toMatchObject({ name: 'blob-references' });
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT 1 AS one WHERE EXISTS (SELECT 1 FROM bucket_objects WHERE sha256 = @sha256)
           OR EXISTS (SELECT 1 FROM bucket_upload_parts WHERE sha256 = @sha256)
           OR EXISTS (SELECT 1 FROM deployments WHERE json_extract(doc, '$.bundle.sha256') = @sha256)`,
      )
      .all({ sha256: 'a'.repeat(64) })
      .map((r) => (r as { detail: string }).detail)
      .join('\n');
    expect(plan).toContain('bucket_objects_sha256');
    expect(plan).toContain('bucket_upload_parts_sha256');
    expect(plan).toMatch(/SEARCH deployments USING (COVERING )?INDEX deployments_by_bundle/);
    expect(plan).not.toMatch(/SCAN deployments/);

    db.close();
  });
});
