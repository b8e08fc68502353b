import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from './api-error.js';
import { createCodeDeployApi, FLEETDEPLOY_TARGET_PREFIX, TARGET_PREFIX } from './codedeploy.js';
import type { Caller, CodeDeployGuard } from '../auth/request-guards.js';
import { floodRequest } from '../testing/flood-request.js';

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

