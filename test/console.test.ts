/**
 * The web console's HTTP side against a real coordinator (issue 12 item 2): the page and its cached
 * assets, sign-in with an access key into a cookie session, and every way a request is refused
 * (bad sign-in, too many of them, no Origin, a foreign Origin, no or a wrong CSRF token, an expired
 * or revoked session, a read-only key asking to stop, an operation the console does not serve), and
 * the event stream entered with the cookie. The browser drives it in console-browser.test.ts.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess, Credentials } from './harness/coordinator.js';
import { eventually } from './harness/eventually.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: Record<string, unknown>;
}

/** send makes one request with exactly the headers given (fetch would add or refuse some). */
function send(base: string, method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Reply> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        } catch {
          // not JSON: a page or an asset
        }
        resolve({ status: res.statusCode!, headers: res.headers, body: raw, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const run = promisify(execFile);

/** makeKey makes an access key of `role` with the coordinator's own `keys create`. */
async function makeKey(dataDir: string, role: string): Promise<Credentials> {
  const { stdout } = await run(process.execPath, [COORDINATOR_BIN, 'keys', 'create', '--role', role, '--data-dir', dataDir]);
  return { accessKeyId: /aws_access_key_id = (\S+)/.exec(stdout)![1]!, secretAccessKey: /aws_secret_access_key = (\S+)/.exec(stdout)![1]! };
}

/** A signed-in browser, as the console's scripts are: its cookie, CSRF token and origin. */
interface Browser {
  cookie: string;
  csrf: string;
  origin: string;
  role: string;
}

async function signIn(base: string, key: Credentials): Promise<Browser> {
  const r = await send(base, 'POST', '/_console/api/login', { headers: { origin: base }, body: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
  expect(r.status, r.body.toString()).toBe(200);
  const setCookie = r.headers['set-cookie']![0]!;
  return { cookie: setCookie.split(';')[0]!, csrf: r.json.csrfToken as string, origin: base, role: r.json.role as string };
}

const callAs = (base: string, b: Browser, operation: string, input: unknown = {}, headers: Record<string, string> = {}): Promise<Reply> =>
  send(base, 'POST', `/_console/api/call/${operation}`, { headers: { cookie: b.cookie, origin: b.origin, 'x-fleetdeploy-csrf': b.csrf, ...headers }, body: input });

/** openStream tries the console's WebSocket with `headers`: opened, or the refusal's status and body. */
const openStream = (base: string, headers: Record<string, string>): Promise<{ opened: boolean; status?: number; body?: string }> =>
  new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/_console/events`, { headers });
    ws.on('open', () => {
      ws.close();
      resolve({ opened: true });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ opened: false, status: res.statusCode!, body }));
    });
    ws.on('error', () => undefined);
  });

let coordinator: CoordinatorProcess;
let base: string;
let readOnly: Credentials;

beforeAll(async () => {
  coordinator = await startCoordinator();
  base = coordinator.apiUrl;
  readOnly = await makeKey(coordinator.dataDir, 'read-only');
}, 60_000);

afterAll(async () => {
  await coordinator?.stop();
});

describe('the console page', () => {
  it('serves the page with a strict content security policy, and its assets content-hashed, cached a year and gzipped', async () => {
    const redirect = await send(base, 'GET', '/_console');
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe('/_console/');
    const page = await send(base, 'GET', '/_console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const script = /src="assets\/(app-[A-Z0-9]{8}\.js)"/.exec(page.body.toString())![1]!;
    const plain = await send(base, 'GET', `/_console/assets/${script}`);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const gz = await send(base, 'GET', `/_console/assets/${script}`, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(gz.body.length).toBeLessThan(plain.body.length / 2);
    console.log(`console bundle: ${(plain.body.length / 1024).toFixed(1)} kB, gzip ${(gz.body.length / 1024).toFixed(1)} kB`);
  });

  it('answers an unknown console path in JSON, not as a bucket (no bucket name can start with _)', async () => {
    for (const path of ['/_console/assets/nothing.js', '/_console/nowhere']) {
      const r = await send(base, 'GET', path);
      expect(r.status).toBe(404);
      expect(r.json.__type).toBe('NotFoundException');
    }
    // the bucket still answers everything else (unsigned: refused in S3's XML)
    const bucket = await send(base, 'GET', '/console/x');
    expect(bucket.body.toString()).toContain('<Code>AccessDenied</Code>');
  });
});

describe('signing in', () => {
  it('sets an HttpOnly, SameSite=Strict, Secure session cookie (the API speaks HTTPS) and tells the role and CSRF token', async () => {
    const r = await send(base, 'POST', '/_console/api/login', { headers: { origin: base }, body: coordinator.credentials });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ keyId: coordinator.credentials.accessKeyId, role: 'admin', csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const cookie = r.headers['set-cookie']![0]!;
    expect(base).toMatch(/^https:/);
    expect(cookie).toMatch(/^fd_console=[A-Za-z0-9_-]{43}; Path=\/_console; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$/);
    const session = await send(base, 'GET', '/_console/api/session', { headers: { cookie: cookie.split(';')[0]! } });
    expect(session.json).toMatchObject({ keyId: coordinator.credentials.accessKeyId, role: 'admin', csrfToken: r.json.csrfToken });
    expect(session.headers['cache-control']).toBe('no-store');
  });

  it('refuses a wrong secret, an unknown key, a revoked key and a malformed body', async () => {
    const wrong = await send(base, 'POST', '/_console/api/login', { headers: { origin: base, 'x-forwarded-for': 'ignored' }, body: { accessKeyId: readOnly.accessKeyId, secretAccessKey: 'not-the-secret' } });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ __type: 'InvalidCredentialsException', message: 'the access key id or secret is wrong, or the key is revoked' });
    expect(wrong.headers['set-cookie']).toBeUndefined();
    const unknown = await send(base, 'POST', '/_console/api/login', { headers: { origin: base }, body: { accessKeyId: 'AKIANOSUCHKEYNOSUCH0', secretAccessKey: 'x' } });
    expect(unknown.status).toBe(401);
    const revokedKey = await makeKey(coordinator.dataDir, 'admin');
    await run(process.execPath, [COORDINATOR_BIN, 'keys', 'revoke', revokedKey.accessKeyId, '--data-dir', coordinator.dataDir]);
    expect((await send(base, 'POST', '/_console/api/login', { headers: { origin: base }, body: revokedKey })).status).toBe(401);
    const malformed = await send(base, 'POST', '/_console/api/login', { headers: { origin: base }, body: '{"accessKeyId": 1' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.__type).toBe('SerializationException');
    const missing = await send(base, 'POST', '/_console/api/login', { headers: { origin: base }, body: { accessKeyId: readOnly.accessKeyId } });
    expect(missing.status).toBe(400);
    expect(missing.json.message).toMatch(/accessKeyId and secretAccessKey/);
  });

  it('refuses a sign-in without an Origin or from another origin (login CSRF)', async () => {
    const none = await send(base, 'POST', '/_console/api/login', { body: coordinator.credentials });
    expect(none.status).toBe(403);
    expect(none.json.message).toMatch(/no Origin header/);
    const foreign = await send(base, 'POST', '/_console/api/login', { headers: { origin: 'http://evil.example' }, body: coordinator.credentials });
    expect(foreign.status).toBe(403);
    expect(foreign.json.message).toBe(`the request comes from http://evil.example, not from the console's own origin ${base}`);
  });
});

describe('calls behind the session', () => {
  it('runs reads for any key and refuses a call without a session, CSRF token or Origin', async () => {
    const admin = await signIn(base, coordinator.credentials);
    const ok = await callAs(base, admin, 'ListApplications');
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ applications: [] });
    const fleet = await callAs(base, admin, 'ListInstances');
    expect(fleet.json).toEqual({ instances: [] });

    const noCookie = await callAs(base, { ...admin, cookie: 'other=1' }, 'ListApplications');
    expect(noCookie.status).toBe(401);
    expect(noCookie.json.__type).toBe('NotSignedInException');
    const forged = await callAs(base, { ...admin, cookie: 'fd_console=forged' }, 'ListApplications');
    expect(forged.status).toBe(401);
    const noToken = await send(base, 'POST', '/_console/api/call/ListApplications', { headers: { cookie: admin.cookie, origin: base }, body: {} });
    expect(noToken.status).toBe(403);
    expect(noToken.json).toEqual({ __type: 'CsrfCheckFailedException', message: "the request has no valid x-fleetdeploy-csrf header (the session's CSRF token)" });
    const wrongToken = await callAs(base, { ...admin, csrf: 'x'.repeat(43) }, 'ListApplications');
    expect(wrongToken.status).toBe(403);
    const noOrigin = await send(base, 'POST', '/_console/api/call/ListApplications', { headers: { cookie: admin.cookie, 'x-fleetdeploy-csrf': admin.csrf }, body: {} });
    expect(noOrigin.status).toBe(403);
    const foreign = await callAs(base, { ...admin, origin: 'http://127.0.0.1:1' }, 'ListApplications');
    expect(foreign.status).toBe(403);
    expect(foreign.json.__type).toBe('CsrfCheckFailedException');
  });

  it('refuses a read-only key that asks to stop or continue, whatever the page shows (403)', async () => {
    const reader = await signIn(base, readOnly);
    expect(reader.role).toBe('read-only');
    for (const [operation, input] of [
      ['StopDeployment', { deploymentId: 'd-AAAAAAAAA' }],
      ['StopDeployment', { deploymentId: 'd-AAAAAAAAA', autoRollbackEnabled: true }],
      ['ContinueDeployment', { deploymentId: 'd-AAAAAAAAA', deploymentWaitType: 'READY_WAIT' }],
    ] as const) {
      const r = await callAs(base, reader, operation, input);
      expect(r.status).toBe(403);
      expect(r.json).toEqual({ __type: 'AccessDeniedException', message: `The access key ${readOnly.accessKeyId} (role read-only) is not authorized to perform: codedeploy:${operation}` });
    }
    // audited as the API audits a refused change, marked as the console's
    await eventually(() => expect(coordinator.logs()).toContain(`"operation":"StopDeployment","accessKeyId":"${readOnly.accessKeyId}","role":"read-only","outcome":"AccessDeniedException","via":"console"`), 5_000, 50);
  });

  it("passes an admin's stop to StopDeployment itself (its own refusal for an unknown deployment)", async () => {
    const admin = await signIn(base, coordinator.credentials);
    const r = await callAs(base, admin, 'StopDeployment', { deploymentId: 'd-AAAAAAAAA' });
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe('DeploymentDoesNotExistException');
  });

  it('answers a guided failure (ResolveInstanceFailure) for a deployer or admin key, never for a read-only key or without the CSRF token', async () => {
    const input = { deploymentId: 'd-AAAAAAAAA', instanceId: 'web-1', action: 'retry' };
    const reader = await signIn(base, readOnly);
    const refused = await callAs(base, reader, 'ResolveInstanceFailure', input);
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ __type: 'AccessDeniedException', message: `The access key ${readOnly.accessKeyId} (role read-only) is not authorized to perform: codedeploy:ResolveInstanceFailure` });

    // the operation itself answers a deployer and an admin: here its own refusal of an unknown deployment
    for (const key of [await makeKey(coordinator.dataDir, 'deployer'), coordinator.credentials]) {
      const b = await signIn(base, key);
      const r = await callAs(base, b, 'ResolveInstanceFailure', input);
      expect(r.status, b.role).toBe(400);
      expect(r.json.__type).toBe('DeploymentDoesNotExistException');
      const bad = await callAs(base, b, 'ResolveInstanceFailure', { ...input, action: 'ignore' });
      expect(bad.json).toEqual({ __type: 'InvalidGuidedActionException', message: 'action must be one of retry, skip, fail, got "ignore"' });
    }

    const admin = await signIn(base, coordinator.credentials);
    const noToken = await send(base, 'POST', '/_console/api/call/ResolveInstanceFailure', { headers: { cookie: admin.cookie, origin: base }, body: input });
    expect(noToken.status).toBe(403);
    expect(noToken.json.__type).toBe('CsrfCheckFailedException');
    const foreign = await callAs(base, { ...admin, origin: 'http://127.0.0.1:1' }, 'ResolveInstanceFailure', input);
    expect(foreign.status).toBe(403);
    expect(foreign.json.__type).toBe('CsrfCheckFailedException');
    await eventually(() => expect(coordinator.logs()).toContain(`"operation":"ResolveInstanceFailure","accessKeyId":"${readOnly.accessKeyId}","role":"read-only","outcome":"AccessDeniedException","via":"console"`), 5_000, 50);
  });

  it('serves reads and its actions only, even to an admin', async () => {
    const admin = await signIn(base, coordinator.credentials);
    for (const operation of ['CreateApplication', 'DeregisterOnPremisesInstance', 'NoSuchThing', 'constructor']) {
      const r = await callAs(base, admin, operation, { applicationName: 'x' });
      expect(r.status, operation).toBe(404);
      expect(r.json.__type).toBe('UnknownOperationException');
    }
    expect((await callAs(base, admin, 'ListApplications')).json).toEqual({ applications: [] }); // nothing was made
  });

  it('ends the session at sign-out and when its key is revoked', async () => {
    const admin = await signIn(base, coordinator.credentials);
    const noToken = await send(base, 'POST', '/_console/api/logout', { headers: { cookie: admin.cookie, origin: base }, body: {} });
    expect(noToken.status).toBe(403); // sign-out is a change too
    const out = await send(base, 'POST', '/_console/api/logout', { headers: { cookie: admin.cookie, origin: base, 'x-fleetdeploy-csrf': admin.csrf }, body: {} });
    expect(out.status).toBe(200);
    expect(out.headers['set-cookie']![0]).toMatch(/^fd_console=; Path=\/_console; Max-Age=0; HttpOnly; SameSite=Strict; Secure$/);
    expect((await callAs(base, admin, 'ListApplications')).status).toBe(401);

    const temp = await makeKey(coordinator.dataDir, 'deployer');
    const session = await signIn(base, temp);
    expect((await callAs(base, session, 'ListApplications')).status).toBe(200);
    await run(process.execPath, [COORDINATOR_BIN, 'keys', 'revoke', temp.accessKeyId, '--data-dir', coordinator.dataDir]);
    expect((await callAs(base, session, 'ListApplications')).status).toBe(401);
  });
});

describe("the console's event stream", () => {
  it('opens with the session cookie from the console own origin, and not without either', async () => {
    const admin = await signIn(base, coordinator.credentials);
    expect(await openStream(base, { cookie: admin.cookie, origin: base })).toEqual({ opened: true });
    const noCookie = await openStream(base, { origin: base });
    expect(noCookie).toMatchObject({ opened: false, status: 401 });
    expect(JSON.parse(noCookie.body!)).toMatchObject({ __type: 'NotSignedInException' });
    const foreign = await openStream(base, { cookie: admin.cookie, origin: 'http://evil.example' });
    expect(foreign).toMatchObject({ opened: false, status: 403 });
    expect(JSON.parse(foreign.body!)).toMatchObject({ __type: 'CsrfCheckFailedException' });
  });
});

describe('sign-in rate limit', () => {
  it('refuses an address with 429 and Retry-After after ten wrong secrets in a minute, even the right one', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await send(base, 'POST', '/_console/api/login', { headers: { origin: base }, body: { accessKeyId: readOnly.accessKeyId, secretAccessKey: `guess-${i}` } });
      // earlier tests of this file failed three sign-ins from this address already
      if (r.status === 429) break;
      expect(r.status).toBe(401);
    }
    const limited = await send(base, 'POST', '/_console/api/login', { headers: { origin: base }, body: coordinator.credentials });
    expect(limited.status).toBe(429);
    expect(limited.json.__type).toBe('ThrottlingException');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  });
});

describe('session expiry', () => {
  let short: CoordinatorProcess;
  afterAll(async () => {
    await short?.stop();
  });

  it('ends a session after --console-session-seconds, for calls and the stream alike', async () => {
    short = await startCoordinator({ args: ['--console-session-seconds', '1'] });
    const admin = await signIn(short.apiUrl, short.credentials);
    expect((await callAs(short.apiUrl, admin, 'ListApplications')).status).toBe(200);
    // a stream opened while the session lasts is closed once it ends (the key check runs every 2 s)
    const watcher = new WebSocket(`${short.apiUrl.replace('http', 'ws')}/_console/events`, { headers: { cookie: admin.cookie, origin: short.apiUrl } });
    const closed = new Promise<number>((resolve) => watcher.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => watcher.once('open', resolve).once('error', reject));
    await new Promise((r) => setTimeout(r, 1_200));
    const expired = await callAs(short.apiUrl, admin, 'ListApplications');
    expect(expired.status).toBe(401);
    expect(expired.json).toEqual({ __type: 'NotSignedInException', message: 'not signed in, or the session expired; sign in again' });
    expect((await send(short.apiUrl, 'GET', '/_console/api/session', { headers: { cookie: admin.cookie } })).status).toBe(401);
    expect(await openStream(short.apiUrl, { cookie: admin.cookie, origin: short.apiUrl })).toMatchObject({ opened: false, status: 401 });
    expect(await closed).toBe(1008);
  }, 60_000);

  it('refuses a session length that is not a positive number of seconds, naming the flag', async () => {
    await expect(startCoordinator({ args: ['--console-session-seconds', '0'] })).rejects.toThrow('ERROR: --console-session-seconds: expected a positive number, got "0"');
  });
});
