/**
 * The PostgreSQL storage as replicas open it, on a real server: replicas starting together on an
 * empty database make one CA and one first admin key between them; a replica given a different CA
 * is refused; and a database it cannot reach or that is newer than it is one line naming it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { describeWithTools } from '../../../../test/harness/system-tools.js';
import { connectionUrl, usePostgres } from '../../../../test/harness/postgres.js';
import { ensureAdminKey } from '../auth/admin-credentials.js';
import { CA_DIR, CA_CERT_FILE, generateAuthority, installAuthorityFiles } from '../ca/authority.js';
import { Readable } from 'node:stream';
import { createBlobStore, SHARED_BLOB_GRACE_MS } from '../artifacts/blob-store.js';
import { createBlobCollector } from '../artifacts/blob-collector.js';
import { openPgStorage } from './pg-storage.js';
import type { Storage } from './storage.js';

const log = pino({ level: 'silent' });

describeWithTools(['postgres'], 'PostgreSQL storage', () => {
  const server = usePostgres();
  const opened: Storage[] = [];
  const madeDirs: string[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    for (const d of madeDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const open = async (url: string, replicaId: string): Promise<Storage> => {
    const s = await openPgStorage(url, { replicaId, now: Date.now, log, poolSize: 3 });
    opened.push(s);
    return s;
  };
  const tmp = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-pg-storage-'));
    madeDirs.push(d);
    return d;
  };

  it('replicas starting together make one CA and one first admin key, written by the replica that made it', async () => {
    const url = await server().freshDatabase();
    const replicas = await Promise.all(['r-1', 'r-2', 'r-3'].map((id) => open(url, id)));
    const dirs = replicas.map(() => tmp());
    const started = await Promise.all(
      replicas.map((s, i) =>
        s.firstStart(async () => ({
          authority: await s.authority(dirs[i]!, {}, Date.now()),
          key: await ensureAdminKey(dirs[i]!, s.accessKeys, Date.now()),
        })),
      ),
    );
    expect(new Set(started.map((r) => r.authority.fingerprint)).size).toBe(1);
    expect(started.filter((r) => r.key !== undefined)).toHaveLength(1);
    expect(await replicas[0]!.accessKeys.count()).toBe(1);
    // Each data directory keeps a copy of the one CA; only the maker's has the key file.
    for (const d of dirs) expect(fs.readFileSync(path.join(d, CA_DIR, CA_CERT_FILE), 'utf8')).toBe(started[0]!.authority.certPem);
    expect(dirs.filter((d) => fs.existsSync(path.join(d, 'admin-credentials')))).toHaveLength(1);
  });

  it('adopts the CA of the first replica\'s data directory, and refuses a replica whose data directory has another', async () => {
    const url = await server().freshDatabase();
    const first = await open(url, 'r-1');
    const mine = tmp();
    installAuthorityFiles(mine, await generateAuthority(Date.now()));
    const adopted = await first.authority(mine, {}, Date.now());
    expect(adopted.certPem).toBe(fs.readFileSync(path.join(mine, CA_DIR, CA_CERT_FILE), 'utf8'));

    const other = tmp();
    installAuthorityFiles(other, await generateAuthority(Date.now()));
    const second = await open(url, 'r-2');
    await expect(second.authority(other, {}, Date.now())).rejects.toThrow(new RegExp(`^the CA in ${path.join(other, CA_DIR)} \\(fingerprint \\S+\\) is not the CA the replicas on this database share \\(fingerprint ${adopted.fingerprint}\\): move ${path.join(other, CA_DIR)} away to use the shared CA$`));
  });

  it('a blob of the shared folder outlives another replica\'s sweeps while referenced or lately written, and goes once neither', async () => {
    const url = await server().freshDatabase();
    const [a, b] = await Promise.all([open(url, 'r-a'), open(url, 'r-b')]);
    const folder = path.join(tmp(), 'blobs');
    let now = Date.now();
    const shared = { graceMs: SHARED_BLOB_GRACE_MS, now: () => now };
    const blobsA = createBlobStore(folder, undefined, {}, shared);
    const collectorB = createBlobCollector({ blobs: createBlobStore(folder, undefined, {}, shared), references: b.blobReferences, log, now: () => now });
    const bucketsA = a.buckets({});
    await bucketsA.createBucket('revisions', now);
    // Replica a writes a blob; before its object row commits, replica b sweeps: the blob is new, so it stays.
    const held = await blobsA.putHeld(Readable.from(['bundle bytes']));
    expect(await collectorB.sweep()).toMatchObject({ scanned: 1, removed: 0 });
    await bucketsA.putObject({ bucket: 'revisions', key: 'b.zip', sha256: held.sha256, size: held.size, etag: held.md5 }, now);
    held.release();
    // Referenced, it stays however old it gets.
    now += 2 * SHARED_BLOB_GRACE_MS;
    expect(await collectorB.sweep()).toMatchObject({ removed: 0 });
    // Unreferenced but touched lately (a hold on replica a, as a copy makes), it stays; old and unreferenced, it goes.
    await bucketsA.deleteObject('revisions', 'b.zip');
    (await blobsA.hold(held.sha256))!.release();
    expect(await collectorB.sweep()).toMatchObject({ removed: 0 });
    expect(await blobsA.has(held.sha256)).toBe(true);
    now += 2 * SHARED_BLOB_GRACE_MS;
    expect(await collectorB.sweep()).toMatchObject({ removed: 1, freedBytes: 'bundle bytes'.length });
    expect(await blobsA.has(held.sha256)).toBe(false);
    await collectorB.close();
  });

  it('refuses a database it cannot reach, naming it in one line', async () => {
    const missing = connectionUrl(path.join(tmp(), 'no-server-here'), 'fleet');
    await expect(openPgStorage(missing, { replicaId: 'r', now: Date.now, log })).rejects.toThrow(/^cannot connect to the PostgreSQL database postgres:\/\/fleetdeploy@localhost\/fleet\?host=\S+: .*ENOENT/);
  });

  it('refuses a database newer than this coordinator, naming its version', async () => {
    const url = await server().freshDatabase();
    await (await openPgStorage(url, { replicaId: 'r-1', now: Date.now, log })).close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
    await c.end();
    await expect(openPgStorage(url, { replicaId: 'r', now: Date.now, log })).rejects.toThrow(/^the PostgreSQL database is at schema version 99, newer than this coordinator knows \(\d+\); run a newer fleetdeploy-coordinator$/);
  });
});
