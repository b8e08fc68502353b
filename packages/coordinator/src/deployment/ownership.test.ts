/**
 * Deployment ownership over the real SQLite lease store, on a fake clock that both the store and the
 * Leaser read: which replica drives a deployment, what the engine is told, and the fencing check.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { AsyncStore } from '../store/async-store.js';
import { createFakeClock } from '../testing/fake-clock.js';
import type { FakeClock } from '../testing/fake-clock.js';
import type { LeaseStore } from '../lease/lease-store.js';
import { sqliteLeaseStore } from '../lease/sqlite-lease-store.js';
import { createDeploymentOwnership, leaseName } from './ownership.js';
import type { DeploymentOwnership } from './ownership.js';

const TTL = 3_000;
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};
const noTx = {} as AsyncStore;

describe('deployment ownership', () => {
  const stores: SqliteStore[] = [];
  const owners: DeploymentOwnership[] = [];
  afterEach(async () => {
    for (const o of owners.splice(0)) await o.stop();
    for (const s of stores.splice(0)) s.close();
  });

  const setup = (): { clock: FakeClock; leases: LeaseStore } => {
    const store = openSqliteStore(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-ownership-')));
    stores.push(store);
    const clock = createFakeClock();
    return { clock, leases: sqliteLeaseStore(store.db, clock) };
  };

  const replica = (id: string, clock: FakeClock, leases: LeaseStore, broken?: { down: boolean }) => {
    const events: string[] = [];
    // A replica whose database is out of reach: every lease call fails (a crash, a cut).
    const reach: LeaseStore = broken === undefined ? leases : {
      acquire: (...a) => (broken.down ? Promise.reject(new Error('unreachable')) : leases.acquire(...a)),
      renew: (...a) => (broken.down ? Promise.reject(new Error('unreachable')) : leases.renew(...a)),
      release: (...a) => (broken.down ? Promise.reject(new Error('unreachable')) : leases.release(...a)),
      holds: (...a) => leases.holds(...a),
      list: () => leases.list(),
    };
    const ownership = createDeploymentOwnership({ replicaId: id, ttlMs: TTL, clock, leases: reach, leasesIn: () => leases });
    ownership.listen({ acquired: (d) => events.push(`acquired ${d}`), lost: (d) => events.push(`lost ${d}`) });
    owners.push(ownership);
    return { ownership, events };
  };

  it('tells every listener (the engine and the traffic driver) each acquisition and loss', async () => {
    const { clock, leases } = setup();
    const broken = { down: false };
    const a = replica('a', clock, leases, broken);
    const driver: string[] = [];
    a.ownership.listen({ acquired: (d) => driver.push(`acquired ${d}`), lost: (d) => driver.push(`lost ${d}`) });
    a.ownership.claim('d-1');
    await flush();
    broken.down = true;
    for (let i = 0; i < 6; i++) {
      clock.advance(TTL / 3);
      await flush();
    }
    expect(a.events).toEqual(['acquired d-1', 'lost d-1']);
    expect(driver).toEqual(['acquired d-1', 'lost d-1']);
  });

  it('gives a deployment to the first replica that claims it, and to another only once its lease has lapsed', async () => {
    const { clock, leases } = setup();
    const broken = { down: false };
    const a = replica('a', clock, leases, broken);
    const b = replica('b', clock, leases);
    a.ownership.claim('d-1');
    await flush();
    b.ownership.claim('d-1');
    await flush();
    expect(a.events).toEqual(['acquired d-1']);
    expect(b.events).toEqual([]);
    expect(a.ownership.owns('d-1')).toBe(true);
    expect(b.ownership.owns('d-1')).toBe(false);
    expect(await a.ownership.holdsIn(noTx, 'd-1')).toBe(true);
    expect(await b.ownership.holdsIn(noTx, 'd-1')).toBe(false);
    // Renewals keep it with replica a for as long as it answers.
    for (let i = 0; i < 10; i++) {
      clock.advance(TTL / 3);
      await flush();
    }
    expect(b.events).toEqual([]);
    broken.down = true;
    for (let i = 0; i < 6; i++) {
      clock.advance(TTL / 3);
      await flush();
    }
    expect(a.events).toEqual(['acquired d-1', 'lost d-1']);
    expect(a.ownership.owns('d-1')).toBe(false);
    expect(await a.ownership.holdsIn(noTx, 'd-1')).toBe(false);
    expect(b.events).toEqual(['acquired d-1']);
    expect(b.ownership.owns('d-1')).toBe(true);
    expect((await leases.list()).map((l) => `${l.name} ${l.owner} ${l.generation}`)).toEqual([`${leaseName('d-1')} b 2`]);
  });

  it('fails the fencing check of a tenure the store no longer holds, though the replica still trusts it', async () => {
    const { clock, leases } = setup();
    const a = replica('a', clock, leases);
    a.ownership.claim('d-1');
    await flush();
    const held = (await leases.list())[0]!;
    await leases.release(held.name, 'a', held.generation);
    expect(await leases.acquire(held.name, 'x', TTL)).toMatchObject({ generation: held.generation + 1 });
    expect(a.ownership.owns('d-1')).toBe(true);
    expect(await a.ownership.holdsIn(noTx, 'd-1')).toBe(false);
  });

  it('releases a finished deployment at once, so another replica may take it, and forgets the claim', async () => {
    const { clock, leases } = setup();
    const a = replica('a', clock, leases);
    a.ownership.claim('d-1');
    a.ownership.claim('d-2');
    await flush();
    expect(a.ownership.claimed().sort()).toEqual(['d-1', 'd-2']);
    await a.ownership.release('d-1');
    expect(a.ownership.claimed()).toEqual(['d-2']);
    expect(a.ownership.owns('d-1')).toBe(false);
    expect(await a.ownership.holdsIn(noTx, 'd-1')).toBe(false);
    expect((await leases.list()).map((l) => l.name)).toEqual([leaseName('d-2')]);
    expect(a.ownership.held().map((l) => l.name)).toEqual([leaseName('d-2')]);
    expect(await leases.acquire(leaseName('d-1'), 'b', TTL)).toBeDefined();
    expect(a.events).toEqual(['acquired d-1', 'acquired d-2']);
    // Stopped: every lease goes, and a late claim is ignored rather than thrown.
    await a.ownership.stop();
    a.ownership.claim('d-3');
    await flush();
    expect(a.ownership.claimed()).toEqual([]);
    expect((await leases.list()).map((l) => `${l.name} ${l.owner}`)).toEqual([`${leaseName('d-1')} b`]);
  });
});
