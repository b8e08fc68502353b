import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../store/migrate.js';
import { migrations } from '../store/migrations/index.js';
import { CLAIM_SQL } from './trigger-outbox.js';

// Its behaviour is the side store contract's (testing/side-store-contract.ts), run on SQLite and PostgreSQL.
describe('the trigger outbox', () => {
  it('is migration 009 and 015; the loop\'s claim of due rows reads the due index, not the whole table', () => {
    const db = new Database(':memory:');
    migrate(db, migrations);
    expect(migrations.find((m) => m.version === 9)).toMatchObject({ name: 'trigger-deliveries' });
    expect(migrations.find((m) => m.version === 15)).toMatchObject({ name: 'trigger-claims' });
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${CLAIM_SQL}`)
      .all({ now: 5, limit: 16, claimant: 'r', until: 9 })
      .map((r) => (r as { detail: string }).detail)
      .join('\n');
    expect(plan).toMatch(/SEARCH trigger_deliveries USING INDEX trigger_deliveries_due/);
  });
});
