/**
 * The agent sessions the engine reads synchronously on PostgreSQL: answered from copies, read again
 * in the background when missing or old, with a bounded number of copies.
 */
import { describe, expect, it } from 'vitest';
import type { AgentSessionRecord } from './agent-sessions.js';
import { cachedSessionLookup } from './cached-session-lookup.js';
import { TransactionScope } from '../store/async-store.js';

const session = (name: string, disconnectedAt?: number): AgentSessionRecord => ({ instanceName: name, agentVersion: '1', connectedAt: 1, lastHeartbeatAt: 2, ...(disconnectedAt === undefined ? {} : { disconnectedAt }) });
const settle = () => new Promise((r) => setImmediate(r));

function setup(maxEntries = 10) {
  let now = 0;
  const rows = new Map<string, AgentSessionRecord>();
  const asked: string[] = [];
  const failures: string[] = [];
  let failing = false;
  const lookup = cachedSessionLookup(
    { get: async (name) => (asked.push(name), failing ? Promise.reject(new Error('down')) : rows.get(name)) },
    { maxAgeMs: 5000, maxEntries, now: () => now, failed: (_err, name) => void failures.push(name) },
  );
  return { lookup, rows, asked, failures, advance: (ms: number) => void (now += ms), fail: (f: boolean) => void (failing = f) };
}

describe('cachedSessionLookup', () => {
  it('answers unknown at first, then from the copy it read, without asking again until the copy is old', async () => {
    const t = setup();
    t.rows.set('web-1', session('web-1', 500));
    expect(t.lookup.get('web-1')).toBeUndefined();
    await settle();
    expect(t.lookup.get('web-1')?.disconnectedAt).toBe(500);
    t.advance(4999);
    t.lookup.get('web-1');
    expect(t.asked).toEqual(['web-1']);
    t.rows.set('web-1', session('web-1', 900));
    t.advance(1);
    expect(t.lookup.get('web-1')?.disconnectedAt).toBe(500); // the old copy, while the new one is read
    await settle();
    expect(t.lookup.get('web-1')?.disconnectedAt).toBe(900);
    expect(t.asked).toEqual(['web-1', 'web-1']);
  });

  it('asks once for an instance asked about again while it is read', async () => {
    const t = setup();
    t.lookup.get('web-1');
    t.lookup.get('web-1');
    await settle();
    expect(t.asked).toEqual(['web-1']);
  });

  it('keeps at most maxEntries copies, dropping the least recently read', async () => {
    const t = setup(2);
    for (const n of ['a', 'b', 'c']) {
      t.rows.set(n, session(n, 1));
      t.lookup.get(n);
      await settle();
    }
    expect(t.asked).toEqual(['a', 'b', 'c']);
    expect(t.lookup.get('c')?.instanceName).toBe('c');
    expect(t.lookup.get('b')?.instanceName).toBe('b');
    expect(t.lookup.get('a')).toBeUndefined(); // dropped: read again
    expect(t.asked).toEqual(['a', 'b', 'c', 'a']);
  });

  it('reports a failed read and answers what it had', async () => {
    const t = setup();
    t.rows.set('web-1', session('web-1', 7));
    t.lookup.get('web-1');
    await settle();
    t.fail(true);
    t.advance(5000);
    expect(t.lookup.get('web-1')?.disconnectedAt).toBe(7);
    await settle();
    expect(t.failures).toEqual(['web-1']);
    expect(t.lookup.get('web-1')?.disconnectedAt).toBe(7);
  });

  it('reads outside the transaction it is asked from (a store refuses a call that bypasses the transaction)', async () => {
    const scope = new TransactionScope();
    const failures: unknown[] = [];
    const lookup = cachedSessionLookup(
      {
        get: async (name) => {
          scope.check('get');
          return session(name, 700);
        },
      },
      { maxAgeMs: 5000, maxEntries: 10, now: () => 0, failed: (err) => void failures.push(err) },
    );
    await scope.run(async () => {
      lookup.get('web-1');
    });
    await settle();
    expect(failures).toEqual([]);
    expect(lookup.get('web-1')?.disconnectedAt).toBe(700);
  });
});
