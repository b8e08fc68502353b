/**
 * The replica store contract: what every {@link ReplicaStore} must do, run against each
 * implementation (SQLite, PostgreSQL). Time is the store's own clock: the SQLite store runs on a
 * fake clock the harness advances, the PostgreSQL one on the database server's, for which the
 * harness really waits (so its ttl is short, but long against a statement's round trip).
 */
import { afterEach, expect, it } from 'vitest';
import type { AgentSessionRecord } from '../fleet/agent-sessions.js';
import type { ReplicaStore } from '../replicas/replica-store.js';

/** SessionsOf is the part of an agent session store the contract drives, for one replica. */
export interface SessionsOf {
  connected(instanceName: string, agentVersion: string, at: number): Promise<void>;
  heartbeat(instanceName: string, at: number): Promise<void>;
  disconnected(instanceName: string, at: number, lastSeen: number): Promise<void>;
  get(instanceName: string): Promise<AgentSessionRecord | undefined>;
}

/** ReplicaStoreUnderTest is a fresh, migrated database's replica store, its agent sessions, a ttl and a way to let time pass. */
export interface ReplicaStoreUnderTest {
  replicas: ReplicaStore;
  /** sessionsOf is the agent session store of the replica `id` (undefined: a coordinator alone) on the same database. */
  sessionsOf(id: string | undefined): SessionsOf;
  ttl: number;
  elapse(ms: number): Promise<void>;
  close(): Promise<void>;
}

const at = (id: string) => ({ id, startedAt: 1_000, apiUrl: `https://${id}.test:8443`, agentAddress: `${id}.test:8444` });

/** defineReplicaStoreContract defines the contract's tests; `open` makes a fresh store for each. */
export function defineReplicaStoreContract(open: () => Promise<ReplicaStoreUnderTest>): void {
  const opened: ReplicaStoreUnderTest[] = [];
  const fresh = async (): Promise<ReplicaStoreUnderTest> => {
    const under = await open();
    opened.push(under);
    return under;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((u) => u.close()));
  });

  it('lists the replicas that joined, by id, with where they serve; joining again replaces the row', async () => {
    const { replicas, ttl } = await fresh();
    const b = await replicas.join(at('replica-b'), ttl);
    expect(b).toMatchObject(at('replica-b'));
    expect(b.aliveUntil).toBeGreaterThan(0);
    await replicas.join(at('replica-a'), ttl);
    expect((await replicas.live()).map((r) => r.id)).toEqual(['replica-a', 'replica-b']);
    await replicas.join({ ...at('replica-b'), startedAt: 2_000, apiUrl: 'https://moved.test:8443' }, ttl);
    expect(await replicas.live()).toEqual([
      { ...at('replica-a'), aliveUntil: expect.any(Number) },
      { ...at('replica-b'), startedAt: 2_000, apiUrl: 'https://moved.test:8443', aliveUntil: expect.any(Number) },
    ]);
  });

  it('renews a live row from the time of the renewal; a lapsed row is not live and cannot be renewed', async () => {
    const { replicas, ttl, elapse } = await fresh();
    const a = await replicas.join(at('replica-a'), ttl);
    await replicas.join(at('replica-b'), ttl);
    await elapse(ttl * 0.6);
    const renewed = (await replicas.renew('replica-a', ttl))!;
    expect(renewed.aliveUntil).toBeGreaterThan(a.aliveUntil);
    await elapse(ttl * 0.6); // 1.2 ttl after joining, 0.6 after a's renewal
    expect((await replicas.live()).map((r) => r.id)).toEqual(['replica-a']);
    expect(await replicas.renew('replica-b', ttl)).toBeUndefined();
    expect(await replicas.renew('replica-c', ttl)).toBeUndefined();
    // A replica seen dead joins again: a new row.
    await replicas.join(at('replica-b'), ttl);
    expect((await replicas.live()).map((r) => r.id)).toEqual(['replica-a', 'replica-b']);
  });

  it('deletes the row of a replica that leaves; it cannot renew it', async () => {
    const { replicas, ttl } = await fresh();
    await replicas.join(at('replica-a'), ttl);
    expect(await replicas.leave('replica-a')).toBe(true);
    expect(await replicas.leave('replica-a')).toBe(false);
    expect(await replicas.live()).toEqual([]);
    expect(await replicas.renew('replica-a', ttl)).toBeUndefined();
  });

  it('reaps a dead replica once: its row goes and its open sessions close at their last heartbeat; the live ones and their sessions stay', async () => {
    const { replicas, sessionsOf, ttl, elapse } = await fresh();
    await replicas.join(at('replica-a'), ttl);
    await replicas.join(at('replica-b'), ttl);
    const a = sessionsOf('replica-a');
    const b = sessionsOf('replica-b');
    await b.connected('web-01', '0.1.0', 1_000);
    await b.heartbeat('web-01', 1_500);
    await b.connected('web-02', '0.1.0', 1_000);
    await b.connected('web-03', '0.1.0', 1_000);
    await b.disconnected('web-03', 1_200, 1_100); // ended before b died: kept as it was
    await b.connected('web-04', '0.1.0', 1_000);
    await a.connected('web-04', '0.1.0', 2_000); // the agent moved to a: a's session now
    await a.connected('web-05', '0.1.0', 1_000);
    await sessionsOf(undefined).connected('web-06', '0.1.0', 1_000); // no holder: not a replica's
    await elapse(ttl * 0.6);
    await replicas.renew('replica-a', ttl);
    expect(await replicas.reap('replica-a')).toEqual([]); // b is late, not dead yet
    await elapse(ttl * 0.6);
    expect(await replicas.reap('replica-a')).toEqual([{ id: 'replica-b', apiUrl: at('replica-b').apiUrl, agentAddress: at('replica-b').agentAddress, closedSessions: 2 }]);
    expect(await a.get('web-01')).toMatchObject({ disconnectedAt: 1_500, heldBy: 'replica-b' });
    expect(await a.get('web-02')).toMatchObject({ disconnectedAt: 1_000, heldBy: 'replica-b' });
    expect(await a.get('web-03')).toMatchObject({ disconnectedAt: 1_200 });
    for (const open of ['web-04', 'web-05', 'web-06']) expect(await a.get(open), open).not.toHaveProperty('disconnectedAt');
    expect((await replicas.live()).map((r) => r.id)).toEqual(['replica-a']);
    // Once: the row is gone, so a second look, by this replica or another, finds nothing to reap.
    expect(await replicas.reap('replica-a')).toEqual([]);
    expect(await replicas.reap('replica-c')).toEqual([]);
  });

  it('never reaps the caller itself, even when its own row has lapsed', async () => {
    const { replicas, sessionsOf, ttl, elapse } = await fresh();
    await replicas.join(at('replica-a'), ttl);
    await sessionsOf('replica-a').connected('web-01', '0.1.0', 1_000);
    await elapse(ttl * 1.3);
    expect(await replicas.reap('replica-a')).toEqual([]);
    expect(await sessionsOf('replica-a').get('web-01')).not.toHaveProperty('disconnectedAt');
    // Another replica looking reaps it.
    expect((await replicas.reap('replica-b')).map((r) => r.id)).toEqual(['replica-a']);
  });

  it('with everyOther, reaps every row but the caller\'s, lapsed or not (a coordinator alone on its database)', async () => {
    const { replicas, sessionsOf, ttl } = await fresh();
    await replicas.join(at('replica-old'), ttl);
    await sessionsOf('replica-old').connected('web-01', '0.1.0', 1_000);
    await replicas.join(at('replica-new'), ttl);
    expect(await replicas.reap('replica-new')).toEqual([]);
    expect(await replicas.reap('replica-new', { everyOther: true })).toEqual([{ id: 'replica-old', apiUrl: at('replica-old').apiUrl, agentAddress: at('replica-old').agentAddress, closedSessions: 1 }]);
    expect(await sessionsOf('replica-new').get('web-01')).toMatchObject({ disconnectedAt: 1_000 });
    expect((await replicas.live()).map((r) => r.id)).toEqual(['replica-new']);
  });

  it('refuses a ttl that is not a positive whole number of milliseconds, naming it', async () => {
    const { replicas } = await fresh();
    await expect(replicas.join(at('replica-a'), 0)).rejects.toThrow('replica membership ttl: expected a positive whole number of milliseconds, got 0');
    await expect(replicas.renew('replica-a', 1.5)).rejects.toThrow('replica membership ttl: expected a positive whole number of milliseconds, got 1.5');
    expect(await replicas.live()).toEqual([]);
  });
}
