/**
 * The side stores' contract: what the access keys, certificates, agent sessions, trigger outbox,
 * blob references, traffic journal and bucket store must do, as one list of tests per store run against each
 * implementation (SQLite's, wrapped by store/promised.ts, and PostgreSQL's, store/pg). Each store
 * also has a race: two coordinators ("replicas", a second connection to the same database) doing
 * the same thing at once, with no update lost. On SQLite the second connection's calls run one
 * after the other, so the race is trivially won there; on PostgreSQL they interleave.
 * Call {@link defineSideStoreContract} inside a describe block.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AsyncStore } from '../store/async-store.js';
import type { BucketStoreOptions, NewObject } from '../store/bucket-store.js';
import { DEFAULT_CONTENT_TYPE, isBucketStoreError } from '../store/bucket-store.js';
import { multipartEtag } from '../store/multipart-completion.js';
import type { AsyncBucketStore } from '../store/pg/pg-bucket-store.js';
import type { AsyncAccessKeyStore, AsyncAgentSessionStore, AsyncBlobReferences, AsyncCertificateStore, AsyncTriggerOutbox } from '../store/pg/pg-side-stores.js';
import type { TrafficJournal } from '../store/traffic-store.js';
import type { HookExecution } from '../deployment/traffic/plan.js';
import { newTrafficState } from '../deployment/traffic/plan.js';
import { deploymentRecord } from './record-builders.js';

/** SideStores are one coordinator's side stores over one database. */
export interface SideStores {
  /** store is the main store on the same database, for the records the side stores read (deployments). */
  store: AsyncStore;
  accessKeys: AsyncAccessKeyStore;
  certificates: AsyncCertificateStore;
  /** sessions are a coordinator's that runs alone (no replica id). */
  sessions: AsyncAgentSessionStore;
  /** sessionsOf are the sessions as the replica `replicaId` keeps them, on this coordinator's connection. */
  sessionsOf(replicaId: string): AsyncAgentSessionStore;
  outbox: AsyncTriggerOutbox;
  references: AsyncBlobReferences;
  buckets(options?: BucketStoreOptions): AsyncBucketStore;
  /** The traffic journal, through the store or one of its transactions' handles. */
  traffic: TrafficJournal;
  close(): Promise<void>;
}

/** SideStoresUnderTest are a fresh database's side stores, and a way to open a second coordinator's on it. */
export interface SideStoresUnderTest extends SideStores {
  replica(): Promise<SideStores>;
}

const sha = (c: string): string => c.repeat(64);

/** refusal awaits `p` and returns the code and message of the BucketStoreError it rejects with. */
async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isBucketStoreError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

/** defineSideStoreContract defines the contract's tests; `open` makes fresh, empty side stores for each. */
export function defineSideStoreContract(open: () => Promise<SideStoresUnderTest>): void {
  const opened: SideStores[] = [];
  const fresh = async (): Promise<SideStoresUnderTest> => {
    const under = await open();
    opened.push(under);
    return {
      ...under,
      replica: async () => {
        const other = await under.replica();
        opened.push(other);
        return other;
      },
    };
  };
  afterEach(async () => {
    for (const s of opened.splice(0).reverse()) await s.close();
  });

  describe('access keys', () => {
    it('creates, gets, lists (without secrets) and revokes keys, keeping the first revocation time', async () => {
      const { accessKeys: keys } = await fresh();
      const a = await keys.create('admin', 1000);
      const d = await keys.create('deployer', 2000);
      expect(await keys.get(d.id)).toEqual({ id: d.id, secret: d.secret, role: 'deployer', createdAt: 2000 });
      expect(await keys.get('AKIANOSUCHKEYNOSUCH0')).toBeUndefined();
      expect(await keys.revoke(d.id, 3000)).toBe(true);
      expect(await keys.revoke(d.id, 4000)).toBe(true);
      expect(await keys.revoke('AKIANOSUCHKEYNOSUCH0', 4000)).toBe(false);
      expect(await keys.list()).toEqual([
        { id: a.id, role: 'admin', createdAt: 1000 },
        { id: d.id, role: 'deployer', createdAt: 2000, revokedAt: 3000 },
      ]);
      expect(JSON.stringify(await keys.list())).not.toContain(a.secret);
      expect(await keys.count()).toBe(2);
    });

    it('sees keys another coordinator (or the keys command) writes, with no restart', async () => {
      const { accessKeys: keys, replica } = await fresh();
      const other = (await replica()).accessKeys;
      const made = await other.create('read-only', 5);
      expect((await keys.get(made.id))?.role).toBe('read-only');
      await other.revoke(made.id, 6);
      expect((await keys.get(made.id))?.revokedAt).toBe(6);
    });

    it('race: two coordinators creating and revoking keys at once lose none, and a key keeps one revocation time', async () => {
      const { accessKeys: keys, replica } = await fresh();
      const other = (await replica()).accessKeys;
      const made = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? keys : other).create('deployer', i)));
      expect(await keys.count()).toBe(20);
      expect(new Set((await other.list()).map((k) => k.id))).toEqual(new Set(made.map((k) => k.id)));
      const target = made[0]!.id;
      expect(await Promise.all([keys.revoke(target, 100), other.revoke(target, 200), keys.revoke(target, 300)])).toEqual([true, true, true]);
      const revokedAt = (await other.get(target))?.revokedAt;
      expect([100, 200, 300]).toContain(revokedAt);
      expect((await keys.get(target))?.revokedAt).toBe(revokedAt);
    });
  });

  describe('certificates and enrolment tokens', () => {
    const token = (id: string, instanceName = 'web-01') => ({ tokenId: id, instanceName, secretSha256: sha('5'), createdAt: 10, expiresAt: 1_000 });
    const cert = (serial: string, issuedAt: number, instanceName = 'web-01') => ({ serial, instanceName, notBefore: issuedAt, notAfter: issuedAt + 100, issuedAt });

    it('keeps tokens; a token is used once; retiring an instance\'s tokens marks its unused ones only', async () => {
      const { certificates: c } = await fresh();
      await c.putToken(token('t-1'));
      await c.putToken(token('t-2'));
      await c.putToken(token('t-3'));
      await c.putToken({ ...token('t-4', 'web-02') });
      expect(await c.getToken('t-1')).toEqual(token('t-1'));
      expect(await c.getToken('nope')).toBeUndefined();
      expect(await c.useToken('t-1', 50)).toBe(true);
      expect(await c.useToken('t-1', 60)).toBe(false);
      expect(await c.useToken('nope', 60)).toBe(false);
      expect(await c.getToken('t-1')).toEqual({ ...token('t-1'), usedAt: 50 });
      expect(await c.retireTokens('web-01', 70)).toBe(2);
      expect(await c.retireTokens('web-01', 80)).toBe(0);
      expect((await c.getToken('t-2'))?.usedAt).toBe(70);
      expect((await c.getToken('t-1'))?.usedAt).toBe(50);
      expect((await c.getToken('t-4'))?.usedAt).toBeUndefined();
    });

    it('refuses a second token or certificate with the same id', async () => {
      const { certificates: c } = await fresh();
      await c.putToken(token('t-1'));
      await expect(c.putToken(token('t-1'))).rejects.toThrow(/unique|UNIQUE|duplicate/);
      await c.putCertificate(cert('01', 1));
      await expect(c.putCertificate(cert('01', 2))).rejects.toThrow(/unique|UNIQUE|duplicate/);
      expect((await c.getCertificate('01'))?.issuedAt).toBe(1);
    });

    it('lists an instance\'s certificates by issue time and revokes all but the one kept, once', async () => {
      const { certificates: c } = await fresh();
      await c.putCertificate(cert('03', 30));
      await c.putCertificate(cert('01', 10));
      await c.putCertificate(cert('02', 20));
      await c.putCertificate(cert('09', 5, 'web-02'));
      expect((await c.listCertificates('web-01')).map((x) => x.serial)).toEqual(['01', '02', '03']);
      expect(await c.getCertificate('01')).toEqual(cert('01', 10));
      expect(await c.getCertificate('nope')).toBeUndefined();
      expect(await c.revokeInstance('web-01', 40, 're-enrolled', '03')).toBe(2);
      expect(await c.revokeInstance('web-01', 50, 'deregistered')).toBe(1);
      expect(await c.revokeInstance('web-01', 60, 'again')).toBe(0);
      expect(await c.listCertificates('web-01')).toEqual([
        { ...cert('01', 10), revokedAt: 40, revokeReason: 're-enrolled' },
        { ...cert('02', 20), revokedAt: 40, revokeReason: 're-enrolled' },
        { ...cert('03', 30), revokedAt: 50, revokeReason: 'deregistered' },
      ]);
      expect((await c.getCertificate('09'))?.revokedAt).toBeUndefined();
    });

    it('race: of two coordinators redeeming the same token at once, exactly one succeeds', async () => {
      const { certificates: c, replica } = await fresh();
      const other = (await replica()).certificates;
      const ids = Array.from({ length: 10 }, (_, i) => `t-${i}`);
      for (const id of ids) await c.putToken(token(id));
      const results = await Promise.all(ids.flatMap((id, i) => [c.useToken(id, 100 + i), other.useToken(id, 200 + i)]));
      for (let i = 0; i < ids.length; i++) expect([results[2 * i], results[2 * i + 1]].filter(Boolean)).toHaveLength(1);
      for (const [i, id] of ids.entries()) expect([100 + i, 200 + i]).toContain((await c.getToken(id))?.usedAt);
    });
  });

  describe('agent sessions', () => {
    it('keeps the latest session of each instance: connected, heartbeats, disconnected, reconnected', async () => {
      const { sessions } = await fresh();
      expect(await sessions.get('web-01')).toBeUndefined();
      await sessions.connected('web-01', '0.1.0', 1_000);
      await sessions.heartbeat('web-01', 11_000);
      expect(await sessions.get('web-01')).toEqual({ instanceName: 'web-01', agentVersion: '0.1.0', connectedAt: 1_000, lastHeartbeatAt: 11_000 });
      await sessions.disconnected('web-01', 20_000, 15_000);
      await sessions.heartbeat('web-01', 21_000); // a late heartbeat of an ended session changes nothing
      expect(await sessions.get('web-01')).toMatchObject({ lastHeartbeatAt: 15_000, disconnectedAt: 20_000 });
      await sessions.connected('web-01', '0.2.0', 30_000);
      expect(await sessions.get('web-01')).toEqual({ instanceName: 'web-01', agentVersion: '0.2.0', connectedAt: 30_000, lastHeartbeatAt: 30_000 });
      // Disconnecting keeps a later heartbeat than the last one seen.
      await sessions.heartbeat('web-01', 40_000);
      await sessions.disconnected('web-01', 41_000, 35_000);
      expect(await sessions.get('web-01')).toMatchObject({ lastHeartbeatAt: 40_000, disconnectedAt: 41_000 });
    });

    it('records a batch of heartbeats at once, leaving ended sessions as they were', async () => {
      const { sessions } = await fresh();
      await sessions.connected('web-01', '0.1.0', 1_000);
      await sessions.connected('web-02', '0.1.0', 1_000);
      await sessions.disconnected('web-02', 5_000, 4_000);
      await sessions.heartbeats(new Map([['web-01', 9_000], ['web-02', 9_000], ['web-03', 9_000]]));
      await sessions.heartbeats(new Map());
      expect(await sessions.get('web-01')).toMatchObject({ lastHeartbeatAt: 9_000 });
      expect(await sessions.get('web-02')).toMatchObject({ lastHeartbeatAt: 4_000, disconnectedAt: 5_000 });
      expect(await sessions.get('web-03')).toBeUndefined();
    });

    it('names a deployment\'s running targets whose agent has no open session, in one read', async () => {
      const { store, sessions } = await fresh();
      await store.addTargets(['web-01', 'web-02', 'web-03', 'web-04'].map((n) => ({ deploymentId: 'd-1', targetId: n, status: 'Pending', lifecycleEvents: [], lastUpdatedAt: 0 })));
      await store.putTarget({ deploymentId: 'd-1', targetId: 'web-04', status: 'Succeeded', lifecycleEvents: [], lastUpdatedAt: 0 });
      await store.putTarget({ deploymentId: 'd-1', targetId: 'web-03', status: 'InProgress', lifecycleEvents: [], lastUpdatedAt: 0 });
      await sessions.connected('web-01', '0.1.0', 1_000);
      await sessions.connected('web-02', '0.1.0', 1_000);
      await sessions.disconnected('web-02', 5_000, 4_000);
      // web-01 is connected, web-02 went offline, web-03 never connected, web-04 is done.
      expect((await store.targetIdsAwaitingAgent('d-1')).sort()).toEqual(['web-02', 'web-03']);
      expect(await store.targetIdsAwaitingAgent('d-9')).toEqual([]);
    });

    it('names, of several instances at once, those whose agent is not connected, with its last session if it ever connected', async () => {
      const { sessions } = await fresh();
      await sessions.connected('web-01', '0.1.0', 1_000);
      await sessions.connected('web-02', '0.1.0', 2_000);
      await sessions.disconnected('web-02', 5_000, 4_000);
      const found = await sessions.notConnected(['web-02', 'web-03', 'web-01']);
      expect(found.map((s) => s.instanceName).sort()).toEqual(['web-02', 'web-03']);
      expect(found.find((s) => s.instanceName === 'web-02')?.session).toMatchObject({ instanceName: 'web-02', disconnectedAt: 5_000, lastHeartbeatAt: 4_000 });
      expect(found.find((s) => s.instanceName === 'web-03')?.session).toBeUndefined();
      expect(await sessions.notConnected([])).toEqual([]);
    });

    it('closes the sessions a previous process left open, at their last heartbeat', async () => {
      const { sessions, replica } = await fresh();
      await sessions.connected('web-01', '0.1.0', 1_000);
      await sessions.heartbeat('web-01', 5_000);
      await sessions.connected('web-02', '0.1.0', 1_000);
      await sessions.disconnected('web-02', 3_000, 2_000);
      const after = (await replica()).sessions; // the next process, on the same database
      expect(await after.closeAbandoned()).toBe(1);
      expect(await after.get('web-01')).toMatchObject({ disconnectedAt: 5_000 });
      expect(await after.get('web-02')).toMatchObject({ disconnectedAt: 3_000 });
      expect(await after.closeAbandoned()).toBe(0);
    });

    it('records which replica holds a session; a reconnection elsewhere moves it', async () => {
      const { sessions, sessionsOf, replica } = await fresh();
      const a = sessionsOf('replica-a');
      const b = (await replica()).sessionsOf('replica-b');
      await a.connected('web-01', '0.1.0', 1_000);
      expect(await sessions.get('web-01')).toEqual({ instanceName: 'web-01', agentVersion: '0.1.0', connectedAt: 1_000, lastHeartbeatAt: 1_000, heldBy: 'replica-a' });
      await b.connected('web-01', '0.1.0', 2_000);
      expect(await a.get('web-01')).toMatchObject({ connectedAt: 2_000, heldBy: 'replica-b' });
      await sessions.connected('web-01', '0.1.0', 3_000); // a coordinator alone: no holder
      expect(await a.get('web-01')).not.toHaveProperty('heldBy');
    });

    it('a late end or heartbeat of a stream on a replica that no longer holds the session leaves the session as it is', async () => {
      const { sessionsOf, replica } = await fresh();
      const a = sessionsOf('replica-a');
      const b = (await replica()).sessionsOf('replica-b');
      await a.connected('web-01', '0.1.0', 1_000);
      await b.connected('web-01', '0.1.0', 2_000); // the agent moved to b before a saw its stream end
      await a.heartbeat('web-01', 2_500);
      await a.heartbeats(new Map([['web-01', 2_600]]));
      await a.disconnected('web-01', 3_000, 2_500);
      expect(await b.get('web-01')).toEqual({ instanceName: 'web-01', agentVersion: '0.1.0', connectedAt: 2_000, lastHeartbeatAt: 2_000, heldBy: 'replica-b' });
      await b.heartbeats(new Map([['web-01', 4_000]]));
      await b.disconnected('web-01', 5_000, 4_000);
      expect(await a.get('web-01')).toMatchObject({ lastHeartbeatAt: 4_000, disconnectedAt: 5_000, heldBy: 'replica-b' });
    });

    it('a replica starting closes the sessions it left open itself and those no replica holds, not those other replicas hold', async () => {
      const { sessions, sessionsOf, replica } = await fresh();
      await sessionsOf('replica-a').connected('web-01', '0.1.0', 1_000);
      await sessionsOf('replica-a').heartbeat('web-01', 1_500);
      await (await replica()).sessionsOf('replica-b').connected('web-02', '0.1.0', 1_000);
      await sessions.connected('web-03', '0.1.0', 1_000); // from a coordinator that ran alone
      const restarted = (await replica()).sessionsOf('replica-a'); // replica-a's next process
      expect(await restarted.closeAbandoned()).toBe(2);
      expect(await restarted.get('web-01')).toMatchObject({ disconnectedAt: 1_500, heldBy: 'replica-a' });
      expect(await restarted.get('web-03')).toMatchObject({ disconnectedAt: 1_000 });
      expect(await restarted.get('web-02')).not.toHaveProperty('disconnectedAt'); // replica-b is alive and holds it
      expect(await restarted.closeAbandoned()).toBe(0);
      // a coordinator alone closes only the sessions with no holder (it never shares a database with replicas)
      expect(await sessions.closeAbandoned()).toBe(0);
    });

    it('race: two coordinators writing overlapping heartbeat batches, in opposite orders, at once: none refused, the latest kept', async () => {
      const { sessions, replica } = await fresh();
      const other = (await replica()).sessions;
      const names = Array.from({ length: 40 }, (_, i) => `web-${String(i).padStart(2, '0')}`);
      for (const n of names) await sessions.connected(n, '0.1.0', 0);
      for (let round = 1; round <= 10; round++) {
        await Promise.all([
          sessions.heartbeats(new Map(names.map((n) => [n, round]))),
          other.heartbeats(new Map([...names].reverse().map((n) => [n, round]))),
          sessions.heartbeats(new Map(names.slice(10, 30).map((n) => [n, round]))),
        ]);
      }
      for (const n of names) expect((await other.get(n))?.lastHeartbeatAt).toBe(10);
    });
  });

  describe('the trigger outbox', () => {
    const n = (id: string, over: Record<string, string> = {}) => ({ eventId: id, triggerName: 't', triggerEvent: 'DeploymentStart' as const, target: 'http://127.0.0.1:1/', subject: 's', body: '{}', ...over });

    it('keeps each event id once, orders due rows by their next attempt, and counts rows by state', async () => {
      const { outbox } = await fresh();
      expect(await outbox.enqueue('d-1', [n('a'), n('b'), n('a')], 100)).toBe(2);
      expect(await outbox.enqueue('d-1', [], 100)).toBe(0);
      await outbox.failed('a', 1, 'refused', 300, 100);
      expect((await outbox.due(200, 10)).map((d) => d.eventId)).toEqual(['b']);
      expect((await outbox.due(300, 10)).map((d) => d.eventId)).toEqual(['b', 'a']);
      expect((await outbox.due(300, 1)).map((d) => d.eventId)).toEqual(['b']);
      expect(await outbox.nextDue()).toBe(100);
      await outbox.delivered('b', 1, 150);
      expect(await outbox.nextDue()).toBe(300);
      await outbox.failed('a', 2, 'refused again', undefined, 320);
      expect(await outbox.nextDue()).toBeUndefined();
      expect(await outbox.countByState()).toEqual({ delivered: 1, dead: 1 });
      expect(await outbox.list('dead', 10)).toMatchObject([{ eventId: 'a', attempts: 2, lastError: 'refused again', finishedAt: 320, deploymentId: 'd-1' }]);
      expect(await outbox.get('b')).toEqual({ ...n('b'), deploymentId: 'd-1', createdAt: 100, attempts: 1, nextAttemptAt: 100, state: 'delivered', finishedAt: 150 });
      expect(await outbox.get('nope')).toBeUndefined();
    });

    it('lists newest first and prunes delivered rows finished before a time', async () => {
      const { outbox } = await fresh();
      await outbox.enqueue('d-1', [n('old')], 100);
      await outbox.enqueue('d-2', [n('new', { body: '{"x":1}' })], 200);
      await outbox.enqueue('d-2', [n('pending')], 300);
      expect((await outbox.list('pending', 10)).map((d) => d.eventId)).toEqual(['pending', 'new', 'old']);
      expect((await outbox.list('pending', 2)).map((d) => d.eventId)).toEqual(['pending', 'new']);
      await outbox.delivered('old', 1, 110);
      await outbox.delivered('new', 1, 210);
      expect(await outbox.prune(200)).toBe(1);
      expect(await outbox.get('old')).toBeUndefined();
      expect((await outbox.get('new'))?.body).toBe('{"x":1}');
      expect(await outbox.countByState()).toEqual({ delivered: 1, pending: 1 });
    });

    it('ignores a late report of an earlier attempt: a delivered row stays delivered, attempts never go back', async () => {
      const { outbox } = await fresh();
      await outbox.enqueue('d-1', [n('a'), n('b')], 100);
      await outbox.failed('a', 2, 'second attempt failed', 500, 400);
      await outbox.failed('a', 1, 'first attempt failed', 200, 150); // late
      expect(await outbox.get('a')).toMatchObject({ attempts: 2, lastError: 'second attempt failed', nextAttemptAt: 500, state: 'pending' });
      await outbox.delivered('b', 1, 120);
      await outbox.failed('b', 1, 'refused', undefined, 130);
      await outbox.delivered('b', 2, 140);
      expect(await outbox.get('b')).toMatchObject({ state: 'delivered', attempts: 1, finishedAt: 120 });
      expect((await outbox.get('b'))?.lastError).toBeUndefined();
    });

    it('claims due rows no live claim holds, oldest first, for one claimant until its claim lapses or a report clears it', async () => {
      const { outbox } = await fresh();
      await outbox.enqueue('d-1', [n('a'), n('b'), n('c')], 100);
      await outbox.failed('a', 1, 'refused', 150, 100);
      expect((await outbox.claim(200, 2, 'r-1', 1_000)).map((d) => d.eventId)).toEqual(['b', 'c']);
      expect(await outbox.get('b')).toMatchObject({ state: 'pending', attempts: 0, claimedBy: 'r-1', claimedUntil: 1_000 });
      // claimed rows are not claimed again, by anyone, until the claim lapses; the next row is
      expect((await outbox.claim(300, 10, 'r-2', 2_000)).map((d) => `${d.eventId}:${d.claimedBy}`)).toEqual(['a:r-2']);
      expect(await outbox.claim(999, 10, 'r-2', 2_000)).toEqual([]);
      // nextDue is when the earliest claim lapses, not the rows' next attempt
      expect(await outbox.nextDue()).toBe(1_000);
      // a claim lapsed (its replica died mid-send): another replica takes the rows
      expect((await outbox.claim(1_000, 10, 'r-3', 3_000)).map((d) => `${d.eventId}:${d.claimedBy}:${d.claimedUntil}`)).toEqual(['b:r-3:3000', 'c:r-3:3000']);
      // a report clears the claim: a failure is claimable at its retry time, a delivered row never
      await outbox.failed('b', 1, 'refused', 1_500, 1_100);
      await outbox.delivered('c', 1, 1_100);
      expect(await outbox.get('b')).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAt: 1_500 });
      expect(await outbox.get('b')).not.toHaveProperty('claimedBy');
      expect(await outbox.get('c')).not.toHaveProperty('claimedUntil');
      expect(await outbox.nextDue()).toBe(1_500);
      expect((await outbox.claim(1_500, 10, 'r-3', 4_000)).map((d) => d.eventId)).toEqual(['b']);
      expect((await outbox.claim(2_000, 10, 'r-3', 4_000)).map((d) => d.eventId)).toEqual(['a']); // r-2's claim lapsed at 2,000
    });

    it('releases a claim for its holder only, or every claim at once', async () => {
      const { outbox } = await fresh();
      await outbox.enqueue('d-1', [n('a'), n('b'), n('c')], 100);
      await outbox.claim(100, 2, 'r-1', 1_000);
      await outbox.claim(100, 1, 'r-2', 1_000);
      await outbox.release('a', 'r-2'); // not r-2's
      await outbox.release('b', 'r-1');
      expect(await outbox.get('a')).toMatchObject({ claimedBy: 'r-1' });
      expect(await outbox.get('b')).not.toHaveProperty('claimedBy');
      expect((await outbox.claim(200, 10, 'r-3', 1_000)).map((d) => d.eventId)).toEqual(['b']);
      expect(await outbox.releaseAll()).toBe(3);
      expect(await outbox.releaseAll()).toBe(0);
      expect((await outbox.claim(200, 10, 'r-4', 1_000)).map((d) => d.eventId)).toEqual(['a', 'b', 'c']);
    });

    it('race: coordinators claiming the same due rows at once each get different rows, and every row is claimed once', async () => {
      const { outbox, replica } = await fresh();
      const others = [(await replica()).outbox, (await replica()).outbox];
      const claimers = [outbox, ...others];
      const ids = Array.from({ length: 60 }, (_, i) => `e-${String(i).padStart(2, '0')}`);
      await outbox.enqueue('d-1', ids.map((id) => n(id)), 100);
      const got = await Promise.all(
        claimers.map(async (c, i) => {
          const mine: string[] = [];
          // bounded: were claimed rows claimable again, the loops would never run dry
          for (let round = 0; round < ids.length; round++) {
            const batch = await c.claim(200, 3, `r-${i}`, 10_000);
            if (batch.length === 0) break;
            mine.push(...batch.map((d) => d.eventId));
          }
          return mine;
        }),
      );
      expect(got.flat().sort()).toEqual(ids);
      for (const [i, mine] of got.entries()) for (const id of mine) expect((await outbox.get(id))?.claimedBy).toBe(`r-${i}`);
    });

    it('race: two coordinators enqueueing the same events at once keep each once, and their reports keep the most attempts', async () => {
      const { outbox, replica } = await fresh();
      const other = (await replica()).outbox;
      const ids = Array.from({ length: 30 }, (_, i) => `e-${i}`);
      const added = await Promise.all([outbox.enqueue('d-1', ids.map((id) => n(id)), 100), other.enqueue('d-1', [...ids].reverse().map((id) => n(id)), 100), outbox.enqueue('d-1', ids.slice(5, 15).map((id) => n(id)), 100)]);
      expect(added.reduce((a, b) => a + b, 0)).toBe(30);
      expect(await other.countByState()).toEqual({ pending: 30 });
      await Promise.all(ids.flatMap((id) => [outbox.failed(id, 1, 'first', 200, 110), other.failed(id, 2, 'second', 300, 120)]));
      for (const id of ids) expect(await outbox.get(id)).toMatchObject({ attempts: 2, lastError: 'second', nextAttemptAt: 300 });
    });
  });

  describe('blob references', () => {
    it('counts the bucket\'s objects, unfinished uploads\' parts and deployments\' bundles, and nothing else', async () => {
      const { references: refs, store, buckets } = await fresh();
      const bucket = buckets();
      await bucket.createBucket('b', 1);
      expect(await refs.has(sha('a'))).toBe(false);
      expect(await refs.all()).toEqual(new Set());
      await bucket.putObject({ bucket: 'b', key: 'k', sha256: sha('a'), size: 1, etag: '"a"' }, 1);
      const u = await bucket.createUpload({ bucket: 'b', key: 'u' }, 1);
      await bucket.putPart({ uploadId: u.uploadId, partNumber: 1, sha256: sha('c'), size: 1, etag: '"c"' }, 1);
      await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', bundle: { sha256: sha('d'), size: 1, bundleType: 'zip' } }));
      await store.putDeployment(deploymentRecord({ deploymentId: 'd-2' }));
      expect(await refs.all()).toEqual(new Set([sha('a'), sha('c'), sha('d')]));
      for (const c of 'acd') expect(await refs.has(sha(c))).toBe(true);
      expect(await refs.has(sha('e'))).toBe(false);
      await bucket.abortUpload(u.uploadId);
      await bucket.deleteObject('b', 'k');
      expect(await refs.all()).toEqual(new Set([sha('d')]));
    });

    it('race: two coordinators adding and dropping references to one blob at once: it stays referenced while one remains', async () => {
      const { references: refs, buckets, replica } = await fresh();
      const mine = buckets();
      const theirs = (await replica()).buckets();
      await mine.createBucket('b', 1);
      const put = (s: AsyncBucketStore, key: string) => s.putObject({ bucket: 'b', key, sha256: sha('a'), size: 1, etag: '"a"' }, 1);
      await Promise.all(Array.from({ length: 10 }, (_, i) => put(i % 2 === 0 ? mine : theirs, `k${i}`)));
      await Promise.all(Array.from({ length: 9 }, (_, i) => (i % 2 === 0 ? theirs : mine).deleteObject('b', `k${i}`)));
      expect(await refs.has(sha('a'))).toBe(true);
      expect((await mine.listObjects('b')).objects.map((o) => o.key)).toEqual(['k9']);
      await theirs.deleteObject('b', 'k9');
      expect(await refs.has(sha('a'))).toBe(false);
    });
  });

  describe('traffic journal', () => {
    const execution = (n: number): HookExecution => ({ event: 'BeforeAllowTraffic', executionId: `e-${n}`, functionName: 'fn', startedAt: n, deadlineAt: n + 1, status: 'InProgress' });

    it('keeps one state per deployment, the latest put winning', async () => {
      const { store, traffic } = await fresh();
      const journal = traffic(store);
      expect(await journal.get('d-1')).toBeUndefined();
      const state = newTrafficState('d-1', [{ weight: 10, waitMs: 0 }, { weight: 100, waitMs: 60_000 }], { BeforeAllowTraffic: 'fn' });
      await journal.put(state);
      await journal.put({ ...state, checked: true, step: { index: 0, appliedAt: 5 } });
      await journal.put(newTrafficState('d-2', [], {}));
      expect(await journal.get('d-1')).toEqual({ ...state, checked: true, step: { index: 0, appliedAt: 5 } });
      expect((await journal.get('d-2'))?.deploymentId).toBe('d-2');
    });

    it('writes with the transaction it is opened through: a rejection undoes them with the store\'s, a commit keeps them', async () => {
      const { store, traffic } = await fresh();
      await expect(
        store.transaction(async (tx) => {
          await tx.putDeployment(deploymentRecord({ deploymentId: 'd-1' }));
          await traffic(tx).put(newTrafficState('d-1', [], {}));
          expect(await traffic(tx).get('d-1')).toBeDefined();
          throw new Error('crash');
        }),
      ).rejects.toThrow('crash');
      expect(await store.getDeployment('d-1')).toBeUndefined();
      expect(await traffic(store).get('d-1')).toBeUndefined();
      await store.transaction(async (tx) => traffic(tx).put(newTrafficState('d-1', [], {})));
      expect((await traffic(store).get('d-1'))?.deploymentId).toBe('d-1');
    });

    // One coordinator's concurrent transactions (its loop and an API call, say): SQLite runs them one after
    // the other on its connection (two connections in one process would block each other's BEGIN), PostgreSQL
    // on several of its pool's connections at once.
    it('race: concurrent read-modify-write transactions each adding a hook execution to one state: none is lost', async () => {
      const { store, traffic } = await fresh();
      await traffic(store).put(newTrafficState('d-1', [], {}));
      const add = (n: number) =>
        store.transaction(async (tx) => {
          const j = traffic(tx);
          const current = (await j.get('d-1'))!;
          await j.put({ ...current, executions: [...current.executions, execution(n)] });
        });
      await Promise.all(Array.from({ length: 8 }, (_, n) => add(n)));
      const ids = (await traffic(store).get('d-1'))!.executions.map((e) => e.executionId).sort();
      expect(ids).toEqual(Array.from({ length: 8 }, (_, n) => `e-${n}`));
    });
  });

  defineBucketContract(fresh);
}

const obj = (key: string, extra: Partial<NewObject> = {}): NewObject => ({ bucket: 'b', key, sha256: sha('a'), size: 3, etag: '"900150983cd24fb0d6963f7d28e17f72"', ...extra });

function defineBucketContract(fresh: () => Promise<SideStoresUnderTest>): void {
  /** withBucket opens side stores and a bucket store (small parts) with bucket `b` made. */
  const withBucket = async (options: BucketStoreOptions = {}) => {
    const under = await fresh();
    const store = under.buckets({ minPartSize: 10, ...options });
    await store.createBucket('b', 1);
    return { ...under, store };
  };

  describe('bucket store: buckets', () => {
    it('creates, gets, lists by name and deletes buckets', async () => {
      const store = (await fresh()).buckets();
      expect(await store.createBucket('zeta', 2000)).toEqual({ name: 'zeta', createdAt: 2000 });
      await store.createBucket('alpha', 1000);
      expect(await store.getBucket('alpha')).toEqual({ name: 'alpha', createdAt: 1000 });
      expect((await store.listBuckets()).map((b) => b.name)).toEqual(['alpha', 'zeta']);
      await store.deleteBucket('alpha');
      expect(await store.getBucket('alpha')).toBeUndefined();
      expect((await store.listBuckets()).map((b) => b.name)).toEqual(['zeta']);
    });

    it('refuses a second bucket of the same name: BucketAlreadyOwnedByYou', async () => {
      const { store } = await withBucket();
      expect((await refusal(store.createBucket('b', 2))).code).toBe('BucketAlreadyOwnedByYou');
      expect((await store.getBucket('b'))?.createdAt).toBe(1);
    });

    it('refuses to delete a missing bucket (NoSuchBucket) or one with objects (BucketNotEmpty)', async () => {
      const { store } = await withBucket();
      await expect(store.deleteBucket('nope')).rejects.toThrow(expect.objectContaining({ code: 'NoSuchBucket', name: 'BucketStoreError' }));
      await store.putObject(obj('k'), 5);
      expect((await refusal(store.deleteBucket('b'))).code).toBe('BucketNotEmpty');
      expect(await store.getBucket('b')).toBeDefined();
    });

    it('deleting a bucket aborts its multipart uploads and their parts', async () => {
      const { store, references } = await withBucket();
      const u = await store.createUpload({ bucket: 'b', key: 'k' }, 2);
      await store.putPart({ uploadId: u.uploadId, partNumber: 1, sha256: sha('c'), size: 1, etag: '"x"' }, 3);
      await store.deleteBucket('b');
      expect(await store.getUpload(u.uploadId)).toBeUndefined();
      expect(await references.has(sha('c'))).toBe(false);
    });

    it('race: two coordinators creating the same bucket at once: one has it, the other is refused', async () => {
      const under = await fresh();
      const other = (await under.replica()).buckets();
      const results = await Promise.allSettled([under.buckets().createBucket('b', 1), other.createBucket('b', 2)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['BucketAlreadyOwnedByYou']);
    });
  });

  describe('bucket store: deleting a bucket while another coordinator writes to it', () => {
    const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? ((r.reason as { code?: string }).code ?? String(r.reason)) : 'ok');

    it('race with an object: either the bucket goes and the write is refused NoSuchBucket, or the object lands and the deletion is refused BucketNotEmpty', async () => {
      for (let round = 0; round < 5; round++) {
        const under = await withBucket();
        const other = (await under.replica()).buckets({ minPartSize: 10 });
        const results = await Promise.allSettled([under.store.deleteBucket('b'), other.putObject(obj('k'), 2)]);
        const codes = results.map(codeOf);
        expect([['ok', 'NoSuchBucket'], ['BucketNotEmpty', 'ok']]).toContainEqual(codes);
        expect(await under.store.getBucket('b')).toEqual(codes[0] === 'ok' ? undefined : { name: 'b', createdAt: 1 });
        expect(await under.references.all()).toEqual(codes[0] === 'ok' ? new Set() : new Set([sha('a')]));
      }
    });

    it('race with a new upload: the upload is refused NoSuchBucket or goes with the bucket; none is left behind', async () => {
      for (let round = 0; round < 5; round++) {
        const under = await withBucket();
        const other = (await under.replica()).buckets({ minPartSize: 10 });
        const [deleted, created] = await Promise.allSettled([under.store.deleteBucket('b'), other.createUpload({ bucket: 'b', key: 'u' }, 2)]);
        expect(codeOf(deleted)).toBe('ok');
        expect(['ok', 'NoSuchBucket']).toContain(codeOf(created));
        if (created.status === 'fulfilled') expect(await under.store.getUpload(created.value.uploadId)).toBeUndefined();
        expect(await under.store.getBucket('b')).toBeUndefined();
      }
    });
  });

  describe('bucket store: objects', () => {
    it('records an object with its blob, ETag, content type (default binary/octet-stream) and time', async () => {
      const { store } = await withBucket();
      expect(await store.putObject(obj('app.zip'), 1234)).toEqual({ bucket: 'b', key: 'app.zip', sha256: sha('a'), size: 3, etag: '"900150983cd24fb0d6963f7d28e17f72"', lastModified: 1234, contentType: DEFAULT_CONTENT_TYPE });
      await store.putObject(obj('app.zip', { sha256: sha('b'), size: 9, etag: '"e"', contentType: 'application/zip' }), 2000);
      expect(await store.getObject('b', 'app.zip')).toMatchObject({ sha256: sha('b'), size: 9, etag: '"e"', contentType: 'application/zip', lastModified: 2000 });
      expect(await store.getObject('b', 'other')).toBeUndefined();
      expect(await store.getObject('other', 'app.zip')).toBeUndefined();
    });

    it('keeps sizes past 32 bits', async () => {
      const { store } = await withBucket();
      await store.putObject(obj('big', { size: 5 * 2 ** 32 }), 1);
      expect((await store.getObject('b', 'big'))?.size).toBe(5 * 2 ** 32);
      expect(await store.usage('b')).toBe(5 * 2 ** 32);
    });

    it('refuses objects in a missing bucket: NoSuchBucket', async () => {
      const { store } = await withBucket();
      expect((await refusal(store.putObject(obj('k', { bucket: 'nope' }), 1))).code).toBe('NoSuchBucket');
      expect((await refusal(store.listObjects('nope'))).code).toBe('NoSuchBucket');
      expect((await refusal(store.deleteObject('nope', 'k'))).code).toBe('NoSuchBucket');
    });

    it('deletes an object and returns it; deleting a missing key returns undefined', async () => {
      const { store } = await withBucket();
      await store.putObject(obj('k'), 1);
      expect((await store.deleteObject('b', 'k'))?.key).toBe('k');
      expect(await store.getObject('b', 'k')).toBeUndefined();
      expect(await store.deleteObject('b', 'k')).toBeUndefined();
    });
  });

  describe('bucket store: listObjects', () => {
    const keys = ['a.txt', 'photos/2024/jan.jpg', 'photos/2024/feb.jpg', 'photos/2025/mar.jpg', 'photos/index.html', 'videos/x.mp4', 'z'];
    const listed = async () => {
      const under = await withBucket();
      for (const key of keys) await under.store.putObject(obj(key), 1);
      return under.store;
    };
    const names = (l: { objects: { key: string }[]; commonPrefixes: string[] }) => ({ keys: l.objects.map((o) => o.key), prefixes: l.commonPrefixes });

    it('lists every key in order without a delimiter', async () => {
      const store = await listed();
      const l = await store.listObjects('b');
      expect(l.objects.map((o) => o.key)).toEqual([...keys].sort());
      expect(l.isTruncated).toBe(false);
      expect(l.next).toBeUndefined();
    });

    it('rolls keys up into common prefixes with a delimiter, under a prefix', async () => {
      const store = await listed();
      expect(names(await store.listObjects('b', { delimiter: '/' }))).toEqual({ keys: ['a.txt', 'z'], prefixes: ['photos/', 'videos/'] });
      expect(names(await store.listObjects('b', { prefix: 'photos/', delimiter: '/' }))).toEqual({ keys: ['photos/index.html'], prefixes: ['photos/2024/', 'photos/2025/'] });
      expect(names(await store.listObjects('b', { prefix: 'photos/2024/' }))).toEqual({ keys: ['photos/2024/feb.jpg', 'photos/2024/jan.jpg'], prefixes: [] });
      expect(names(await store.listObjects('b', { prefix: 'nothing' }))).toEqual({ keys: [], prefixes: [] });
    });

    it('pages with maxKeys counting keys and prefixes; next resumes after a prefix without repeating it', async () => {
      const store = await listed();
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 10; page++) {
        const l = await store.listObjects('b', { delimiter: '/', maxKeys: 1, after });
        seen.push(...l.objects.map((o) => o.key), ...l.commonPrefixes);
        if (!l.isTruncated) break;
        after = l.next;
      }
      expect(seen).toEqual(['a.txt', 'photos/', 'videos/', 'z']);
    });

    it('treats after as exclusive (start-after) and stops truncation exactly at the last item', async () => {
      const store = await listed();
      expect(names(await store.listObjects('b', { after: 'photos/index.html' }))).toEqual({ keys: ['videos/x.mp4', 'z'], prefixes: [] });
      const l = await store.listObjects('b', { maxKeys: 7 });
      expect(l.objects).toHaveLength(7);
      expect(l.isTruncated).toBe(false);
      expect(await store.listObjects('b', { maxKeys: 6 })).toMatchObject({ isTruncated: true, next: 'videos/x.mp4' });
    });

    it('returns nothing for maxKeys 0, caps pages at 1000, and rolls up past a page\'s worth of keys under one prefix', async () => {
      const store = await listed();
      expect(await store.listObjects('b', { maxKeys: 0 })).toEqual({ objects: [], commonPrefixes: [], isTruncated: false });
      for (let i = 0; i < 1100; i++) await store.putObject(obj(`many/${String(i).padStart(4, '0')}`), 1);
      const l = await store.listObjects('b', { prefix: 'many/', maxKeys: 5000 });
      expect(l.objects).toHaveLength(1000);
      expect(l).toMatchObject({ isTruncated: true, next: 'many/0999' });
      expect((await store.listObjects('b', { prefix: 'many/', after: 'many/0999' })).objects.map((o) => o.key)).toEqual(Array.from({ length: 100 }, (_, i) => `many/${1000 + i}`));
      expect(names(await store.listObjects('b', { delimiter: '/' }))).toEqual({ keys: ['a.txt', 'z'], prefixes: ['many/', 'photos/', 'videos/'] });
    });

    it('orders keys by UTF-8 bytes, as S3 does (U+FF5E sorts before U+1F600, unlike UTF-16 order)', async () => {
      const { store } = await withBucket();
      await store.createBucket('u', 1);
      for (const key of ['\u{1F600}', '\uFF5E', 'A', 'a', 'B']) await store.putObject(obj(key, { bucket: 'u' }), 1);
      expect((await store.listObjects('u')).objects.map((o) => o.key)).toEqual(['A', 'B', 'a', '\uFF5E', '\u{1F600}']);
    });
  });

  describe('bucket store: multipart uploads', () => {
    const part = (store: AsyncBucketStore, uploadId: string, partNumber: number, size: number, etag: string) => store.putPart({ uploadId, partNumber, sha256: sha(String(partNumber)), size, etag }, 100 + partNumber);

    it('creates an upload with a fresh random id and the content type given', async () => {
      const { store } = await withBucket();
      const a = await store.createUpload({ bucket: 'b', key: 'k', contentType: 'application/zip' }, 7);
      const b = await store.createUpload({ bucket: 'b', key: 'k' }, 8);
      expect(a.uploadId).not.toBe(b.uploadId);
      expect(a.uploadId).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(await store.getUpload(a.uploadId)).toEqual({ uploadId: a.uploadId, bucket: 'b', key: 'k', contentType: 'application/zip', initiated: 7 });
      expect(b.contentType).toBe(DEFAULT_CONTENT_TYPE);
      expect((await refusal(store.createUpload({ bucket: 'nope', key: 'k' }, 1))).code).toBe('NoSuchBucket');
    });

    it('records parts (a re-sent part replaces the earlier one) and lists them in pages', async () => {
      const { store } = await withBucket();
      const { uploadId } = await store.createUpload({ bucket: 'b', key: 'k' }, 1);
      await part(store, uploadId, 3, 10, '"c"');
      await part(store, uploadId, 1, 10, '"old"');
      await part(store, uploadId, 1, 11, '"a"');
      await part(store, uploadId, 2, 10, '"b"');
      const all = await store.listParts(uploadId);
      expect(all.parts.map((p) => [p.partNumber, p.size, p.etag])).toEqual([[1, 11, '"a"'], [2, 10, '"b"'], [3, 10, '"c"']]);
      expect(all.parts[0]).toEqual({ uploadId, partNumber: 1, sha256: sha('1'), size: 11, etag: '"a"', lastModified: 101 });
      expect(all.isTruncated).toBe(false);
      expect(all.nextPartNumberMarker).toBeUndefined();
      expect(await store.listParts(uploadId, { maxParts: 2 })).toMatchObject({ isTruncated: true, nextPartNumberMarker: 2 });
      expect((await store.listParts(uploadId, { partNumberMarker: 2 })).parts.map((p) => p.partNumber)).toEqual([3]);
    });

    it('completes: checks the list, records the object with the multipart ETag and forgets the upload', async () => {
      const { store, references } = await withBucket();
      const { uploadId } = await store.createUpload({ bucket: 'b', key: 'big.zip', contentType: 'application/zip' }, 1);
      await part(store, uploadId, 1, 10, '"0cc175b9c0f1b6a831c399e269772661"');
      await part(store, uploadId, 2, 4, '"92eb5ffee6ae2fec3ad71c777531578f"');
      const order = await store.planCompletion(uploadId, [
        { partNumber: 1, etag: '0cc175b9c0f1b6a831c399e269772661' },
        { partNumber: 2, etag: '"92eb5ffee6ae2fec3ad71c777531578f"' },
      ]);
      expect(order.parts.map((p) => p.sha256)).toEqual([sha('1'), sha('2')]);
      expect(order.size).toBe(14);
      expect(order.etag).toBe(multipartEtag(['0cc175b9c0f1b6a831c399e269772661', '92eb5ffee6ae2fec3ad71c777531578f']));
      const record = await store.completeUpload(uploadId, { sha256: sha('f'), size: 14, etag: order.etag }, 500);
      expect(record).toEqual({ bucket: 'b', key: 'big.zip', sha256: sha('f'), size: 14, etag: order.etag, lastModified: 500, contentType: 'application/zip' });
      expect(await store.getObject('b', 'big.zip')).toEqual(record);
      expect(await store.getUpload(uploadId)).toBeUndefined();
      expect(await references.has(sha('1'))).toBe(false);
      expect((await refusal(store.completeUpload(uploadId, { sha256: sha('f'), size: 14, etag: order.etag }, 501))).code).toBe('NoSuchUpload');
    });

    it('refuses bad part lists: InvalidPart, InvalidPartOrder, EntityTooSmall', async () => {
      const { store } = await withBucket();
      const { uploadId } = await store.createUpload({ bucket: 'b', key: 'k' }, 1);
      await part(store, uploadId, 1, 5, '"a"');
      await part(store, uploadId, 2, 20, '"b"');
      expect((await refusal(store.planCompletion(uploadId, [{ partNumber: 1, etag: '"zz"' }]))).code).toBe('InvalidPart');
      expect((await refusal(store.planCompletion(uploadId, [{ partNumber: 2, etag: 'b' }, { partNumber: 1, etag: 'a' }]))).code).toBe('InvalidPartOrder');
      expect((await refusal(store.planCompletion(uploadId, [{ partNumber: 1, etag: 'a' }, { partNumber: 2, etag: 'b' }]))).code).toBe('EntityTooSmall');
      expect((await store.planCompletion(uploadId, [{ partNumber: 2, etag: 'b' }])).size).toBe(20);
    });

    it('aborts an upload; unknown uploads are NoSuchUpload everywhere', async () => {
      const { store } = await withBucket();
      const { uploadId } = await store.createUpload({ bucket: 'b', key: 'k' }, 1);
      await part(store, uploadId, 1, 5, '"a"');
      await store.abortUpload(uploadId);
      expect(await store.getUpload(uploadId)).toBeUndefined();
      const calls = [() => store.abortUpload(uploadId), () => part(store, uploadId, 1, 5, '"a"'), () => store.listParts(uploadId), () => store.planCompletion(uploadId, [{ partNumber: 1, etag: 'a' }]), () => store.completeUpload(uploadId, { sha256: sha('f'), size: 5, etag: '"x"' }, 2)];
      for (const call of calls) expect((await refusal(call())).code).toBe('NoSuchUpload');
    });

    it('race: two coordinators sending parts at once lose none, and of two completing the upload at once one records the object, the other gets NoSuchUpload', async () => {
      const released: string[][] = [];
      const under = await withBucket({ released: (s) => released.push([...s]) });
      const other = (await under.replica()).buckets({ minPartSize: 10, released: (s) => released.push([...s]) });
      const { uploadId } = await under.store.createUpload({ bucket: 'b', key: 'k' }, 1);
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? under.store : other).putPart({ uploadId, partNumber: i + 1, sha256: sha(String(i)), size: 10, etag: `"${i}"` }, 2)));
      expect((await other.listParts(uploadId)).parts.map((p) => p.partNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const results = await Promise.allSettled([
        under.store.completeUpload(uploadId, { sha256: sha('a'), size: 100, etag: '"a-10"' }, 3),
        other.completeUpload(uploadId, { sha256: sha('b'), size: 100, etag: '"b-10"' }, 4),
      ]);
      const won = results.filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<AsyncBucketStore['completeUpload']>>> => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['NoSuchUpload']);
      expect(await under.store.getObject('b', 'k')).toEqual(won[0]!.value);
      expect(await under.store.getUpload(uploadId)).toBeUndefined();
      // The parts were released once, by the completion that happened.
      expect(released.map((r) => [...r].sort())).toEqual([Array.from({ length: 10 }, (_, i) => sha(String(i))).sort()]);
    });
  });

  describe('bucket store: uploads ended by one coordinator while another works on them', () => {
    it('race: a part sent while the upload is aborted is refused NoSuchUpload or goes with the upload; no part is left behind', async () => {
      for (let round = 0; round < 5; round++) {
        const under = await withBucket();
        const other = (await under.replica()).buckets({ minPartSize: 10 });
        const { uploadId } = await under.store.createUpload({ bucket: 'b', key: 'k' }, 1);
        const [aborted, sent] = await Promise.allSettled([under.store.abortUpload(uploadId), other.putPart({ uploadId, partNumber: 1, sha256: sha('p'), size: 10, etag: '"p"' }, 2)]);
        expect(aborted.status).toBe('fulfilled');
        if (sent.status === 'rejected') expect(sent.reason).toMatchObject({ code: 'NoSuchUpload' });
        expect(await under.references.has(sha('p'))).toBe(false);
      }
    });

    it('race: two coordinators expiring uploads at once end each upload once, and release its parts once', async () => {
      const released: string[][] = [];
      const options = { minPartSize: 10, released: (s: readonly string[]) => void released.push([...s]) };
      const under = await withBucket(options);
      const other = (await under.replica()).buckets(options);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const { uploadId } = await under.store.createUpload({ bucket: 'b', key: `k${i}` }, i);
        await under.store.putPart({ uploadId, partNumber: 1, sha256: sha(String(i)), size: 10, etag: '"p"' }, i);
        ids.push(uploadId);
      }
      const [mine, theirs] = await Promise.all([under.store.expireUploads(4), other.expireUploads(4)]);
      expect([...mine, ...theirs].map((u) => u.uploadId).sort()).toEqual(ids.slice(0, 4).sort());
      expect(released.flat().sort()).toEqual(['0', '1', '2', '3'].map(sha));
      expect((await other.listUploads('b')).uploads.map((u) => u.uploadId)).toEqual(ids.slice(4));
    });
  });

  describe('bucket store: released blobs', () => {
    const o = (key: string, digit: string, size = 3): NewObject => ({ bucket: 'b', key, sha256: sha(digit), size, etag: `"${digit}"` });
    const part = (uploadId: string, partNumber: number, digit: string, size = 10) => ({ uploadId, partNumber, sha256: sha(digit), size, etag: `"${digit}"` });
    const withReleases = async () => {
      const released: string[][] = [];
      const under = await withBucket({ released: (s) => released.push([...s]) });
      return { store: under.store, released };
    };

    it('an overwrite releases the old blob, not a rewrite of the same bytes; a delete releases its blob', async () => {
      const { store, released } = await withReleases();
      await store.putObject(o('k', 'a'), 1);
      expect(released).toEqual([]);
      await store.putObject(o('k', 'a'), 2);
      expect(released).toEqual([]);
      await store.putObject(o('k', 'b'), 3);
      expect(released).toEqual([[sha('a')]]);
      await store.deleteObject('b', 'k');
      expect(released).toEqual([[sha('a')], [sha('b')]]);
      await store.deleteObject('b', 'k');
      expect(released).toHaveLength(2);
    });

    it('a completed upload releases its parts and the object it replaced, but not the blob it now names', async () => {
      const { store, released } = await withReleases();
      await store.putObject(o('k', 'c'), 1);
      const u = await store.createUpload({ bucket: 'b', key: 'k' }, 1);
      await store.putPart(part(u.uploadId, 1, 'd'), 2);
      await store.putPart(part(u.uploadId, 1, 'e'), 3);
      expect(released).toEqual([[sha('d')]]);
      await store.putPart(part(u.uploadId, 2, 'f'), 3);
      await store.completeUpload(u.uploadId, { sha256: sha('f'), size: 20, etag: '"x-2"' }, 4);
      expect(released[1]!.sort()).toEqual([sha('c'), sha('e')]);
    });

    it('abort, bucket deletion and expiry release the parts of the uploads they end', async () => {
      const { store, released } = await withReleases();
      const a = await store.createUpload({ bucket: 'b', key: 'k' }, 1);
      await store.putPart(part(a.uploadId, 1, '1'), 1);
      await store.abortUpload(a.uploadId);
      expect(released).toEqual([[sha('1')]]);

      const old = await store.createUpload({ bucket: 'b', key: 'old' }, 100);
      await store.putPart(part(old.uploadId, 1, '2'), 100);
      const young = await store.createUpload({ bucket: 'b', key: 'fresh' }, 200);
      await store.putPart(part(young.uploadId, 1, '3'), 200);
      expect((await store.expireUploads(150)).map((u) => u.uploadId)).toEqual([old.uploadId]);
      expect(released[1]).toEqual([sha('2')]);
      expect(await store.getUpload(old.uploadId)).toBeUndefined();
      expect((await store.listParts(young.uploadId)).parts).toHaveLength(1);
      expect(await store.expireUploads(150)).toEqual([]);
      expect(released).toHaveLength(2);

      await store.deleteBucket('b');
      expect(released[2]).toEqual([sha('3')]);
    });

    it('a refused change releases nothing', async () => {
      const { store, released } = await withReleases();
      await store.putObject(o('k', 'a'), 1);
      await store.createBucket('full', 1);
      await store.putObject({ ...o('k', 'a'), bucket: 'full' }, 1);
      expect((await refusal(store.deleteBucket('full'))).code).toBe('BucketNotEmpty');
      expect((await refusal(store.abortUpload('nope'))).code).toBe('NoSuchUpload');
      expect(released).toEqual([]);
    });
  });

  describe('bucket store: listUploads', () => {
    it('lists by key then initiation, rolls up by delimiter and pages with key and upload-id markers', async () => {
      const { store } = await withBucket();
      const a1 = await store.createUpload({ bucket: 'b', key: 'a' }, 1);
      const a2 = await store.createUpload({ bucket: 'b', key: 'a' }, 2);
      const d = await store.createUpload({ bucket: 'b', key: 'dir/x' }, 3);
      await store.createUpload({ bucket: 'b', key: 'dir/y' }, 4);
      const z = await store.createUpload({ bucket: 'b', key: 'z' }, 0);
      const ids = (l: { uploads: { uploadId: string }[] }) => l.uploads.map((u) => u.uploadId);

      const all = await store.listUploads('b');
      expect(all.uploads.map((u) => u.key)).toEqual(['a', 'a', 'dir/x', 'dir/y', 'z']);
      expect(ids(all).slice(0, 2)).toEqual([a1.uploadId, a2.uploadId]);
      expect(all).toMatchObject({ isTruncated: false, commonPrefixes: [] });
      expect(all.nextKeyMarker).toBeUndefined();

      const rolled = await store.listUploads('b', { delimiter: '/' });
      expect(rolled.commonPrefixes).toEqual(['dir/']);
      expect(ids(rolled)).toEqual([a1.uploadId, a2.uploadId, z.uploadId]);

      expect(await store.listUploads('b', { maxUploads: 1 })).toMatchObject({ isTruncated: true, nextKeyMarker: 'a', nextUploadIdMarker: a1.uploadId });
      expect(ids(await store.listUploads('b', { maxUploads: 2, keyMarker: 'a', uploadIdMarker: a1.uploadId }))).toEqual([a2.uploadId, d.uploadId]);
      expect(ids(await store.listUploads('b', { keyMarker: 'a' }))[0]).toBe(d.uploadId);
      expect(ids(await store.listUploads('b', { prefix: 'dir/', keyMarker: 'dir/x' }))).toHaveLength(1);
      expect((await store.listUploads('b', { maxUploads: 0 })).uploads).toEqual([]);
      expect((await refusal(store.listUploads('nope'))).code).toBe('NoSuchBucket');
    });

    it('orders uploads of one key and time by upload id, byte-wise, and pages past a thousand', async () => {
      const { store } = await withBucket();
      const made = [];
      for (let i = 0; i < 1005; i++) made.push(await store.createUpload({ bucket: 'b', key: 'same' }, 7));
      const byId = made.map((u) => u.uploadId).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      const first = await store.listUploads('b');
      expect(first.uploads.map((u) => u.uploadId)).toEqual(byId.slice(0, 1000));
      expect(first).toMatchObject({ isTruncated: true, nextKeyMarker: 'same', nextUploadIdMarker: byId[999] });
      const second = await store.listUploads('b', { keyMarker: 'same', uploadIdMarker: byId[999] });
      expect(second.uploads.map((u) => u.uploadId)).toEqual(byId.slice(1000));
      expect(second.isTruncated).toBe(false);
    });
  });

  describe('bucket store: the quota', () => {
    const o = (key: string, digit: string, size = 3): NewObject => ({ bucket: 'b', key, sha256: sha(digit), size, etag: `"${digit}"` });
    const part = (uploadId: string, partNumber: number, digit: string, size = 10) => ({ uploadId, partNumber, sha256: sha(digit), size, etag: `"${digit}"` });

    it('counts objects and parts, refuses a write past it with QuotaExceeded naming the numbers, and lets a replacement reuse its room', async () => {
      const quotas: Record<string, number> = { b: 100 };
      const { store } = await withBucket({ quotaBytes: (b) => quotas[b] });
      await store.putObject(o('k', 'a', 60), 1);
      expect(await store.usage('b')).toBe(60);
      expect(await store.room('b', { key: 'other' })).toBe(40);
      expect(await store.room('b', { key: 'k' })).toBe(100);

      const r = await refusal(store.putObject(o('other', 'b', 41), 2));
      expect(r.code).toBe('QuotaExceeded');
      expect(r.message).toMatch(/Bucket b is over its quota: it holds 60 bytes .*its quota is 100 bytes \(bucket_quota_bytes\), and this write of 41 bytes does not fit/);
      expect(r.message).toMatch(/aws s3api list-multipart-uploads/);
      expect(await store.getObject('b', 'other')).toBeUndefined();
      await store.putObject(o('k', 'c', 100), 3); // replaces the 60 bytes

      const u = await store.createUpload({ bucket: 'b', key: 'big' }, 4);
      expect((await refusal(store.putPart(part(u.uploadId, 1, 'd', 1), 5))).code).toBe('QuotaExceeded');
      await store.putObject(o('k', 'c', 50), 6);
      await store.putPart(part(u.uploadId, 1, 'd', 30), 7);
      expect(await store.usage('b')).toBe(80);
      expect(await store.room('b', { uploadId: u.uploadId, partNumber: 1 })).toBe(50);
      await store.putPart(part(u.uploadId, 1, 'e', 50), 8); // replaces part 1's 30 bytes
      await expect(store.checkQuota('b', { key: 'x' }, 1)).rejects.toThrow(/over its quota/);
      await expect(store.checkQuota('b', { key: 'x' }, 0)).resolves.toBeUndefined();
    });

    it('applies to the bucket it is set for only', async () => {
      const quotas: Record<string, number> = { small: 1 };
      const { store } = await withBucket({ quotaBytes: (b) => quotas[b] });
      await store.createBucket('small', 1);
      expect(await store.room('b', { key: 'k' })).toBeUndefined();
      await store.putObject(o('k', 'a', 1_000_000), 1);
      expect((await refusal(store.putObject({ ...o('k', 'a', 2), bucket: 'small' }, 1))).code).toBe('QuotaExceeded');
    });

    it('race: two coordinators each writing what fits the quota alone but not both: one write is refused', async () => {
      const quota = { quotaBytes: () => 100 };
      for (let round = 0; round < 3; round++) {
        const under = await withBucket(quota);
        const other = (await under.replica()).buckets({ minPartSize: 10, ...quota });
        const u = await other.createUpload({ bucket: 'b', key: 'u' }, 1);
        const results = await Promise.allSettled([under.store.putObject(o('x', 'a', 60), 2), other.putPart(part(u.uploadId, 1, 'b', 60), 2)]);
        expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code)).toEqual(['QuotaExceeded']);
        expect(await under.store.usage('b')).toBe(60);
      }
    });
  });
}
