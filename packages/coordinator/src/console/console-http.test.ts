/**
 * The console's handler on real HTTP and HTTPS servers (the coordinator's own CA issues the
 * certificate): the cookie is Secure exactly when the request came over TLS, the Origin the console
 * accepts follows the scheme, and a coordinator whose console files were not built says so.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessKey } from '../auth/access-keys.js';
import { openAuthority } from '../ca/authority.js';
import { createConsole } from './console-http.js';
import type { Console } from './console-http.js';
import { createSessionStore } from './console-sessions.js';
import { createLoginLimiter } from './login-limiter.js';
import { loadConsoleAssets } from './static-assets.js';

const key: AccessKey = { id: 'AKIAAAAAAAAAAAAAAAAA', secret: 'secret-of-the-admin', role: 'admin', createdAt: 0 };

function makeConsole(assetDir?: string): Console {
  const keys = { get: (id: string) => Promise.resolve(id === key.id ? key : undefined) };
  return createConsole({
    operations: { ListApplications: () => ({ applications: ['shop'] }) },
    ctx: {},
    keys,
    sessions: createSessionStore({ keys, now: () => Date.now(), ttlMs: 60_000 }),
    limiter: createLoginLimiter({ now: () => Date.now(), maxFailures: 10, windowMs: 60_000 }),
    assets: loadConsoleAssets(assetDir),
    sessionSeconds: 60,
    log: pino({ level: 'silent' }),
  });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown>;
}

function request(base: string, method: string, p: string, headers: Record<string, string>, body?: unknown, ca?: string): Promise<Reply> {
  const url = new URL(p, base);
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers: { 'content-type': 'application/json', ...headers }, ...(ca === undefined ? {} : { ca }) }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const signInBody = { accessKeyId: key.id, secretAccessKey: key.secret };

describe('the console over TLS and plain HTTP', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-console-tls-'));
  let ca: string;
  let tlsServer: https.Server;
  let plainServer: http.Server;
  let tlsBase: string;
  let plainBase: string;

  beforeAll(async () => {
    const authority = await openAuthority(dir, {}, Date.now());
    const identity = await authority.issueServer(['127.0.0.1', 'localhost'], Date.now());
    ca = authority.certPem;
    const c = makeConsole();
    tlsServer = https.createServer({ key: identity.keyPem, cert: identity.chainPem }, (req, res) => void c.handle(req, res));
    plainServer = http.createServer((req, res) => void c.handle(req, res));
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => plainServer.listen(0, '127.0.0.1', r));
    tlsBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    plainBase = `http://127.0.0.1:${(plainServer.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    tlsServer?.close();
    plainServer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sets a Secure cookie over TLS, and accepts only the https:// origin there', async () => {
    const r = await request(tlsBase, 'POST', '/_console/api/login', { origin: tlsBase }, signInBody, ca);
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']![0]).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    const cookie = r.headers['set-cookie']![0]!.split(';')[0]!;
    const ok = await request(tlsBase, 'POST', '/_console/api/call/ListApplications', { origin: tlsBase, cookie, 'x-fleetdeploy-csrf': r.json.csrfToken as string }, {}, ca);
    expect(ok.json).toEqual({ applications: ['shop'] });
    // the same host and port named with http:// is another origin
    const downgraded = await request(tlsBase, 'POST', '/_console/api/call/ListApplications', { origin: tlsBase.replace('https:', 'http:'), cookie, 'x-fleetdeploy-csrf': r.json.csrfToken as string }, {}, ca);
    expect(downgraded.status).toBe(403);
    expect(downgraded.json.message).toMatch(/not from the console's own origin https:\/\//);
    const logout = await request(tlsBase, 'POST', '/_console/api/logout', { origin: tlsBase, cookie, 'x-fleetdeploy-csrf': r.json.csrfToken as string }, {}, ca);
    expect(logout.headers['set-cookie']![0]).toMatch(/Max-Age=0; HttpOnly; SameSite=Strict; Secure$/);
  });

  it('leaves Secure off over plain HTTP, where a browser would drop such a cookie', async () => {
    const r = await request(plainBase, 'POST', '/_console/api/login', { origin: plainBase }, signInBody);
    expect(r.status).toBe(200);
    expect(r.headers['set-cookie']![0]).not.toMatch(/Secure/);
    expect(r.headers['set-cookie']![0]).toMatch(/; HttpOnly; SameSite=Strict$/);
  });
});

describe('a console whose files were not built', () => {
  it('answers the page with 503 naming the build, and still serves the API behind it', async () => {
    const c = makeConsole(path.join(os.tmpdir(), 'fd-no-such-console-dir'));
    const server = http.createServer((req, res) => void c.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const page = await request(base, 'GET', '/_console/', {});
      expect(page.status).toBe(503);
      expect(page.json).toEqual({ __type: 'ServiceUnavailableException', message: expect.stringMatching(/^the console's files are not built \(no .*fd-no-such-console-dir\/index\.html\); run npm run build$/) });
      expect((await request(base, 'POST', '/_console/api/login', { origin: base }, signInBody)).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('refuses a body over 64 kB with 413 rather than reading on', async () => {
    const c = makeConsole();
    const server = http.createServer((req, res) => void c.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const r = await request(base, 'POST', '/_console/api/login', { origin: base }, { accessKeyId: 'x'.repeat(70_000), secretAccessKey: 'y' });
      expect(r.status).toBe(413);
      expect(r.json.__type).toBe('SerializationException');
    } finally {
      server.close();
    }
  });
});
