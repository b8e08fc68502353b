/**
 * Verifies AWS Signature Version 4 on an incoming request, in both of its forms:
 *
 *   header     Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/s3/aws4_request,
 *                             SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=<64 hex>
 *              with X-Amz-Date, allowed 15 minutes either side of the coordinator's clock;
 *   presigned  ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…&X-Amz-Date=…&X-Amz-Expires=…
 *              &X-Amz-SignedHeaders=host&X-Amz-Signature=…, refused once X-Amz-Date + X-Amz-Expires passed.
 *
 * The algorithm itself is not written here: the request is rebuilt from what the client signed (its
 * method, raw path, query, the headers it lists, the payload hash) and @smithy/signature-v4, the AWS
 * SDK's own signer, signs it again with the key's secret at the client's date, region and service.
 * The two signatures are compared in constant time.
 *
 * Payload hash: for the bucket (`s3`) it is what x-amz-content-sha256 says (a hex digest, which the
 * bucket's body verifier then checks against the bytes, UNSIGNED-PAYLOAD or a STREAMING-* value), and
 * UNSIGNED-PAYLOAD for a presigned URL, as S3 has it. For the CodeDeploy API the caller reads the body
 * first and passes its SHA-256; a client's x-amz-content-sha256, when sent, must equal it.
 *
 * Not covered: the per-chunk signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies (the request's
 * headers are verified; the chunks are checked against their framing and checksums only), the `Date`
 * header in place of X-Amz-Date, session tokens, and SigV4a.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Hash, Hmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AccessKey } from './access-keys.js';

/** ALGORITHM is the only signing algorithm accepted. */
export const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * MAX_CLOCK_SKEW_MS is how far a header-signed request's X-Amz-Date may be from the coordinator's
 * clock, per API as AWS allows it: 15 minutes for S3, 5 for the JSON APIs. Within it a captured request
 * can be replayed, so the JSON API's window is kept as narrow as AWS keeps it.
 */
export const MAX_CLOCK_SKEW_MS: Record<VerifyOptions['service'], number> = { s3: 15 * 60 * 1000, codedeploy: 5 * 60 * 1000 };

/** MAX_PRESIGN_EXPIRES_SECONDS is SigV4's longest presigned URL lifetime: a week. */
export const MAX_PRESIGN_EXPIRES_SECONDS = 7 * 24 * 60 * 60;

/** UNSIGNED_PAYLOAD is the payload hash of a presigned S3 request. */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/**
 * AUTH_FAILURES are the ways a signature check fails. The CodeDeploy API and the bucket each map them
 * to their own error vocabulary (see request-guards.ts).
 */
export const AUTH_FAILURES = {
  /** no Authorization header and no presigned query parameters */
  missing: 'missing',
  /** an Authorization header or presigned query that cannot be parsed, or an unsupported algorithm */
  malformed: 'malformed',
  /** a credential scoped to another service, or to a date other than X-Amz-Date's */
  wrongScope: 'wrongScope',
  /** the bucket needs x-amz-content-sha256 on a header-signed request */
  missingContentSha256: 'missingContentSha256',
  /** no such access key, or a revoked one */
  unknownKey: 'unknownKey',
  /** X-Amz-Date further from now than the API allows (15 minutes for S3, 5 for the JSON API) */
  skewed: 'skewed',
  /** an x-amz-* header (X-Amz-Target among them) that the signature does not cover */
  unsignedHeaders: 'unsignedHeaders',
  /** a presigned URL past X-Amz-Date + X-Amz-Expires */
  expired: 'expired',
  /** the signature is not the one the key's secret gives */
  mismatch: 'mismatch',
} as const;

/** AuthFailure is one of {@link AUTH_FAILURES}. */
export type AuthFailure = (typeof AUTH_FAILURES)[keyof typeof AUTH_FAILURES];

/** AuthError is a request whose signature did not verify; branch on `failure`. */
export class AuthError extends Error {
  readonly failure: AuthFailure;

  constructor(failure: AuthFailure, message: string) {
    super(message);
    this.name = 'AuthError';
    this.failure = failure;
  }
}

/** isAuthError tells an {@link AuthError} from anything else thrown, by shape. */
export function isAuthError(err: unknown): err is AuthError {
  return err instanceof Error && err.name === 'AuthError' && typeof (err as AuthError).failure === 'string';
}

/** SignedRequest is what the verifier reads of an incoming request. */
export interface SignedRequest {
  method: string;
  /** url is the raw request target as received (`/bucket/my%20key?uploads`). */
  url: string;
  headers: IncomingHttpHeaders;
}

/** VerifyOptions say which service the request is for and, for the JSON API, the body's SHA-256 (hex). */
export interface VerifyOptions {
  service: 'codedeploy' | 's3';
  bodySha256?: string;
}

/**
 * KeyLookup finds an access key by id, asynchronously (the access key store, SQLite's through
 * promised() or PostgreSQL's); the verifier refuses revoked keys itself.
 */
export interface KeyLookup {
  get(id: string): Promise<AccessKey | undefined>;
}

/** SigV4Verifier checks request signatures; see {@link createSigV4Verifier}. */
export interface SigV4Verifier {
  /** verify resolves with the key that signed the request, or rejects with an {@link AuthError}. */
  verify(request: SignedRequest, options: VerifyOptions): Promise<AccessKey>;
}

/** SigV4VerifierDeps: where keys come from and the time (ms since the epoch). */
export interface SigV4VerifierDeps {
  keys: KeyLookup;
  now: () => number;
}

/** ParsedSignature is what an Authorization header or a presigned query says. */
export interface ParsedSignature {
  form: 'header' | 'presigned';
  accessKeyId: string;
  /** scope date (YYYYMMDD), region and service from the credential */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** amzDate is X-Amz-Date as sent (YYYYMMDDTHHMMSSZ); `signedAt` is it in ms since the epoch. */
  amzDate: string;
  signedAt: number;
  /** expiresSeconds is X-Amz-Expires, presigned only. */
  expiresSeconds?: number;
}

/** createSigV4Verifier makes a verifier that looks each key up per request. */
export function createSigV4Verifier(deps: SigV4VerifierDeps): SigV4Verifier {
  return {
    async verify(request, options) {
      const query = parseQuery(request.url);
      const parsed = parseSignature(request.headers, query);
      if (parsed.service !== options.service) {
        throw new AuthError('wrongScope', `Credential should be scoped to correct service: '${options.service}', not '${parsed.service}'.`);
      }
      if (parsed.scopeDate !== parsed.amzDate.slice(0, 8)) {
        throw new AuthError('wrongScope', `Credential date ${parsed.scopeDate} is not the date of X-Amz-Date ${parsed.amzDate}.`);
      }
      // A failed lookup (the database) rejects as itself, not as an unknown key: the client is told of an internal failure.
      const key = await deps.keys.get(parsed.accessKeyId);
      if (key === undefined || key.revokedAt !== undefined) {
        throw new AuthError('unknownKey', `The access key ${parsed.accessKeyId} does not exist or was revoked.`);
      }
      checkTime(parsed, deps.now(), MAX_CLOCK_SKEW_MS[options.service]);
      checkAmzHeadersSigned(parsed, request.headers);
      const payloadHash = payloadHashOf(parsed, request.headers, options);
      const expected = await expectedSignature(parsed, request, query, payloadHash, key);
      const given = Buffer.from(parsed.signature, 'utf8');
      const want = Buffer.from(expected, 'utf8');
      if (given.length !== want.length || !timingSafeEqual(given, want)) {
        throw new AuthError(
          'mismatch',
          'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        );
      }
      return key;
    },
  };
}

/**
 * parseSignature reads the header form (Authorization) or, when there is none, the presigned query
 * form. AuthError `missing` when the request carries neither, `malformed` when what it carries is
 * not a well-formed AWS4-HMAC-SHA256 signature.
 */
export function parseSignature(headers: IncomingHttpHeaders, query: ReadonlyMap<string, string[]>): ParsedSignature {
  const authorization = headers.authorization;
  if (authorization !== undefined && authorization !== '') return parseAuthorizationHeader(authorization, headers);
  if (query.has('X-Amz-Algorithm') || query.has('X-Amz-Signature') || query.has('X-Amz-Credential')) return parsePresignedQuery(query);
  throw new AuthError('missing', 'The request is not signed: it has no Authorization header and no X-Amz-Signature query parameter.');
}

function parseAuthorizationHeader(value: string, headers: IncomingHttpHeaders): ParsedSignature {
  const space = value.indexOf(' ');
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new AuthError('malformed', `Unsupported Authorization type ${JSON.stringify(algorithm)}; sign with ${ALGORITHM}.`);
  }
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new AuthError('malformed', `Authorization header field ${JSON.stringify(part.trim())} is not name=value.`);
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const field = (name: string): string => {
    const v = fields.get(name);
    if (v === undefined || v === '') throw new AuthError('malformed', `Authorization header requires '${name}' parameter.`);
    return v;
  };
  const credential = parseCredential(field('Credential'));
  const signedHeaders = parseSignedHeaders(field('SignedHeaders'));
  if (!signedHeaders.includes('x-amz-date')) {
    throw new AuthError('malformed', 'SignedHeaders must include x-amz-date (the Date header alone is not supported).');
  }
  const amzDate = singleHeader(headers, 'x-amz-date');
  if (amzDate === undefined) throw new AuthError('malformed', 'Authorization header requires existence of the X-Amz-Date header.');
  return { form: 'header', ...credential, signedHeaders, signature: parseHexSignature(field('Signature')), ...parseAmzDate(amzDate) };
}

function parsePresignedQuery(query: ReadonlyMap<string, string[]>): ParsedSignature {
  const param = (name: string): string => {
    const values = query.get(name);
    if (values === undefined || values.length !== 1 || values[0] === '') {
      throw new AuthError('malformed', `Query-string authentication requires exactly one ${name} parameter.`);
    }
    return values[0]!;
  };
  const algorithm = param('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) throw new AuthError('malformed', `X-Amz-Algorithm only supports "${ALGORITHM}".`);
  const expires = param('X-Amz-Expires');
  if (!/^(0|[1-9]\d{0,9})$/.test(expires)) throw new AuthError('malformed', 'X-Amz-Expires should be a number of seconds.');
  const expiresSeconds = Number(expires);
  if (expiresSeconds > MAX_PRESIGN_EXPIRES_SECONDS) {
    throw new AuthError('malformed', `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_EXPIRES_SECONDS}.`);
  }
  return {
    form: 'presigned',
    ...parseCredential(param('X-Amz-Credential')),
    signedHeaders: parseSignedHeaders(param('X-Amz-SignedHeaders')),
    signature: parseHexSignature(param('X-Amz-Signature')),
    ...parseAmzDate(param('X-Amz-Date')),
    expiresSeconds,
  };
}

function parseCredential(value: string): Pick<ParsedSignature, 'accessKeyId' | 'scopeDate' | 'region' | 'service'> {
  const parts = value.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '') || parts[4] !== 'aws4_request' || !/^\d{8}$/.test(parts[1]!)) {
    throw new AuthError('malformed', `Credential ${JSON.stringify(value)} is not <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request.`);
  }
  return { accessKeyId: parts[0]!, scopeDate: parts[1]!, region: parts[2]!, service: parts[3]! };
}

function parseSignedHeaders(value: string): string[] {
  const names = value.split(';').map((n) => n.trim().toLowerCase());
  if (names.some((n) => !/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(n))) throw new AuthError('malformed', `SignedHeaders ${JSON.stringify(value)} is not a list of header names.`);
  if (!names.includes('host')) throw new AuthError('malformed', 'SignedHeaders must include host.');
  return names;
}

function parseHexSignature(value: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new AuthError('malformed', 'Signature must be 64 lowercase hexadecimal characters.');
  return value;
}

function parseAmzDate(value: string): { amzDate: string; signedAt: number } {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value.trim());
  if (m === null) throw new AuthError('malformed', `X-Amz-Date ${JSON.stringify(value)} is not in the form YYYYMMDDTHHMMSSZ.`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const signedAt = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(signedAt).toISOString().replace(/[-:]|\.\d{3}/g, '') !== m[0]) {
    throw new AuthError('malformed', `X-Amz-Date ${JSON.stringify(value)} is not a valid time.`);
  }
  return { amzDate: m[0], signedAt };
}

/**
 * checkAmzHeadersSigned refuses a request carrying an x-amz-* header its signature does not cover:
 * such a header selects what happens (X-Amz-Target names the operation, x-amz-copy-source the object
 * copied), so leaving it unsigned would let a captured request be replayed as another. S3 refuses
 * the same ("There were headers present in the request which were not signed").
 */
function checkAmzHeadersSigned(parsed: ParsedSignature, headers: IncomingHttpHeaders): void {
  const signed = new Set(parsed.signedHeaders);
  // A presigned request's payload hash is UNSIGNED-PAYLOAD by definition; saying so is harmless.
  const exempt = parsed.form === 'presigned' ? new Set(['x-amz-content-sha256']) : new Set<string>();
  const unsigned = Object.keys(headers).filter((name) => name.startsWith('x-amz-') && !signed.has(name) && !exempt.has(name));
  if (unsigned.length > 0) {
    throw new AuthError('unsignedHeaders', `There were headers present in the request which were not signed: ${unsigned.sort().join(', ')}.`);
  }
}

/** checkTime refuses a header signature more than `maxSkewMs` off, and a presigned URL past its expiry. */
function checkTime(parsed: ParsedSignature, now: number, maxSkewMs: number): void {
  const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
  const window = `${maxSkewMs / 60_000} min.`;
  if (parsed.form === 'presigned') {
    if (parsed.signedAt - now > maxSkewMs) {
      throw new AuthError('skewed', `Signature not yet current: ${parsed.amzDate} is still later than ${stamp(now + maxSkewMs)} (${stamp(now)} + ${window})`);
    }
    const expiresAt = parsed.signedAt + (parsed.expiresSeconds ?? 0) * 1000;
    if (now > expiresAt) throw new AuthError('expired', `Request has expired: it was valid until ${stamp(expiresAt)}, now is ${stamp(now)}.`);
    return;
  }
  if (now - parsed.signedAt > maxSkewMs) {
    throw new AuthError('skewed', `Signature expired: ${parsed.amzDate} is now earlier than ${stamp(now - maxSkewMs)} (${stamp(now)} - ${window})`);
  }
  if (parsed.signedAt - now > maxSkewMs) {
    throw new AuthError('skewed', `Signature not yet current: ${parsed.amzDate} is still later than ${stamp(now + maxSkewMs)} (${stamp(now)} + ${window})`);
  }
}

function payloadHashOf(parsed: ParsedSignature, headers: IncomingHttpHeaders, options: VerifyOptions): string {
  const claimed = singleHeader(headers, 'x-amz-content-sha256');
  if (options.service === 's3') {
    if (parsed.form === 'presigned') return UNSIGNED_PAYLOAD;
    if (claimed === undefined) throw new AuthError('missingContentSha256', 'Missing required header for this request: x-amz-content-sha256');
    return claimed;
  }
  if (options.bodySha256 === undefined) throw new Error('verify: the CodeDeploy API must pass the body\'s SHA-256');
  if (claimed !== undefined && claimed.toLowerCase() !== options.bodySha256) {
    throw new AuthError('mismatch', 'The x-amz-content-sha256 header does not match the request body.');
  }
  return options.bodySha256;
}

type SignerRequest = Parameters<SignatureV4['presign']>[0];

/** expectedSignature signs the rebuilt request again with the key's secret and returns the hex signature. */
async function expectedSignature(
  parsed: ParsedSignature,
  request: SignedRequest,
  query: ReadonlyMap<string, string[]>,
  payloadHash: string,
  key: AccessKey,
): Promise<string> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: key.id, secretAccessKey: key.secret },
    region: parsed.region,
    service: parsed.service,
    sha256: NodeSha256,
    // S3 signs the path as sent; every other service signs it URI-encoded once more.
    uriEscapePath: parsed.service !== 's3',
    applyChecksum: false,
  });
  const headers: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = headerValue(request.headers, name);
    if (value === undefined) throw new AuthError('malformed', `SignedHeaders names ${name}, which the request does not have.`);
    headers[name] = value;
  }
  // The payload hash travels in x-amz-content-sha256 (the signer reads it from there), signed only
  // when the client signed it.
  headers['x-amz-content-sha256'] = payloadHash;
  const signable = new Set(parsed.signedHeaders);
  const unsignable = new Set(signable.has('x-amz-content-sha256') ? [] : ['x-amz-content-sha256']);
  const queryObject: Record<string, string | string[]> = {};
  for (const [name, values] of query) {
    if (name === 'X-Amz-Signature') continue;
    queryObject[name] = values.length === 1 ? values[0]! : values;
  }
  const q = request.url.indexOf('?');
  const rebuilt: SignerRequest = {
    method: request.method,
    protocol: 'http:',
    hostname: 'localhost',
    path: q < 0 ? request.url : request.url.slice(0, q),
    query: queryObject,
    headers,
  };
  const signingDate = new Date(parsed.signedAt);
  if (parsed.form === 'presigned') {
    const signed = await signer.presign(rebuilt, {
      signingDate,
      expiresIn: parsed.expiresSeconds,
      signableHeaders: signable,
      unsignableHeaders: unsignable,
      unhoistableHeaders: new Set(Object.keys(headers).filter((n) => n.startsWith('x-amz-'))),
    });
    return String(signed.query?.['X-Amz-Signature'] ?? '');
  }
  const signed = await signer.sign(rebuilt, { signingDate, signableHeaders: signable, unsignableHeaders: unsignable });
  return /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization ?? ''))?.[1] ?? '';
}

/**
 * parseQuery splits a raw request target's query into decoded names and values, in order. A name
 * without `=` has the value ''. AuthError `malformed` for broken percent-encoding.
 */
export function parseQuery(url: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const q = url.indexOf('?');
  if (q < 0) return out;
  const hash = url.indexOf('#', q);
  const text = url.slice(q + 1, hash < 0 ? undefined : hash);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      throw new AuthError('malformed', `The query parameter ${JSON.stringify(pair)} is not valid percent-encoding.`);
    }
    const list = out.get(name);
    if (list === undefined) out.set(name, [value]);
    else list.push(value);
  }
  return out;
}

/** headerValue is a header as SigV4 canonicalizes it: repeated values joined by commas. */
function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map((v) => v.trim()).join(',') : String(value);
}

function singleHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * NodeSha256 is the SHA-256 (and, given a secret, HMAC-SHA256) the signer is built with, on
 * node:crypto; the shape is @smithy/types' Checksum.
 */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret: string | Uint8Array | undefined;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    this.hash = this.fresh();
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

/** sha256Hex is the hex SHA-256 of a request body, as the JSON API passes it in {@link VerifyOptions}. */
export function sha256Hex(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}
