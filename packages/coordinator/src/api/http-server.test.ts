import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type http from 'node:http';
import { request as httpRequest } from 'node:http';
import { createApiServer } from './http-server.js';
import { drainRequest } from './request-body.js';
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

  it('adds which replica answered, whether it is ready, what it owns and the live replicas it sees, keeping status and reason', async () => {
    const replicas = [{ id: 'replica-a', apiUrl: 'https://a.test:8443', agentAddress: 'a.test:8444', startedAt: 1_000 }];
    health = { ok: true, replica: { id: 'replica-a', ready: true, owns: ['deployment/d-1'], replicas } };
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: 'ok', replica: 'replica-a', ready: true, owns: ['deployment/d-1'], replicas });
    health = { ok: false, reason: 'the coordinator is shutting down', replica: { id: 'replica-a', ready: false, owns: [], replicas: [] } };
    const down = await fetch(url);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unavailable', reason: 'the coordinator is shutting down', replica: 'replica-a', ready: false, owns: [], replicas: [] });
  });
});

describe('Expect: 100-continue', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    // The bucket's way: refuse on the headers (drainRequest, then the answer), or read the body
    const bucket = {
      handle: async (req: http.IncomingMessage, res: http.ServerResponse) => {
        if (req.headers['x-refuse'] !== undefined) {
          drainRequest(req, res);
          res.writeHead(403).end('refused');
          return;
        }
        let size = 0;
        for await (const chunk of req) size += (chunk as Buffer).length;
        res.writeHead(200).end(String(size));
      },
    };
    server = createApiServer({ codedeploy: bucket, bucket, health: () => ({ ok: true }), log: pino({ level: 'silent' }) }) as http.Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** put sends headers with Expect: 100-continue and the body only once 100 Continue comes. */
  function put(headers: Record<string, string>): Promise<{ continued: boolean; status: number; body: string; connection?: string }> {
    return new Promise((resolve, reject) => {
      let continued = false;
      const body = Buffer.alloc(3 * 1024 * 1024);
      const req = httpRequest({ host: '127.0.0.1', port, method: 'PUT', path: '/b/k', headers: { expect: '100-continue', 'content-length': String(body.length), ...headers } });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ continued, status: res.statusCode ?? 0, body: text, ...(res.headers.connection !== undefined ? { connection: res.headers.connection } : {}) }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
  }

  it('asks for the body only when it is read', async () => {
    expect(await put({})).toEqual({ continued: true, status: 200, body: String(3 * 1024 * 1024), connection: 'keep-alive' });
  });

  it('answers a refusal on the headers without asking for the body, and closes the connection', async () => {
    expect(await put({ 'x-refuse': '1' })).toEqual({ continued: false, status: 403, body: 'refused', connection: 'close' });
  });
});
