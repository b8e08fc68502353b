/**
 * The web console's sign-in sessions: a random id (the cookie's value) mapped, in this process's
 * memory, to the access key that signed in, a per-session CSRF token and an expiry. A restart signs
 * everyone out, which is acceptable for a console (the keys themselves live in the database).
 *
 * The key is read again on every use: a session whose key was revoked or deleted (by
 * `fleetdeploy-coordinator keys` from another process, say) ends at once, and its role is the key's
 * role now, not the one it had at sign-in.
 */
import { randomBytes } from 'node:crypto';
import type { KeyLookup } from '../auth/sigv4-verify.js';
import type { Role } from '../auth/roles.js';

/** ConsoleSession is one signed-in browser. */
export interface ConsoleSession {
  id: string;
  keyId: string;
  role: Role;
  /** csrfToken must come back in the {@link CSRF_HEADER} of every console API call. */
  csrfToken: string;
  /** expiresAt is epoch ms; the session is gone from then on. */
  expiresAt: number;
}

/** SessionStore makes, finds and ends sessions. */
export interface SessionStore {
  /** create signs `keyId` in; the key must exist unrevoked (the caller checked its secret). */
  create(keyId: string): Promise<ConsoleSession>;
  /** get finds a live session by id: undefined when unknown, expired, or its key is revoked or gone. */
  get(id: string): Promise<ConsoleSession | undefined>;
  /** end signs a session out; unknown ids are ignored. */
  end(id: string): void;
  /** size counts the sessions held (expired ones not yet swept included). */
  size(): number;
}

/** SessionStoreDeps are the key store, the time and how long a session lasts. */
export interface SessionStoreDeps {
  keys: KeyLookup;
  now: () => number;
  ttlMs: number;
  /** At most this many sessions are held; the oldest is dropped for a new one (bounds memory against a login loop). */
  maxSessions?: number;
}

/** newToken is 32 random bytes as base64url: unguessable, and safe in a cookie and a header. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

interface Held {
  keyId: string;
  csrfToken: string;
  expiresAt: number;
}

/** createSessionStore keeps sessions in a Map (insertion order = age, for sweeping and the cap). */
export function createSessionStore(deps: SessionStoreDeps): SessionStore {
  const held = new Map<string, Held>();
  const max = deps.maxSessions ?? 10_000;

  const sweep = (now: number): void => {
    for (const [id, s] of held) if (s.expiresAt <= now) held.delete(id);
  };

  return {
    async create(keyId) {
      const key = await deps.keys.get(keyId);
      if (key === undefined || key.revokedAt !== undefined) throw new Error(`access key ${keyId} is not live; a session needs a live key`);
      const now = deps.now();
      sweep(now);
      while (held.size >= max) held.delete(held.keys().next().value!);
      const id = newToken();
      const s: Held = { keyId, csrfToken: newToken(), expiresAt: now + deps.ttlMs };
      held.set(id, s);
      return { id, keyId, role: key.role, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
    },
    async get(id) {
      const s = held.get(id);
      if (s === undefined) return undefined;
      if (s.expiresAt <= deps.now()) {
        held.delete(id);
        return undefined;
      }
      const key = await deps.keys.get(s.keyId);
      if (key === undefined || key.revokedAt !== undefined) {
        // Only this entry: a session that replaced it (or was signed out) while the key was read stays as it is.
        if (held.get(id) === s) held.delete(id);
        return undefined;
      }
      if (held.get(id) !== s) return undefined; // signed out (or dropped for the cap) while its key was read
      return { id, keyId: s.keyId, role: key.role, csrfToken: s.csrfToken, expiresAt: s.expiresAt };
    },
    end(id) {
      held.delete(id);
    },
    size: () => held.size,
  };
}
