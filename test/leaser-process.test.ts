/**
 * A replica holding a lease dies (SIGKILL) and another takes the lease over, on a real PostgreSQL:
 * the child process holds it with the coordinator's Leaser and renews it; once it is killed, the
 * other owner is refused until the lease's expiry by the database's clock, then gets it at a higher
 * generation.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithTools } from './harness/system-tools.js';
import { usePostgres } from './harness/postgres.js';
import { eventually } from './harness/eventually.js';
import { openPgStore } from '../packages/coordinator/src/store/pg/pg-store.js';
import { pgLeaseStore } from '../packages/coordinator/src/lease/pg-lease-store.js';
import type { Lease } from '../packages/coordinator/src/lease/lease-store.js';

const HOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/leases/lease-holder.mjs');
const TTL = 1_500; // renewed every 500 ms
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithTools(['postgres'], 'a lease held by a replica process that is killed', () => {
  const server = usePostgres();

  it('goes to another owner only after it expires, at a higher generation', async () => {
    const url = await server().freshDatabase();
    const store = await openPgStore(url, { poolSize: 2 });
    const child = spawn(process.execPath, [HOLDER, url, 'deployment/d-1', 'replica-a', String(TTL)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      const leases = pgLeaseStore(store);
      const row = async (): Promise<Lease> => (await store.query('SELECT name, owner, generation::int AS generation, expires_at::float8 AS "expiresAt" FROM leases')).rows[0] as Lease;
      await eventually(() => expect(out).toContain('acquired deployment/d-1 1\n'), 15_000);
      const acquired = await row();
      // The child renews: the expiry moves on while it lives, and the lease is not to be had.
      await eventually(() => expect(out.match(/^renewed deployment\/d-1 1$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2), 10_000);
      expect((await row()).expiresAt).toBeGreaterThan(acquired.expiresAt);
      expect(await leases.acquire('deployment/d-1', 'replica-b', TTL)).toBeUndefined();

      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      const last = await row();
      expect(last).toMatchObject({ owner: 'replica-a', generation: 1 });
      let refused = 0;
      let taken: Lease | undefined;
      const deadline = Date.now() + 10_000;
      while (taken === undefined && Date.now() < deadline) {
        taken = await leases.acquire('deployment/d-1', 'replica-b', TTL);
        if (taken === undefined) {
          refused++;
          await sleep(25);
        }
      }
      expect(taken).toMatchObject({ owner: 'replica-b', generation: 2 });
      // Taken at an instant (its expiry less the ttl, by the database's clock) no earlier than the
      // dead replica's expiry, and promptly after it.
      const takenAt = taken!.expiresAt - TTL;
      expect(takenAt).toBeGreaterThanOrEqual(last.expiresAt);
      expect(takenAt - last.expiresAt).toBeLessThan(1_000);
      expect(refused).toBeGreaterThan(0);
      expect(out).not.toMatch(/^lost /m);
    } finally {
      child.kill('SIGKILL');
      await store.close();
    }
  }, 60_000);
});
