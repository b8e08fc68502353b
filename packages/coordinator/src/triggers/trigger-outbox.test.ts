import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../store/migrate.js';
import { migrations } from '../store/migrations/index.js';
import { createTriggerOutbox } from './trigger-outbox.js';

describe('the trigger outbox', () => {
  it('is migration 009; the loop\'s question for due rows reads its index, not the whole table', () => {
    const db = new Database(':memory:');
    migrate(db, migrations);
    expect(migrations.find((m) => m.version === 9)).toMatchObject({ name: 'trigger-deliveries' });
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT * FROM trigger_deliveries WHERE state = 'pending' AND next_attempt_at <= 5 ORDER BY next_attempt_at, created_at LIMIT 16").all().map((r) => (r as { detail: string }).detail).join('\n');
    expect(plan).toMatch(/SEARCH trigger_deliveries USING INDEX trigger_deliveries_due/);
  });

  it('keeps each event id once, orders due rows by their next attempt, and counts rows by state', () => {
    const db = new Database(':memory:');
    migrate(db, migrations);
    const outbox = createTriggerOutbox(db);
    const n = (id: string) => ({ eventId: id, triggerName: 't', triggerEvent: 'DeploymentStart' as const, target: 'http://127.0.0.1:1/', subject: 's', body: '{}' });
    expect(outbox.enqueue('d-1', [n('a'), n('b'), n('a')], 100)).toBe(2);
    outbox.failed('a', 1, 'refused', 300, 100);
    expect(outbox.due(200, 10).map((d) => d.eventId)).toEqual(['b']);
    expect(outbox.due(300, 10).map((d) => d.eventId)).toEqual(['b', 'a']);
    expect(outbox.nextDue()).toBe(100);
    outbox.delivered('b', 1, 150);
    expect(outbox.nextDue()).toBe(300);
    outbox.failed('a', 2, 'refused again', undefined, 320);
    expect(outbox.nextDue()).toBeUndefined();
    expect(outbox.countByState()).toEqual({ delivered: 1, dead: 1 });
    expect(outbox.list('dead', 10)).toMatchObject([{ eventId: 'a', attempts: 2, lastError: 'refused again', finishedAt: 320, deploymentId: 'd-1' }]);
  });
});
