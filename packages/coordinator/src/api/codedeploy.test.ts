import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { createCodeDeployApi, FLEETDEPLOY_TARGET_PREFIX, STORAGE_FULL_TYPE, TARGET_PREFIX } from './codedeploy.js';
import type { Caller, CodeDeployGuard } from '../auth/request-guards.js';
import { floodRequest } from '../testing/flood-request.js';
import { fillDatabase, freeDatabase } from '../testing/full-database.js';
import { DISK_FULL_MESSAGE } from '../store/disk-full.js';

/** A guard that admits every request as the deployer key AKIADEPLOYER, refusing DeleteApplication as its role would. */
const deployer: CodeDeployGuard = {
  authenticate: () => Promise.resolve<Caller>({ keyId: 'AKIADEPLOYER', role: 'deployer' }),
  authorize: (_caller, operation) => {
    if (operation === 'DeleteApplication') throw new ApiError('AccessDeniedException', 'not for a deployer');
  },
};

describe('the API audit line', () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  it('logs every call that may change something at info, with the key that made it and how it ended; reads are not audited', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) });
    const operations = {
      CreateDeployment: () => ({ deploymentId: 'd-1' }),
      StopDeployment: () => {
        throw new ApiError('DeploymentAlreadyCompletedException', 'done already');
      },
      DeleteApplication: () => ({}),
      GetDeployment: () => ({}),
    };
    const api = createCodeDeployApi(operations, {}, pino({ level: 'info' }, sink), deployer, { ListInstances: () => ({ instances: [] }) });
    server = http.createServer((req, res) => void api.handle(req, res));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = (target: string): Promise<Response> => fetch(url, { method: 'POST', headers: { 'x-amz-target': target }, body: '{}' });

    expect((await call(`${TARGET_PREFIX}CreateDeployment`)).status).toBe(200);
    expect((await call(`${TARGET_PREFIX}StopDeployment`)).status).toBe(400);
    expect((await call(`${TARGET_PREFIX}DeleteApplication`)).status).toBe(400);
    expect((await call(`${TARGET_PREFIX}GetDeployment`)).status).toBe(200);
    expect((await call(`${FLEETDEPLOY_TARGET_PREFIX}ListInstances`)).status).toBe(200);

    expect(lines.filter((l) => l.msg === 'api call').map((l) => ({ level: l.level, operation: l.operation, accessKeyId: l.accessKeyId, role: l.role, outcome: l.outcome }))).toEqual([
      { level: 30, operation: 'CreateDeployment', accessKeyId: 'AKIADEPLOYER', role: 'deployer', outcome: 'ok' },
      { level: 30, operation: 'StopDeployment', accessKeyId: 'AKIADEPLOYER', role: 'deployer', outcome: 'DeploymentAlreadyCompletedException' },
      { level: 30, operation: 'DeleteApplication', accessKeyId: 'AKIADEPLOYER', role: 'deployer', outcome: 'AccessDeniedException' },
    ]);
  });
});

describe('a body over the limit', () => {
  let server: http.Server | undefined;
  afterEach(() => server?.close());

  it('is answered with SerializationException and the connection closed after a bounded read, so the client neither stalls nor streams on', async () => {
    const api = createCodeDeployApi({}, {}, pino({ level: 'silent' }), deployer, {});
    server = http.createServer((req, res) => void api.handle(req, res));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const GiB = 1024 * 1024 * 1024;
    const r = await floodRequest(port, `POST / HTTP/1.1\nHost: 127.0.0.1\nX-Amz-Target: ${TARGET_PREFIX}CreateDeployment\nContent-Length: ${GiB}`, GiB);
    expect(r.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(r.head.toLowerCase()).toContain('connection: close');
    expect(r.cutOff).toBe(true);
    expect(r.sent).toBeLessThan(64 * 1024 * 1024);
  });
});


describe('a full disk', () => {
  let server: http.Server | undefined;
  let dir: string | undefined;
  afterEach(() => {
    server?.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is answered 507 StorageFullException with the storage message (no retryable 500), logged once per episode, until space returns', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-api-full-'));
    const db = new Database(path.join(dir, 'x.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE apps (name TEXT)');
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) });
    const operations = {
      CreateApplication: (input: { applicationName?: unknown }) => (db.prepare('INSERT INTO apps VALUES (?)').run(String(input.applicationName)), { applicationId: 'a-1' }),
      ListApplications: () => ({ applications: (db.prepare('SELECT name FROM apps').pluck().all() as string[]) }),
    };
    const api = createCodeDeployApi(operations, {}, pino({ level: 'info' }, sink), deployer);
    server = http.createServer((req, res) => void api.handle(req, res));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = (operation: string, body: unknown = {}): Promise<Response> => fetch(url, { method: 'POST', headers: { 'x-amz-target': `${TARGET_PREFIX}${operation}` }, body: JSON.stringify(body) });

    expect((await call('CreateApplication', { applicationName: 'shop' })).status).toBe(200);
    fillDatabase(db, ['apps']);
    for (const name of ['web', 'api', 'jobs']) {
      const r = await call('CreateApplication', { applicationName: name });
      expect(r.status).toBe(507);
      expect(await r.json()).toEqual({ __type: STORAGE_FULL_TYPE, message: DISK_FULL_MESSAGE });
    }
    expect(await (await call('ListApplications')).json()).toEqual({ applications: ['shop'] });
    freeDatabase(db);
    expect((await call('CreateApplication', { applicationName: 'web' })).status).toBe(200);
    db.close();

    const messages = lines.map((l) => `${String(l.level)} ${String(l.msg)}`);
    expect(messages.filter((m) => !m.endsWith(' api call'))).toEqual(['50 disk full: nothing can be stored until space is freed in the data directory', '30 disk space is back: writes succeed again']);
    expect(lines.filter((l) => l.msg === 'api call').map((l) => l.outcome)).toEqual(['ok', STORAGE_FULL_TYPE, STORAGE_FULL_TYPE, STORAGE_FULL_TYPE, 'ok']);
  });
});
