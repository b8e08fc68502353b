/**
 * `fleetdeploy-coordinator serve --database` as an operator runs it: real coordinator processes on a
 * real PostgreSQL database with a shared blob directory, a real agent enrolled with
 * `enrol-token --database`, and the stock AWS CLI. One replica runs an in-place deployment to
 * Succeeded; an object uploaded through one replica is read through another; replicas started at the
 * same moment on an empty database make exactly one CA and one first admin key. Each way a start on
 * PostgreSQL fails is one ERROR line, exit code 1, and nothing left listening.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { describeWithTools } from './harness/system-tools.js';
import { expectOneErrorLine, refusesConnections } from './harness/process-checks.js';
import { freeLoopbackPort } from '@fleetdeploy/shared';
import { connectionUrl, usePostgres } from './harness/postgres.js';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorOptions, CoordinatorProcess } from './harness/coordinator.js';
import { startAgent } from './harness/agents.js';
import type { AgentProcess } from './harness/agents.js';
import { aws, awsDeployOk } from './harness/aws-cli.js';
import { writeZipBundle } from './harness/bundles.js';
import { eventually } from './harness/eventually.js';
import { pgMigrate } from '../packages/coordinator/src/store/pg/pg-migrate.js';
import { pgMigrations } from '../packages/coordinator/src/store/pg/pg-migrations.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** coordinator runs `fleetdeploy-coordinator args`; a run that does not end by itself is killed and reported as -1. */
function coordinator(args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [COORDINATOR_BIN, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const e = err as { code?: number; killed?: boolean } | null;
      resolve({ code: e ? (e.killed ? -1 : (e.code ?? -2)) : 0, stdout, stderr });
    });
  });
}


const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

describeWithTools(['postgres', 'aws'], 'serve --database: replicas on one PostgreSQL database', () => {
  const server = usePostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-coord-pg-'));
  const coordinators: CoordinatorProcess[] = [];
  const agents: AgentProcess[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop('SIGKILL')));
    await Promise.all(coordinators.splice(0).map((c) => c.stop()));
  });
  const replica = async (url: string, blobDir: string, opts: CoordinatorOptions = {}): Promise<CoordinatorProcess> => {
    const c = await startCoordinator({ ...opts, args: ['--database', url, '--blob-dir', blobDir, ...(opts.args ?? [])] });
    coordinators.push(c);
    return c;
  };
  /** errorsOf is the coordinator's error log lines, to explain a failure. */
  const errorsOf = (c: CoordinatorProcess): string => c.logs().split('\n').filter((l) => l.includes('"level":50')).join('\n');
  const cliOk = async (c: CoordinatorProcess, args: string[]) => {
    const r = await aws(c, args);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r;
  };

  it('runs an in-place deployment to Succeeded with a real agent and the stock aws CLI; /healthz says ready, naming its replica', async () => {
    const url = await server().freshDatabase();
    const blobDir = path.join(dir, 'shared-blobs-1');
    const c = await replica(url, blobDir);
    const health = (await (await fetch(`${c.apiUrl}/healthz`)).json()) as { status: string; ready: boolean; replica: string; replicas: Array<{ id: string }> };
    expect(health).toMatchObject({ status: 'ok', ready: true, replica: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(health.replicas.map((r) => r.id)).toEqual([health.replica]);

    await awsDeployOk(c, ['register-on-premises-instance', '--instance-name', 'pg-1', '--iam-user-arn', 'arn:aws:iam::000000000000:user/pg-1']);
    await awsDeployOk(c, ['add-tags-to-on-premises-instances', '--instance-names', 'pg-1', '--tags', 'Key=env,Value=pg']);
    // Enrolled with a token minted on the database (enrol-token --database), as on any replica's host.
    const agent = await startAgent('pg-1', { ...c, database: url }, dir);
    agents.push(agent);
    await awsDeployOk(c, ['create-application', '--application-name', 'app']);
    await cliOk(c, ['s3', 'mb', 's3://revisions']);
    const bundle = writeZipBundle(path.join(dir, 'bundle.zip'), {
      'appspec.yml': 'version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/pg\nhooks:\n  ValidateService:\n    - location: check.sh\n      timeout: 30\n',
      'site/index.html': '<h1>served from PostgreSQL</h1>\n',
      'check.sh': '#!/bin/sh\necho validated\n',
    });
    await cliOk(c, ['s3', 'cp', bundle, 's3://revisions/bundle.zip']);
    await awsDeployOk(c, ['create-deployment-group', '--application-name', 'app', '--deployment-group-name', 'g', '--service-role-arn', 'arn:aws:iam::000000000000:role/fd', '--deployment-config-name', 'CodeDeployDefault.AllAtOnce', '--on-premises-instance-tag-filters', 'Key=env,Value=pg,Type=KEY_AND_VALUE']);
    const created = await aws(c, ['deploy', 'create-deployment', '--application-name', 'app', '--deployment-group-name', 'g', '--s3-location', 'bucket=revisions,key=bundle.zip,bundleType=zip']);
    expect(created.code, `${created.stderr}\n${errorsOf(c)}`).toBe(0);
    const { deploymentId } = created.json as { deploymentId: string };
    const info = await eventually(async () => {
      const d = ((await awsDeployOk(c, ['get-deployment', '--deployment-id', deploymentId])) as { deploymentInfo: { status: string } }).deploymentInfo;
      if (!['Succeeded', 'Failed', 'Stopped'].includes(d.status)) throw new Error(`still ${d.status}`);
      return d;
    }, 60_000, 200);
    expect(info.status, `${JSON.stringify(info)}\n${agent.logs()}`).toBe('Succeeded');
    expect(fs.readFileSync(path.join(agent.filesDir, 'srv/pg/index.html'), 'utf8')).toBe('<h1>served from PostgreSQL</h1>\n');
    // The bundle lives in the shared blob directory, not in the replica's data directory.
    const stored = (await query<{ sha256: string }>(url, "SELECT sha256 FROM bucket_objects WHERE key = 'bundle.zip'"))[0]!.sha256;
    expect(fs.existsSync(path.join(blobDir, stored.slice(0, 2), stored))).toBe(true);
    expect(fs.existsSync(path.join(c.dataDir, 'blobs'))).toBe(false);
  }, 120_000);

  it('two replicas: an object uploaded through one is read through the other, and each sees both as live', async () => {
    const url = await server().freshDatabase();
    const blobDir = path.join(dir, 'shared-blobs-2');
    const a = await replica(url, blobDir);
    const b = await replica(url, blobDir, { credentials: a.credentials });
    expect(fs.existsSync(path.join(b.dataDir, 'admin-credentials'))).toBe(false); // the first admin key was a's to write
    const file = path.join(dir, 'object.txt');
    fs.writeFileSync(file, 'uploaded to replica a\n');
    await cliOk(a, ['s3', 'mb', 's3://shared']);
    await cliOk(a, ['s3', 'cp', file, 's3://shared/object.txt']);
    const got = path.join(dir, 'got.txt');
    await cliOk(b, ['s3', 'cp', 's3://shared/object.txt', got]);
    expect(fs.readFileSync(got, 'utf8')).toBe('uploaded to replica a\n');
    const health = (await (await fetch(`${b.apiUrl}/healthz`)).json()) as { replica: string; replicas: Array<{ id: string; apiUrl: string }> };
    expect(health.replicas.map((r) => r.apiUrl).sort()).toEqual([a.apiUrl, b.apiUrl].sort());
    // A replica stops cleanly (exit 0), leaving the membership; the other sees itself alone at its next look.
    coordinators.splice(coordinators.indexOf(b), 1);
    expect(await b.stop()).toBe(0);
    expect(await query(url, 'SELECT api_url FROM replicas')).toEqual([{ api_url: a.apiUrl }]);
  }, 90_000);

  it('two replicas started at the same moment on an empty database make one CA and one first admin key', async () => {
    const url = await server().freshDatabase();
    const blobDir = path.join(dir, 'shared-blobs-3');
    // Their own data directories without the run's CA: whichever makes the CA, both must end with it.
    const started = await Promise.allSettled([0, 1].map(() => startCoordinator({ seedCa: false, args: ['--database', url, '--blob-dir', blobDir, '--plaintext-api'], credentials: { accessKeyId: '', secretAccessKey: '' } })));
    for (const s of started) if (s.status === 'fulfilled') coordinators.push(s.value);
    expect(started.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
    const [a, b] = coordinators as [CoordinatorProcess, CoordinatorProcess];
    const keyFiles = [a, b].filter((c) => fs.existsSync(path.join(c.dataDir, 'admin-credentials')));
    expect(keyFiles).toHaveLength(1);
    expect([a, b].filter((c) => c.printed.some((l) => l.startsWith('fleetdeploy-coordinator made the first admin access key')))).toEqual(keyFiles);
    expect(await query(url, 'SELECT COUNT(*)::int AS n FROM access_keys')).toEqual([{ n: 1 }]);
    expect(await query(url, 'SELECT COUNT(*)::int AS n FROM certificate_authority')).toEqual([{ n: 1 }]);
    const [caA, caB] = [a, b].map((c) => fs.readFileSync(path.join(c.dataDir, 'ca', 'ca.pem'), 'utf8'));
    expect(caA).toBe(caB);
    expect((await query<{ cert_pem: string }>(url, 'SELECT cert_pem FROM certificate_authority'))[0]!.cert_pem).toBe(caA);
    // The keys CLI reads the same one key from the database.
    const listed = await coordinator(['keys', 'list', '--json', '--database', url]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(1);
  }, 90_000);

  it('keys and enrol-token accept --database', async () => {
    const url = await server().freshDatabase();
    const c = await replica(url, path.join(dir, 'shared-blobs-4'));
    const made = await coordinator(['keys', 'create', '--role', 'deployer', '--database', url]);
    expect(made.code, made.stderr).toBe(0);
    const id = /aws_access_key_id = (\S+)/.exec(made.stdout)![1]!;
    const list = await coordinator(['keys', 'list', '--json', '--database', url]);
    expect((JSON.parse(list.stdout) as Array<{ id: string; role: string }>).map((k) => k.role).sort()).toEqual(['admin', 'deployer']);
    expect((await coordinator(['keys', 'revoke', id, '--database', url])).stdout).toBe(`revoked ${id} (role deployer)\n`);
    expectOneErrorLine(await coordinator(['keys', 'revoke', 'AKIANOSUCHKEY0000000', '--database', url]), /^ERROR: there is no access key AKIANOSUCHKEY0000000 in this database \(see keys list\)$/);
    // A token for an instance the replica registered, with the CA fingerprint of the shared CA.
    await awsDeployOk(c, ['register-on-premises-instance', '--instance-name', 'tok-1', '--iam-user-arn', 'arn:aws:iam::000000000000:user/tok-1']);
    const token = await coordinator(['enrol-token', '--instance', 'tok-1', '--database', url]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toMatch(/^fde1\.\S+\n$/);
    expectOneErrorLine(await coordinator(['enrol-token', '--instance', 'nobody', '--database', url]), /no registered on-premises instance is named nobody/);
  }, 60_000);

  it('refuses --database without --blob-dir, in one line, before making anything', async () => {
    const url = await server().freshDatabase();
    const dataDir = path.join(dir, 'never-made');
    expectOneErrorLine(await coordinator(['serve', '--data-dir', dataDir, '--database', url, '--port', '0', '--agent-port', '0']), /^ERROR: --database needs --blob-dir \(blob_dir\): a directory every replica shares/);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('refuses a database it cannot reach: one line naming it, exit 1, nothing listening', async () => {
    const unreachable = connectionUrl(path.join(dir, 'no-server-here'), 'fleet');
    const port = await freeLoopbackPort();
    const r = await coordinator(['serve', '--data-dir', path.join(dir, 'unreachable'), '--database', unreachable, '--blob-dir', path.join(dir, 'b'), '--port', String(port), '--agent-port', '0']);
    expectOneErrorLine(r, new RegExp(`^ERROR: cannot connect to the PostgreSQL database ${escape(unreachable)}: .*ENOENT`));
    expect(await refusesConnections(port)).toBe(true);
  });

  it('refuses a database newer than it in one line; brings an older one up to date and serves', async () => {
    const ahead = await server().freshDatabase();
    expect((await coordinator(['migrate', '--database', ahead])).code).toBe(0);
    await query(ahead, "INSERT INTO schema_migrations (version, name) VALUES (99, 'from a newer coordinator')");
    const port = await freeLoopbackPort();
    expectOneErrorLine(
      await coordinator(['serve', '--data-dir', path.join(dir, 'ahead'), '--database', ahead, '--blob-dir', path.join(dir, 'b'), '--port', String(port), '--agent-port', '0']),
      /^ERROR: the PostgreSQL database is at schema version 99, newer than this coordinator knows \(\d+\); run a newer fleetdeploy-coordinator$/,
    );
    expect(await refusesConnections(port)).toBe(true);

    // A database an older coordinator left at version 16: serve migrates it (under the migration lock) and serves.
    const behind = await server().freshDatabase();
    const client = new pg.Client({ connectionString: behind });
    await client.connect();
    await pgMigrate(client, pgMigrations.filter((m) => m.version <= 16));
    await client.end();
    const c = await replica(behind, path.join(dir, 'shared-blobs-5'));
    expect(await query(behind, 'SELECT MAX(version)::int AS v FROM schema_migrations')).toEqual([{ v: pgMigrations[pgMigrations.length - 1]!.version }]);
    expect(((await (await fetch(`${c.apiUrl}/healthz`)).json()) as { ready: boolean }).ready).toBe(true);
  }, 60_000);
});
