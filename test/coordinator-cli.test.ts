/**
 * fleetdeploy-coordinator serve as an operator meets it: it starts on free ports, answers /healthz,
 * stops on SIGTERM, and a mistake prints one ERROR line (no stack) and exits 1.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';

function serve(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A start that fails must also end the process: a hang is killed and reported as such.
    execFile(process.execPath, [COORDINATOR_BIN, 'serve', ...args], { timeout: 8_000 }, (err, stdout, stderr) => {
      const e = err as { code?: number; killed?: boolean } | null;
      resolve({ code: e ? (e.killed ? -1 : (e.code ?? -2)) : 0, stdout, stderr });
    });
  });
}

/** replicaRows is the ids in the data directory's replicas table (read-only, beside the running coordinator). */
function replicaRows(dataDir: string): string[] {
  const db = new Database(path.join(dataDir, 'coordinator.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT id FROM replicas ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);
  } finally {
    db.close();
  }
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fd-coord-cli-'));

describe('fleetdeploy-coordinator serve', () => {
  it('serves /healthz and stops cleanly on SIGTERM', async () => {
    const c = await startCoordinator();
    const health = await fetch(`${c.apiUrl}/healthz`);
    expect(health.status).toBe(200);
    // A coordinator alone is a replica of one: it owns no leases and sees itself live.
    const body = (await health.json()) as { replica: string };
    expect(body).toEqual({ status: 'ok', replica: expect.stringMatching(/^[0-9a-f-]{36}$/), ready: true, owns: [], replicas: [{ id: body.replica, apiUrl: c.apiUrl, agentAddress: c.agentAddress, startedAt: expect.any(Number) }] });
    expect(JSON.parse(fs.readFileSync(path.join(c.dataDir, 'endpoints.json'), 'utf8'))).toMatchObject({ apiUrl: c.apiUrl, agentAddress: c.agentAddress });
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(c.logs()).toContain('coordinator stopped');
    expect(replicaRows(c.dataDir)).toEqual([]); // a clean stop removes its row
  });

  it('a coordinator killed leaves its replica row; the next process on the data directory removes it at start, naming it', async () => {
    const first = await startCoordinator();
    const killed = ((await (await fetch(`${first.apiUrl}/healthz`)).json()) as { replica: string }).replica;
    await first.stop('SIGKILL');
    expect(replicaRows(first.dataDir)).toEqual([killed]);
    const next = await startCoordinator({ dataDir: first.dataDir });
    try {
      const body = (await (await fetch(`${next.apiUrl}/healthz`)).json()) as { replica: string; replicas: Array<{ id: string }> };
      expect(body.replica).not.toBe(killed);
      expect(body.replicas.map((r) => r.id)).toEqual([body.replica]);
      expect(replicaRows(next.dataDir)).toEqual([body.replica]);
      const line = next.logs().split('\n').find((l) => l.includes(`replica ${killed} is dead`));
      expect(JSON.parse(line ?? '{}')).toMatchObject({ level: 40, part: 'replicas', replica: killed, closedSessions: 0 });
    } finally {
      expect(await next.stop('SIGTERM')).toBe(0);
    }
  });

  it('logs for people with --log-format pretty (pino-pretty text, no JSON), and JSON lines by default', async () => {
    const pretty = await startCoordinator({ args: ['--log-format', 'pretty'] });
    expect(await pretty.stop('SIGTERM')).toBe(0);
    const lines = pretty.logs().trim().split('\n');
    expect(lines.find((l) => l.includes('coordinator stopped'))).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: coordinator stopped$/);
    expect(lines.filter((l) => l.startsWith('{'))).toEqual([]);
    const json = await startCoordinator({ args: ['--log-format', 'json'] });
    expect(await json.stop('SIGTERM')).toBe(0);
    expect(json.logs().trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('coordinator stopped');
  });

  it.each([
    ['a log format that is neither json nor pretty', () => ['--log-format', 'xml'], /^ERROR: --log-format: expected json or pretty, got "xml"$/],
    ['an unknown setting in the file', (dir: string) => { fs.writeFileSync(path.join(dir, 'c.yml'), 'api_prot: 1\n'); return ['--config', path.join(dir, 'c.yml')]; }, /api_prot: unknown setting/],
    ['a bad port flag', () => ['--port', 'eighty'], /--api-port: expected a port number/],
    ['a missing configuration file', (dir: string) => ['--config', path.join(dir, 'nope.yml')], /cannot read the configuration file .*nope\.yml: ENOENT/],
    ['a --database that is not a PostgreSQL URL', () => ['--database', 'mysql://db/x'], /^ERROR: --database: expected a postgres:\/\/ URL .*got the scheme "mysql"$/],
    ['a database: in the file that names no database', (dir: string) => { fs.writeFileSync(path.join(dir, 'c.yml'), 'database: postgres://fd:secret@db.example/\n'); return ['--config', path.join(dir, 'c.yml')]; }, /^ERROR: .*c\.yml: database: names no database in postgres:\/\/fd:\*\*\*@db\.example\/ /],
    ['a PostgreSQL database without a blob directory the replicas share', () => ['--database', 'postgres://fd@127.0.0.1:1/fleet', '--port', '0', '--agent-port', '0'], /^ERROR: --database needs --blob-dir \(blob_dir\): a directory every replica shares/],
    ['a PostgreSQL database that refuses connections', (dir: string) => ['--data-dir', path.join(dir, 'data'), '--database', 'postgres://fd@127.0.0.1:1/fleet', '--blob-dir', path.join(dir, 'blobs'), '--port', '0', '--agent-port', '0'], /^ERROR: cannot connect to the PostgreSQL database postgres:\/\/fd@127\.0\.0\.1:1\/fleet: .*ECONNREFUSED/],
    ['a blob directory that is a file', (dir: string) => { fs.writeFileSync(path.join(dir, 'blobs'), ''); return ['--data-dir', path.join(dir, 'data'), '--blob-dir', path.join(dir, 'blobs'), '--port', '0', '--agent-port', '0']; }, /^ERROR: cannot use the blob directory .*blobs: EEXIST; choose another with --blob-dir \(blob_dir\)$/],
    ['a data directory that is a file', (dir: string) => { fs.writeFileSync(path.join(dir, 'file'), ''); return ['--data-dir', path.join(dir, 'file'), '--port', '0', '--agent-port', '0']; }, /cannot use the data directory .*file/],
  ])('refuses %s with one ERROR line', async (_what, args, message) => {
    const dir = tmp();
    const r = await serve(args(dir));
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ERROR: /);
    expect(lines[0]).toMatch(message);
  });

  it('says only which port is taken, without grpc-js\'s own log line before it', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const r = await serve(['--data-dir', tmp(), '--port', '0', '--agent-port', String(port)]);
    holder.close();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ERROR: cannot listen on 127.0.0.1 port ${port} (the agents' gRPC service): another process uses it; pick another with --agent-port\n`);
  });

  it('names the port when it is taken', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const r = await serve(['--data-dir', tmp(), '--port', String(port), '--agent-port', '0']);
    holder.close();
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^ERROR: cannot listen on 127\\.0\\.0\\.1 port ${port}`));
  });
});

describe('the data directory', () => {
  const modeOf = (file: string): string => (fs.statSync(file).mode & 0o777).toString(8);

  it('is made by serve only: readable by its owner alone, secrets 0600', async () => {
    const dataDir = path.join(tmp(), 'new', 'data');
    const c = await startCoordinator({ dataDir });
    try {
      for (const dir of [dataDir, path.join(dataDir, 'ca'), path.join(dataDir, 'blobs')]) expect([dir, modeOf(dir)]).toEqual([dir, '700']);
      for (const secret of ['coordinator.db', 'admin-credentials', 'ca/ca-key.pem', 'coordinator.pid']) expect([secret, modeOf(path.join(dataDir, secret))]).toEqual([secret, '600']);
    } finally {
      await c.stop();
    }
  });

  it.each([
    ['enrol-token without --data-dir', [] as string[], ['enrol-token', '--instance', 'web-1'], /^ERROR: the default data directory fleetdeploy-data \(no --data-dir given\) does not exist: pass the coordinator's own with --data-dir DIR/],
    ['enrol-token with a mistyped --data-dir', ['--data-dir', 'dta'], ['enrol-token', '--instance', 'web-1'], /^ERROR: the data directory dta does not exist: .*only fleetdeploy-coordinator serve creates one$/],
    ['keys create without --data-dir', [], ['keys', 'create', '--role', 'admin'], /^ERROR: the default data directory fleetdeploy-data .*does not exist/],
    ['keys list without --data-dir', [], ['keys', 'list'], /^ERROR: the default data directory fleetdeploy-data .*does not exist/],
  ])('is not made by %s: one ERROR line naming it, nothing written', async (_what, dirArgs, args, message) => {
    const cwd = tmp();
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [COORDINATOR_BIN, ...args, ...dirArgs], { cwd, timeout: 15_000 }, (err, _stdout, stderr) => resolve({ code: err === null ? 0 : (err.code as number), stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr.trimEnd()).toMatch(message);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('takes one coordinator: a second serve is refused, a killed one\'s pid file does not block a restart', async () => {
    const first = await startCoordinator();
    const endpoints = fs.readFileSync(path.join(first.dataDir, 'endpoints.json'), 'utf8');
    const second = await serve(['--data-dir', first.dataDir, '--port', '0', '--agent-port', '0']);
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`ERROR: another coordinator (pid ${first.child.pid}) is running on the data directory ${first.dataDir} (see ${path.join(first.dataDir, 'coordinator.pid')}): stop it first, or give this one another --data-dir\n`);
    expect(fs.readFileSync(path.join(first.dataDir, 'endpoints.json'), 'utf8')).toBe(endpoints);

    await first.stop('SIGKILL');
    expect(fs.existsSync(path.join(first.dataDir, 'coordinator.pid'))).toBe(true);
    const restarted = await startCoordinator({ dataDir: first.dataDir });
    expect(fs.readFileSync(path.join(first.dataDir, 'coordinator.pid'), 'utf8').split('\n')[0]).toBe(String(restarted.child.pid));
    const code = await restarted.stop();
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(first.dataDir, 'coordinator.pid'))).toBe(false);
  });
});
