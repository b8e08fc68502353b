import { describe, expect, it } from 'vitest';
import { createHealth } from './health.js';
import type { MembershipStatus } from './replicas/membership.js';
import type { ReplicaRecord } from './replicas/replica-store.js';

describe('coordinator health', () => {
  it('is unavailable until serving, ok while serving with the store open, unavailable while stopping', () => {
    let open = true;
    const h = createHealth(() => open);
    expect(h.report()).toEqual({ ok: false, reason: 'the deployment engine has not started yet' });
    h.serving();
    expect(h.report()).toEqual({ ok: true });
    open = false;
    expect(h.report()).toEqual({ ok: false, reason: 'the database is closed' });
    open = true;
    h.stopping();
    expect(h.report()).toEqual({ ok: false, reason: 'the coordinator is shutting down' });
    h.serving();
    expect(h.report().ok).toBe(false); // a stopping coordinator does not become healthy again
  });

  it('keeps the first failure until stopping: a later one, or serving, does not replace it', () => {
    const h = createHealth(() => true);
    h.serving();
    h.failed('the database /d/coordinator.db is corrupt');
    h.failed('something after');
    h.serving();
    expect(h.report()).toEqual({ ok: false, reason: 'the database /d/coordinator.db is corrupt' });
    h.stopping();
    expect(h.report()).toEqual({ ok: false, reason: 'the coordinator is shutting down' });
    h.failed('during shutdown');
    expect(h.report()).toEqual({ ok: false, reason: 'the coordinator is shutting down' });
  });

  it('a failure before serving is reported, and serving does not hide it', () => {
    const h = createHealth(() => true);
    h.failed('engine failed at start');
    h.serving();
    expect(h.report()).toEqual({ ok: false, reason: 'engine failed at start' });
  });

  describe('with the replica\'s membership', () => {
    const record = (id: string): ReplicaRecord => ({ id, apiUrl: `https://${id}.test:8443`, agentAddress: `${id}.test:8444`, startedAt: 1_000, aliveUntil: 99_000 });
    const setUp = () => {
      const m = { status: { member: true } as MembershipStatus, live: [record('replica-a'), record('replica-b')] };
      const membership = { id: 'replica-a', status: () => m.status, live: () => m.live };
      return { m, membership };
    };

    it('says which replica it is, that it is ready, the live replicas it sees, and that it owns nothing without a Leaser', () => {
      const { membership } = setUp();
      const h = createHealth(() => true, { membership });
      h.serving();
      expect(h.report()).toEqual({
        ok: true,
        replica: {
          id: 'replica-a',
          ready: true,
          owns: [],
          replicas: [
            { id: 'replica-a', apiUrl: 'https://replica-a.test:8443', agentAddress: 'replica-a.test:8444', startedAt: 1_000 },
            { id: 'replica-b', apiUrl: 'https://replica-b.test:8443', agentAddress: 'replica-b.test:8444', startedAt: 1_000 },
          ],
        },
      });
    });

    it('owns the leases its Leaser holds, by name', () => {
      const { membership } = setUp();
      const held = [{ name: 'deployment/d-2', generation: 1, trustedUntil: 5 }, { name: 'deployment/d-1', generation: 3, trustedUntil: 5 }];
      const h = createHealth(() => true, { membership, leaser: { held: () => held } });
      h.serving();
      expect(h.report().replica?.owns).toEqual(['deployment/d-1', 'deployment/d-2']);
    });

    it('is not ready, naming why, while starting, stopping, or not a live member', () => {
      const { m, membership } = setUp();
      const h = createHealth(() => true, { membership });
      expect(h.report()).toMatchObject({ ok: false, reason: 'the deployment engine has not started yet', replica: { id: 'replica-a', ready: false } });
      h.serving();
      m.status = { member: false, reason: 'no renewal succeeded (last: ECONNREFUSED) before its row could lapse' };
      expect(h.report()).toMatchObject({ ok: false, reason: 'replica replica-a is not a live member: no renewal succeeded (last: ECONNREFUSED) before its row could lapse', replica: { ready: false } });
      m.status = { member: true };
      expect(h.report()).toMatchObject({ ok: true, replica: { ready: true } });
      h.stopping();
      expect(h.report()).toMatchObject({ ok: false, reason: 'the coordinator is shutting down', replica: { ready: false } });
    });
  });
});
