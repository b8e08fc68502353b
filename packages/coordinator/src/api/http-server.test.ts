import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type http from 'node:http';
import { createApiServer } from './http-server.js';
import type { HealthReport } from '../health.js';

describe('/healthz', () => {
  let health: HealthReport = { ok: true };
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    const refuse = { handle: async (_req: http.IncomingMessage, res: http.ServerResponse) => void res.writeHead(418).end() };
    server = createApiServer({ codedeploy: refuse, bucket: refuse, health: () => health, log: pino({ level: 'silent' }) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers 200 {"status":"ok"} when the coordinator does its work', async () => {
    health = { ok: true };
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok' });
  });

  it('answers 503 with the reason when it does not, for GET and (without a body) HEAD', async () => {
    health = { ok: false, reason: 'the deployment engine has not started yet' };
    const r = await fetch(url);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ status: 'unavailable', reason: 'the deployment engine has not started yet' });
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(503);
    expect(await head.text()).toBe('');
  });
});
