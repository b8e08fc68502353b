/**
 * The web console on the API port, under {@link CONSOLE_PREFIX} (`/_console/`: `_` cannot appear in
 * a bucket name, so no bucket's path-style URL can collide with it).
 *
 *   GET  /_console/                      the page (index.html); /_console redirects here
 *   GET  /_console/assets/<file>         its scripts and styles (content-hashed names, cached a year)
 *   POST /_console/api/login             {"accessKeyId", "secretAccessKey"} → sets the session cookie
 *   GET  /_console/api/session           who is signed in: {"keyId", "role", "csrfToken", "expiresAt"}
 *   POST /_console/api/logout            ends the session, clears the cookie
 *   POST /_console/api/call/<Operation>  one CodeDeploy (or fleetdeploy) operation, JSON in and out
 *   GET  /_console/events                the deployment event stream (WebSocket), signed in by the cookie
 *
 * Signing in takes an access key's id and secret, as the CLI does; the session then carries the key's
 * role, read again on every call, and `api/call` allows the same operations the key could sign
 * itself ({@link mayCallCodeDeploy}), of the reads and the console's actions
 * ({@link CONSOLE_ACTIONS}) only. What the page hides from a read-only key is refused here too.
 *
 * Cross-site request forgery: the cookie is SameSite=Strict, every POST must carry an Origin equal to
 * this server's own, and every call and sign-out the session's CSRF token in {@link CSRF_HEADER},
 * which only the console's own scripts can read (from api/login or api/session; no CORS headers are
 * ever sent). Failures answer JSON `{"__type", "message"}` as the API does.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { ApiError, isApiError } from '../api/api-error.js';
import type { Operation } from '../api/codedeploy.js';
import type { Input } from '../api/input.js';
import { drainRequest, readLimitedBody } from '../api/request-body.js';
import type { KeyLookup } from '../auth/sigv4-verify.js';
import { isReadOperation, mayCallCodeDeploy } from '../auth/roles.js';
import type { ConsoleSession, SessionStore } from './console-sessions.js';
import type { LoginLimiter } from './login-limiter.js';
import type { ConsoleAssets } from './static-assets.js';
import { readCookie, SESSION_COOKIE, sessionCookie } from './cookies.js';

/** CONSOLE_PREFIX is the console's path on the API port. */
export const CONSOLE_PREFIX = '/_console';

/** CONSOLE_EVENTS_PATH is the console's way into the event stream (cookie, not SigV4). */
export const CONSOLE_EVENTS_PATH = `${CONSOLE_PREFIX}/events`;

/** CSRF_HEADER carries the session's CSRF token on every call. */
export const CSRF_HEADER = 'x-fleetdeploy-csrf';

/**
 * CONSOLE_ACTIONS are the changes the console can make (stop, continue, and answering a guided
 * failure); every other operation it serves is a read.
 */
export const CONSOLE_ACTIONS: ReadonlySet<string> = new Set(['StopDeployment', 'ContinueDeployment', 'ResolveInstanceFailure']);

/** The largest body the console accepts: sign-ins and operation inputs are tiny. */
const MAX_BODY_BYTES = 64 * 1024;

/** isConsolePath tells a request URL under the console's prefix. */
export function isConsolePath(url: string | undefined): boolean {
  const p = (url ?? '/').split('?')[0]!;
  return p === CONSOLE_PREFIX || p.startsWith(`${CONSOLE_PREFIX}/`);
}

/** overTls tells whether the request came over TLS (its cookie is then Secure). */
export function overTls(req: http.IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true;
}

/** ownOrigin is this server's origin as a browser names it: scheme://host[:port] from the Host header. */
export function ownOrigin(req: http.IncomingMessage): string | undefined {
  const host = req.headers.host;
  return host === undefined ? undefined : `${overTls(req) ? 'https' : 'http'}://${host}`;
}

/** originProblem says why a request's Origin is not this server's own, or undefined when it is. */
export function originProblem(req: http.IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return 'the request has no Origin header; the console accepts changes only from its own pages';
  const own = ownOrigin(req);
  if (origin !== own) return `the request comes from ${origin}, not from the console's own origin ${own ?? '(no Host header)'}`;
  return undefined;
}

/** ConsoleDeps are passed in by the composition root. */
export interface ConsoleDeps<Ctx> {
  /** Every operation the API serves (CodeDeploy's and fleetdeploy's); the console serves reads and {@link CONSOLE_ACTIONS} of them. */
  operations: Readonly<Record<string, Operation<Ctx>>>;
  ctx: Ctx;
  keys: KeyLookup;
  sessions: SessionStore;
  limiter: LoginLimiter;
  assets: ConsoleAssets;
  /** The session's lifetime, for the cookie's Max-Age. */
  sessionSeconds: number;
  log: Logger;
}

/** ConsoleRefusal is an upgrade refused, in the event stream's shape. */
export interface ConsoleRefusal {
  status: number;
  type: string;
  message: string;
}

/** Console answers the console's requests and admits its WebSocket. */
export interface Console {
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** authenticateUpgrade admits a WebSocket upgrade to {@link CONSOLE_EVENTS_PATH} by its session cookie and Origin. */
  authenticateUpgrade(req: http.IncomingMessage): Promise<ConsoleRefusal | undefined>;
  /** sessionCheck gives, for an admitted upgrade, whether its session is still live (expired, signed out or key revoked: not). */
  sessionCheck(req: http.IncomingMessage): () => Promise<boolean>;
}

/** ThrottledError is a sign-in refused for too many failures: 429 with a Retry-After. */
class ThrottledError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('ThrottlingException', message, 429);
  }
}

const notSignedIn = (): ApiError => new ApiError('NotSignedInException', 'not signed in, or the session expired; sign in again', 401);

/** createConsole makes the console's handler. */
export function createConsole<Ctx>(deps: ConsoleDeps<Ctx>): Console {
  const { sessions, log } = deps;

  const sessionOf = async (req: http.IncomingMessage): Promise<ConsoleSession | undefined> => {
    const id = readCookie(req.headers.cookie, SESSION_COOKIE);
    return id === undefined || id === '' ? undefined : await sessions.get(id);
  };

  /** checked is the request's session after the Origin and CSRF checks that every change needs. */
  const checked = async (req: http.IncomingMessage): Promise<ConsoleSession> => {
    const origin = originProblem(req);
    if (origin !== undefined) throw new ApiError('CsrfCheckFailedException', origin, 403);
    const session = await sessionOf(req);
    if (session === undefined) throw notSignedIn();
    const token = req.headers[CSRF_HEADER];
    if (typeof token !== 'string' || !sameText(token, session.csrfToken)) {
      throw new ApiError('CsrfCheckFailedException', `the request has no valid ${CSRF_HEADER} header (the session's CSRF token)`, 403);
    }
    return session;
  };

  const who = (s: ConsoleSession) => ({ keyId: s.keyId, role: s.role, csrfToken: s.csrfToken, expiresAt: s.expiresAt });

  async function login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const origin = originProblem(req);
    if (origin !== undefined) throw new ApiError('CsrfCheckFailedException', origin, 403);
    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = deps.limiter.retryAfterMs(address);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new ThrottledError(`too many failed sign-ins from ${address}; try again in ${seconds} s`, seconds);
    }
    const input = await readJson(req);
    const keyId = input.accessKeyId;
    const secret = input.secretAccessKey;
    if (typeof keyId !== 'string' || keyId === '' || typeof secret !== 'string' || secret === '') {
      throw new ApiError('ValidationException', 'sign in with accessKeyId and secretAccessKey (both non-empty strings)');
    }
    const key = await deps.keys.get(keyId);
    if (key === undefined || key.revokedAt !== undefined || !sameText(secret, key.secret)) {
      deps.limiter.failed(address);
      log.info({ accessKeyId: keyId.slice(0, 32), address }, 'console sign-in refused');
      throw new ApiError('InvalidCredentialsException', 'the access key id or secret is wrong, or the key is revoked', 401);
    }
    const session = await sessions.create(key.id);
    log.info({ accessKeyId: key.id, role: key.role }, 'console sign-in');
    sendJson(res, 200, who(session), { 'set-cookie': sessionCookie(session.id, { path: CONSOLE_PREFIX, secure: overTls(req), maxAgeSeconds: deps.sessionSeconds }) });
  }

  async function call(name: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const session = await checked(req);
    const operation = Object.hasOwn(deps.operations, name) ? deps.operations[name] : undefined;
    if (operation === undefined || !(isReadOperation(name) || CONSOLE_ACTIONS.has(name))) {
      throw new ApiError('UnknownOperationException', `the console does not serve ${JSON.stringify(name)}; it serves reads and ${[...CONSOLE_ACTIONS].join(', ')}`, 404);
    }
    let outcome = 'ok';
    try {
      if (!mayCallCodeDeploy(session.role, name)) {
        throw new ApiError('AccessDeniedException', `The access key ${session.keyId} (role ${session.role}) is not authorized to perform: codedeploy:${name}`, 403);
      }
      const output = await operation(await readJson(req), deps.ctx);
      sendJson(res, 200, output ?? {});
    } catch (err) {
      outcome = isApiError(err) ? err.type : 'InternalFailure';
      throw err;
    } finally {
      if (!isReadOperation(name)) log.info({ operation: name, accessKeyId: session.keyId, role: session.role, outcome, via: 'console' }, 'api call');
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const get = method === 'GET' || method === 'HEAD';
    if (p === CONSOLE_PREFIX && get) {
      res.writeHead(308, { location: `${CONSOLE_PREFIX}/` });
      return void res.end();
    }
    if (p === `${CONSOLE_PREFIX}/` && get) return page(req, res);
    if (p.startsWith(`${CONSOLE_PREFIX}/assets/`) && get) {
      if (deps.assets.serve(p.slice(`${CONSOLE_PREFIX}/assets/`.length), req, res)) return;
      throw new ApiError('NotFoundException', `no console file ${p}`, 404);
    }
    if (p === `${CONSOLE_PREFIX}/api/login` && method === 'POST') return login(req, res);
    if (p === `${CONSOLE_PREFIX}/api/session` && get) {
      const session = await sessionOf(req);
      if (session === undefined) throw notSignedIn();
      return sendJson(res, 200, who(session), { 'cache-control': 'no-store' });
    }
    if (p === `${CONSOLE_PREFIX}/api/logout` && method === 'POST') {
      const session = await checked(req);
      sessions.end(session.id);
      log.info({ accessKeyId: session.keyId }, 'console sign-out');
      return sendJson(res, 200, {}, { 'set-cookie': sessionCookie('', { path: CONSOLE_PREFIX, secure: overTls(req), maxAgeSeconds: 0 }) });
    }
    const op = /^\/_console\/api\/call\/([A-Za-z]+)$/.exec(p);
    if (op !== null && method === 'POST') return call(op[1]!, req, res);
    throw new ApiError('NotFoundException', `the console has no ${method} ${p}`, 404);
  }

  function page(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (deps.assets.missing !== undefined) throw new ApiError('ServiceUnavailableException', deps.assets.missing, 503);
    deps.assets.serve('index.html', req, res, {
      // Only the console's own files and its own origin's API and WebSocket; never framed (clickjacking).
      'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
    });
  }

  return {
    async handle(req, res) {
      try {
        await route(req, res);
      } catch (err) {
        drainRequest(req, res);
        if (isApiError(err)) {
          const retry: Record<string, string> = err instanceof ThrottledError ? { 'retry-after': String(err.retryAfterSeconds) } : {};
          return sendJson(res, err.status, { __type: err.type, message: err.message }, retry);
        }
        log.error({ err, url: req.url }, 'console request failed unexpectedly');
        sendJson(res, 500, { __type: 'InternalFailure', message: 'the coordinator failed to handle this request; its log has the details' });
      }
    },
    async authenticateUpgrade(req) {
      const origin = originProblem(req);
      if (origin !== undefined) return { status: 403, type: 'CsrfCheckFailedException', message: origin };
      if ((await sessionOf(req)) === undefined) return { status: 401, type: 'NotSignedInException', message: notSignedIn().message };
      return undefined;
    },
    sessionCheck(req) {
      const id = readCookie(req.headers.cookie, SESSION_COOKIE) ?? '';
      return async () => (await sessions.get(id)) !== undefined;
    },
  };
}

/** sameText compares two secrets in time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

async function readJson(req: http.IncomingMessage): Promise<Input> {
  const body = await readLimitedBody(req, MAX_BODY_BYTES, () => new ApiError('SerializationException', `request body is larger than ${MAX_BODY_BYTES} bytes`, 413));
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError('SerializationException', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('SerializationException', 'request body must be a JSON object');
  return value as Input;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}
