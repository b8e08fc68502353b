import { describe, expect, it } from 'vitest';
import type { AccessKey } from '../auth/access-keys.js';
import { createSessionStore } from './console-sessions.js';
import { createLoginLimiter } from './login-limiter.js';
import { readCookie, sessionCookie } from './cookies.js';

function world() {
  let now = 1_000_000;
  const keys = new Map<string, AccessKey>([
    ['AKIAADMIN', { id: 'AKIAADMIN', secret: 's', role: 'admin', createdAt: 0 }],
    ['AKIAREAD', { id: 'AKIAREAD', secret: 's', role: 'read-only', createdAt: 0 }],
  ]);
  const store = createSessionStore({ keys: { get: (id) => Promise.resolve(keys.get(id)) }, now: () => now, ttlMs: 60_000, maxSessions: 3 });
  return { store, keys, tick: (ms: number) => (now += ms) };
}

describe('console sessions', () => {
  it('gives each sign-in its own unguessable id and CSRF token, with the key and role', async () => {
    const { store } = world();
    const a = await store.create('AKIAADMIN');
    const b = await store.create('AKIAADMIN');
    expect(a.id).not.toBe(b.id);
    expect(a.csrfToken).not.toBe(a.id);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await store.get(a.id)).toMatchObject({ keyId: 'AKIAADMIN', role: 'admin', csrfToken: a.csrfToken });
    expect(await store.get('nonsense')).toBeUndefined();
  });
  it('ends a session at its expiry', async () => {
    const { store, tick } = world();
    const s = await store.create('AKIAREAD');
    tick(59_999);
    expect(await store.get(s.id)).toBeDefined();
    tick(1);
    expect(await store.get(s.id)).toBeUndefined();
    expect(store.size()).toBe(0);
  });
  it('ends a session whose key is revoked or deleted, and follows a changed role', async () => {
    const { store, keys } = world();
    const s = await store.create('AKIAADMIN');
    keys.set('AKIAADMIN', { ...keys.get('AKIAADMIN')!, role: 'read-only' });
    expect((await store.get(s.id))?.role).toBe('read-only');
    keys.set('AKIAADMIN', { ...keys.get('AKIAADMIN')!, revokedAt: 1 });
    expect(await store.get(s.id)).toBeUndefined();
    const r = await store.create('AKIAREAD');
    keys.delete('AKIAREAD');
    expect(await store.get(r.id)).toBeUndefined();
  });
  it('refuses to make a session for a key that is not live', async () => {
    const { store, keys } = world();
    await expect(store.create('AKIANOBODY')).rejects.toThrow(/AKIANOBODY is not live/);
    keys.set('AKIAREAD', { ...keys.get('AKIAREAD')!, revokedAt: 1 });
    await expect(store.create('AKIAREAD')).rejects.toThrow(/not live/);
  });
  it('signs out, and holds at most maxSessions, dropping the oldest', async () => {
    const { store } = world();
    const first = await store.create('AKIAADMIN');
    store.end(first.id);
    expect(await store.get(first.id)).toBeUndefined();
    const [a, b, c, d] = [await store.create('AKIAADMIN'), await store.create('AKIAADMIN'), await store.create('AKIAADMIN'), await store.create('AKIAADMIN')];
    expect(store.size()).toBe(3);
    expect(await store.get(a.id)).toBeUndefined();
    for (const s of [b, c, d]) expect(await store.get(s.id)).toBeDefined();
  });
  it('answers no session for one signed out while its key was being read', async () => {
    const { store } = world();
    const s = await store.create('AKIAADMIN');
    const reading = store.get(s.id); // its key is read asynchronously ...
    store.end(s.id); // ... and the browser signs out meanwhile
    expect(await reading).toBeUndefined();
    expect(store.size()).toBe(0);
  });
});

describe('login limiter', () => {
  it('refuses an address after maxFailures within the window, until the oldest failure leaves it', () => {
    let now = 0;
    const limiter = createLoginLimiter({ now: () => now, maxFailures: 3, windowMs: 10_000 });
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterMs('10.0.0.1')).toBe(0);
      limiter.failed('10.0.0.1');
      now += 1000;
    }
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(7000); // the first failure (at 0) leaves the window at 10 s
    expect(limiter.retryAfterMs('10.0.0.2')).toBe(0); // other addresses are not held up
    now = 10_000;
    expect(limiter.retryAfterMs('10.0.0.1')).toBe(0);
  });
  it('forgets the least recently failing address past maxAddresses', () => {
    const limiter = createLoginLimiter({ now: () => 0, maxFailures: 1, windowMs: 10_000, maxAddresses: 2 });
    limiter.failed('a');
    limiter.failed('b');
    limiter.failed('c');
    expect(limiter.retryAfterMs('a')).toBe(0);
    expect(limiter.retryAfterMs('c')).toBeGreaterThan(0);
  });
});

describe('session cookie', () => {
  it('is HttpOnly and SameSite=Strict, Secure only over TLS, and clears with Max-Age=0', () => {
    expect(sessionCookie('abc', { path: '/_console', secure: false, maxAgeSeconds: 3600 })).toBe('fd_console=abc; Path=/_console; Max-Age=3600; HttpOnly; SameSite=Strict');
    expect(sessionCookie('abc', { path: '/_console', secure: true, maxAgeSeconds: 3600 })).toMatch(/; SameSite=Strict; Secure$/);
    expect(sessionCookie('', { path: '/_console', secure: false, maxAgeSeconds: 0 })).toMatch(/^fd_console=; Path=\/_console; Max-Age=0;/);
  });
  it('is read from a Cookie header among others', () => {
    expect(readCookie('a=1; fd_console=xyz; b=2', 'fd_console')).toBe('xyz');
    expect(readCookie('fd_consolex=1', 'fd_console')).toBeUndefined();
    expect(readCookie(undefined, 'fd_console')).toBeUndefined();
  });
});
