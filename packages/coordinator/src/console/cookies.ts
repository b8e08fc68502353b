/**
 * The console's session cookie, as pure functions: reading it from a Cookie header and writing the
 * Set-Cookie that sets or clears it. The cookie is HttpOnly (page scripts cannot read it),
 * SameSite=Strict (a browser sends it only on requests that come from the console's own pages) and
 * Secure when the request came over TLS (a browser then never sends it in plain text).
 */

/** SESSION_COOKIE is the cookie's name. */
export const SESSION_COOKIE = 'fd_console';

/** readCookie finds `name`'s value in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** CookieOptions say where the cookie applies and whether the request came over TLS. */
export interface CookieOptions {
  path: string;
  secure: boolean;
  /** maxAgeSeconds: how long the browser keeps it; 0 clears it. */
  maxAgeSeconds: number;
}

/** sessionCookie is the Set-Cookie value that sets (or, with an empty value and max age 0, clears) the session. */
export function sessionCookie(value: string, opts: CookieOptions): string {
  return [`${SESSION_COOKIE}=${value}`, `Path=${opts.path}`, `Max-Age=${Math.max(0, Math.floor(opts.maxAgeSeconds))}`, 'HttpOnly', 'SameSite=Strict', ...(opts.secure ? ['Secure'] : [])].join('; ');
}
