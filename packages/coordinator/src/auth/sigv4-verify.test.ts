import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import type { AccessKey } from './access-keys.js';
import { createSigV4Verifier, isAuthError, parseQuery, sha256Hex } from './sigv4-verify.js';
import type { AuthFailure, SignedRequest, VerifyOptions } from './sigv4-verify.js';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const ADMIN: AccessKey = { id: 'AKIAAAAAAAAAAAAAAAAA', secret: 'a'.repeat(40), role: 'admin', createdAt: 0 };
const REVOKED: AccessKey = { id: 'AKIARRRRRRRRRRRRRRRR', secret: 'r'.repeat(40), role: 'admin', createdAt: 0, revokedAt: 1 };
const keys = new Map([ADMIN, REVOKED].map((k) => [k.id, k]));

/** A client-side signer: the SDK's own, used the way a client uses it. */
class Sha256 {
  private h;
  constructor(secret?: string | ArrayBufferView | ArrayBuffer) {
    this.h =
      secret === undefined
        ? createHash('sha256')
        : createHmac('sha256', typeof secret === 'string' ? secret : ArrayBuffer.isView(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : Buffer.from(secret));
  }
  update(d: Uint8Array) {
    this.h.update(d);
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset() {}
}

interface ClientRequest {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  service?: string;
  region?: string;
  at?: number;
  key?: { id: string; secret: string };
}

function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function target(path: string, query: Record<string, string | string[] | null | undefined>): string {
  const parts = Object.entries(query).flatMap(([k, v]) => (Array.isArray(v) ? v : [v ?? '']).map((x) => `${encode(k)}=${encode(x)}`));
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}

function signer(r: ClientRequest): SignatureV4 {
  const key = r.key ?? ADMIN;
  const service = r.service ?? 'codedeploy';
  return new SignatureV4({
    credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
    region: r.region ?? 'us-east-1',
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
  });
}

function baseRequest(r: ClientRequest) {
  return {
    method: r.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 7180,
    path: r.path ?? '/',
    query: r.query ?? {},
    headers: { host: '127.0.0.1:7180', ...(r.headers ?? {}) } as Record<string, string>,
    ...(r.body !== undefined ? { body: r.body } : {}),
  };
}

/** signed signs like a client (Authorization header) and returns what the server would receive. */
async function signed(r: ClientRequest): Promise<SignedRequest> {
  const out = await signer(r).sign(baseRequest(r), { signingDate: new Date(r.at ?? NOW) });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) headers[k.toLowerCase()] = String(v);
  return { method: out.method, url: target(out.path, out.query ?? {}), headers };
}

/** presigned presigns like the S3 presigner (UNSIGNED-PAYLOAD) and returns the GET the server would receive. */
async function presigned(r: ClientRequest & { expiresIn: number }): Promise<SignedRequest> {
  const req = baseRequest({ ...r, method: r.method ?? 'GET', service: 's3' });
  req.headers = { ...req.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
  const out = await signer({ ...r, service: r.service ?? 's3' }).presign(req, {
    signingDate: new Date(r.at ?? NOW),
    expiresIn: r.expiresIn,
    unsignableHeaders: new Set(['x-amz-content-sha256']),
    unhoistableHeaders: new Set(['x-amz-content-sha256']),
  });
  return { method: out.method, url: target(out.path, out.query ?? {}), headers: { host: '127.0.0.1:7180' } };
}

const verifier = (now = NOW) => createSigV4Verifier({ keys: { get: (id) => Promise.resolve(keys.get(id)) }, now: () => now });

const jsonOptions = (body: string): VerifyOptions => ({ service: 'codedeploy', bodySha256: sha256Hex(Buffer.from(body)) });

async function failure(request: SignedRequest, options: VerifyOptions, now = NOW): Promise<AuthFailure> {
  try {
    await verifier(now).verify(request, options);
  } catch (err) {
    if (isAuthError(err)) return err.failure;
    throw err;
  }
  throw new Error('verified, but a refusal was expected');
}

const BODY = '{"applicationName":"web"}';
const jsonCall = (extra: ClientRequest = {}): ClientRequest => ({
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'CodeDeploy_20141006.CreateApplication' },
  body: BODY,
  ...extra,
});

describe('header-signed requests (Authorization)', () => {
  it('accepts the JSON API signed over its body, and says which key signed', async () => {
    const req = await signed(jsonCall());
    expect(req.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA\/20240501\/us-east-1\/codedeploy\/aws4_request/);
    await expect(verifier().verify(req, jsonOptions(BODY))).resolves.toMatchObject({ id: ADMIN.id, role: 'admin' });
  });

  it('accepts any region', async () => {
    await expect(verifier().verify(await signed(jsonCall({ region: 'eu-west-3' })), jsonOptions(BODY))).resolves.toMatchObject({ id: ADMIN.id });
  });

  it('accepts a JSON API clock 4 minutes either way and refuses 6 (skewed), as AWS\'s JSON APIs do', async () => {
    const req = await signed(jsonCall());
    for (const off of [-4, 4]) await expect(verifier(NOW + off * 60_000).verify(req, jsonOptions(BODY))).resolves.toBeDefined();
    for (const off of [-6, 6]) expect(await failure(req, jsonOptions(BODY), NOW + off * 60_000)).toBe('skewed');
    await expect(verifier(NOW + 6 * 60_000).verify(req, jsonOptions(BODY))).rejects.toThrow(/Signature expired: 20240501T120000Z is now earlier than 20240501T120100Z \(20240501T120600Z - 5 min\.\)/);
  });

  it('accepts an S3 clock 14 minutes either way and refuses 16 (skewed)', async () => {
    const req = await signed({ method: 'GET', path: '/b/k', service: 's3', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    for (const off of [-14, 14]) await expect(verifier(NOW + off * 60_000).verify(req, { service: 's3' })).resolves.toBeDefined();
    for (const off of [-16, 16]) expect(await failure(req, { service: 's3' }, NOW + off * 60_000)).toBe('skewed');
  });

  it('refuses an x-amz-* header the signature does not cover, naming it: X-Amz-Target above all', async () => {
    // signed without X-Amz-Target, which is added afterwards: the operation is not what was signed
    const bare = await signed({ ...jsonCall(), headers: { 'content-type': 'application/x-amz-json-1.1' } });
    const replayed = { ...bare, headers: { ...bare.headers, 'x-amz-target': 'CodeDeploy_20141006.DeleteApplication' } };
    expect(await failure(replayed, jsonOptions(BODY))).toBe('unsignedHeaders');
    await expect(verifier().verify(replayed, jsonOptions(BODY))).rejects.toThrow('There were headers present in the request which were not signed: x-amz-target.');
    const get = await signed({ method: 'PUT', path: '/b/k', service: 's3', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(await failure({ ...get, headers: { ...get.headers, 'x-amz-copy-source': '/b/secret' } }, { service: 's3' })).toBe('unsignedHeaders');
  });

  it('refuses a wrong secret, a changed body, header or target as a mismatch', async () => {
    expect(await failure(await signed(jsonCall({ key: { id: ADMIN.id, secret: 'b'.repeat(40) } })), jsonOptions(BODY))).toBe('mismatch');
    const req = await signed(jsonCall());
    expect(await failure(req, jsonOptions('{"applicationName":"evil"}'))).toBe('mismatch');
    expect(await failure({ ...req, headers: { ...req.headers, 'x-amz-target': 'CodeDeploy_20141006.DeleteApplication' } }, jsonOptions(BODY))).toBe('mismatch');
    expect(await failure({ ...req, url: '/?x=1' }, jsonOptions(BODY))).toBe('mismatch');
    expect(await failure({ ...req, method: 'PUT' }, jsonOptions(BODY))).toBe('mismatch');
  });

  it('refuses an x-amz-content-sha256 that is not the body\'s hash', async () => {
    const req = await signed(jsonCall({ headers: { 'x-amz-content-sha256': sha256Hex(Buffer.from('other')), 'x-amz-target': 'X' } }));
    expect(await failure(req, jsonOptions(BODY))).toBe('mismatch');
  });

  it('refuses an unknown and a revoked key', async () => {
    expect(await failure(await signed(jsonCall({ key: { id: 'AKIAUNKNOWNUNKNOWN00', secret: ADMIN.secret } })), jsonOptions(BODY))).toBe('unknownKey');
    expect(await failure(await signed(jsonCall({ key: REVOKED })), jsonOptions(BODY))).toBe('unknownKey');
  });

  it('passes on a failed key lookup as itself, not as an unknown key (the store failed, not the client)', async () => {
    const broken = createSigV4Verifier({ keys: { get: () => Promise.reject(new Error('connection to the database lost')) }, now: () => NOW });
    const outcome = broken.verify(await signed(jsonCall({})), jsonOptions(BODY));
    await expect(outcome).rejects.toThrow('connection to the database lost');
    await expect(outcome).rejects.not.toSatisfy(isAuthError);
  });

  it('refuses an unsigned request, malformed headers and another service\'s scope', async () => {
    expect(await failure({ method: 'POST', url: '/', headers: { host: 'h' } }, jsonOptions(BODY))).toBe('missing');
    const req = await signed(jsonCall());
    const auth = req.headers.authorization as string;
    const withAuth = (a: string) => ({ ...req, headers: { ...req.headers, authorization: a } });
    expect(await failure(withAuth(auth.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')), jsonOptions(BODY))).toBe('malformed');
    expect(await failure(withAuth(auth.replace(/Credential=[^,]+, /, '')), jsonOptions(BODY))).toBe('malformed');
    expect(await failure(withAuth(auth.replace(/Signature=\w+/, 'Signature=zz')), jsonOptions(BODY))).toBe('malformed');
    expect(await failure(withAuth(auth.replace('SignedHeaders=', 'SignedHeaders=date;')), jsonOptions(BODY))).toBe('malformed');
    expect(await failure({ ...req, headers: { ...req.headers, 'x-amz-date': '20240501T120001Z' } }, jsonOptions(BODY))).toBe('mismatch');
    expect(await failure(withAuth(auth.replace('host;', '')), jsonOptions(BODY))).toBe('malformed');
    expect(await failure(withAuth(auth.replace('/20240501/', '/20240502/')), jsonOptions(BODY))).toBe('wrongScope');
    expect(await failure(await signed(jsonCall({ service: 's3' })), jsonOptions(BODY))).toBe('wrongScope');
    const { 'x-amz-date': _date, ...noDate } = req.headers;
    expect(await failure({ ...req, headers: noDate }, jsonOptions(BODY))).toBe('malformed');
  });

  it('verifies S3 requests over x-amz-content-sha256 (a digest or UNSIGNED-PAYLOAD), the raw path and the query', async () => {
    const s3 = { get: { service: 's3' as const } };
    const put = await signed({
      service: 's3',
      method: 'PUT',
      path: '/revisions/app%20v1/bundle%2B1.zip',
      headers: { 'x-amz-content-sha256': sha256Hex(Buffer.from('zip bytes')) },
    });
    await expect(verifier().verify(put, s3.get)).resolves.toMatchObject({ id: ADMIN.id });
    const list = await signed({
      service: 's3',
      method: 'GET',
      path: '/revisions',
      query: { 'list-type': '2', prefix: 'a b/ü+*', 'max-keys': '10' },
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    await expect(verifier().verify(list, s3.get)).resolves.toMatchObject({ id: ADMIN.id });
    const uploads = await signed({ service: 's3', path: '/revisions/k', query: { uploads: '' }, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    expect(uploads.url).toBe('/revisions/k?uploads=');
    await expect(verifier().verify({ ...uploads, url: '/revisions/k?uploads' }, s3.get)).resolves.toBeDefined();
    expect(await failure({ ...list, url: list.url.replace('max-keys=10', 'max-keys=1000') }, s3.get)).toBe('mismatch');
    expect(await failure({ ...put, headers: { ...put.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }, s3.get)).toBe('mismatch');
  });

  it('needs x-amz-content-sha256 on a header-signed S3 request', async () => {
    const req = await signed({ service: 's3', method: 'GET', path: '/revisions' });
    delete req.headers['x-amz-content-sha256'];
    expect(await failure(req, { service: 's3' })).toBe('missingContentSha256');
  });
});

describe('presigned URLs (query string)', () => {
  it('accepts one until X-Amz-Date + X-Amz-Expires and refuses it afterwards (expired)', async () => {
    const req = await presigned({ path: '/revisions/bundle.zip', expiresIn: 60 });
    expect(req.url).toMatch(/X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$/);
    await expect(verifier(NOW + 60_000).verify(req, { service: 's3' })).resolves.toMatchObject({ id: ADMIN.id });
    expect(await failure(req, { service: 's3' }, NOW + 61_000)).toBe('expired');
  });

  it('refuses one dated more than 15 minutes ahead (skewed)', async () => {
    expect(await failure(await presigned({ path: '/b/k', expiresIn: 3600, at: NOW + 16 * 60_000 }), { service: 's3' })).toBe('skewed');
  });

  it('refuses a wrong secret, an unknown key and a changed URL', async () => {
    expect(await failure(await presigned({ path: '/b/k', expiresIn: 60, key: { id: ADMIN.id, secret: 'x'.repeat(40) } }), { service: 's3' })).toBe('mismatch');
    expect(await failure(await presigned({ path: '/b/k', expiresIn: 60, key: { id: 'AKIANOPENOPENOPENOPE', secret: 'x' } }), { service: 's3' })).toBe('unknownKey');
    const req = await presigned({ path: '/b/k', expiresIn: 60 });
    expect(await failure({ ...req, url: req.url.replace('/b/k', '/b/other') }, { service: 's3' })).toBe('mismatch');
    expect(await failure({ ...req, url: req.url.replace('X-Amz-Expires=60', 'X-Amz-Expires=600') }, { service: 's3' })).toBe('mismatch');
    expect(await failure({ ...req, url: `${req.url}&versionId=1` }, { service: 's3' })).toBe('mismatch');
    expect(await failure({ ...req, method: 'DELETE' }, { service: 's3' })).toBe('mismatch');
  });

  it('refuses a lifetime over a week and parameters that are missing or doubled (malformed)', async () => {
    const req = await presigned({ path: '/b/k', expiresIn: 60 });
    expect(await failure({ ...req, url: req.url.replace('X-Amz-Expires=60', 'X-Amz-Expires=604801') }, { service: 's3' })).toBe('malformed');
    expect(await failure({ ...req, url: req.url.replace(/&X-Amz-Credential=[^&]+/, '') }, { service: 's3' })).toBe('malformed');
    expect(await failure({ ...req, url: `${req.url}&X-Amz-Signature=${'0'.repeat(64)}` }, { service: 's3' })).toBe('malformed');
  });
});

describe('parseQuery', () => {
  it('decodes names and values, keeps order and repeats, and treats a bare name as empty', () => {
    expect([...parseQuery('/b?uploads&a=1&a=2&k%20y=v%2Fw&e=')]).toEqual([
      ['uploads', ['']],
      ['a', ['1', '2']],
      ['k y', ['v/w']],
      ['e', ['']],
    ]);
  });

  it('refuses broken percent-encoding as malformed', () => {
    expect(() => parseQuery('/?a=%zz')).toThrow(expect.objectContaining({ failure: 'malformed' }));
  });
});
