import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../store/migrate.js';
import { migrations } from '../store/migrations/index.js';

// Its behaviour is the side store contract's (testing/side-store-contract.ts), run on SQLite and PostgreSQL.
describe('the trigger outbox', () => {
  it('is migration 009; the loop\'s question for due rows reads its index, not the whole table', () => {
    const db = new Database(':memory:');
    migrate(db, migrations);
    expect(migrations.find((m) => m.version === 9)).toMatchObject({ name: 'trigger-deliveries' });
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT * FROM trigger_deliveries WHERE state = 'pending' AND next_attempt_at <= 5 ORDER BY next_attempt_at, created_at LIMIT 16").all().map((r) => (r as { detail: string }).detail).join('\n');
    expect(plan).toMatch(/SEARCH trigger_deliveries USING INDEX trigger_deliveries_due/);
  });
});
