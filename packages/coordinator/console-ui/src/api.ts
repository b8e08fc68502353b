/**
 * The console's calls to its coordinator: sign-in, the session, and CodeDeploy operations through
 * `/_console/api/call/<Operation>`, each carrying the session's CSRF token.
 */

/** Who is the signed-in access key. */
export interface Who {
  keyId: string;
  role: 'admin' | 'deployer' | 'read-only';
  csrfToken: string;
  expiresAt: number;
}

/** ApiFailure is a refused call: the HTTP status, the error's `__type` and its message. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** The console's base path (the page is served at `<base>/`). */
const BASE = '/_console';

let csrfToken = '';
let signedOut: () => void = () => undefined;

/** onSignedOut is called when a call finds the session gone (expired, signed out elsewhere, key revoked). */
export function onSignedOut(fn: () => void): void {
  signedOut = fn;
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${BASE}${path}`, {
    ...init,
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-fleetdeploy-csrf': csrfToken, ...(init.headers ?? {}) },
  });
  const text = await res.text();
  const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  if (!res.ok) {
    const failure = new ApiFailure(res.status, String(body.__type ?? 'Error'), String(body.message ?? res.statusText));
    if (res.status === 401 && path !== '/api/login' && path !== '/api/session') signedOut();
    throw failure;
  }
  return body as T;
}

/** currentSession is who is signed in, or undefined. */
export async function currentSession(): Promise<Who | undefined> {
  try {
    const who = await request<Who>('/api/session');
    csrfToken = who.csrfToken;
    return who;
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401) return undefined;
    throw err;
  }
}

/**
 * checkSignedIn asks whether the session still stands and, when it does not (it expired, or its key
 * was revoked), says so through {@link onSignedOut}: the stream closing is often the first sign.
 */
export async function checkSignedIn(): Promise<void> {
  if ((await currentSession()) === undefined) signedOut();
}

/** signIn signs in with an access key. */
export async function signIn(accessKeyId: string, secretAccessKey: string): Promise<Who> {
  const who = await request<Who>('/api/login', { method: 'POST', body: JSON.stringify({ accessKeyId, secretAccessKey }) });
  csrfToken = who.csrfToken;
  return who;
}

/** signOut ends the session. */
export async function signOut(): Promise<void> {
  await request('/api/logout', { method: 'POST', body: '{}' });
  csrfToken = '';
}

/** call runs one operation (CodeDeploy's or fleetdeploy's ListInstances). */
export function call<T>(operation: string, input: Record<string, unknown> = {}): Promise<T> {
  return request<T>(`/api/call/${operation}`, { method: 'POST', body: JSON.stringify(input) });
}

/** eventsUrl is the WebSocket URL of the event stream (one deployment's, or every deployment's). */
export function eventsUrl(deploymentId?: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${BASE}/events${deploymentId === undefined ? '' : `?deploymentId=${encodeURIComponent(deploymentId)}`}`;
}
