// What the client refuses before anything is sent. The conversations with a real HAProxy, and the
// unreachable and silent sockets, are in test/haproxy/runtime-api.test.ts.
import { describe, expect, it } from 'vitest';
import { createHaproxyRuntimeApi, parseRuntimeAddress } from './runtime-api.js';
import type { AdminState } from './runtime-api.js';
import { isRuntimeApiError, RuntimeApiError } from './runtime-error.js';

const invalid = (message: string) => expect.objectContaining({ name: 'RuntimeApiError', code: 'INVALID_ARGUMENT', message });

describe('runtime API addresses', () => {
  it('reads socket paths and host:port', () => {
    expect(parseRuntimeAddress('/run/haproxy/admin.sock')).toEqual({ kind: 'unix', path: '/run/haproxy/admin.sock' });
    expect(parseRuntimeAddress('unix:/run/haproxy/admin.sock')).toEqual({ kind: 'unix', path: '/run/haproxy/admin.sock' });
    expect(parseRuntimeAddress('./haproxy.sock')).toEqual({ kind: 'unix', path: './haproxy.sock' });
    expect(parseRuntimeAddress('127.0.0.1:9999')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 9999 });
    expect(parseRuntimeAddress('localhost:1')).toEqual({ kind: 'tcp', host: 'localhost', port: 1 });
    expect(parseRuntimeAddress('[::1]:9999')).toEqual({ kind: 'tcp', host: '::1', port: 9999 });
  });

  it.each(['haproxy.sock', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', ':9999', '::1:9999', ''])('rejects %j, naming it', (address) => {
    expect(() => parseRuntimeAddress(address)).toThrow(invalid(`HAProxy runtime API address '${address}' is neither a socket path (with a '/') nor host:port`));
  });
});

describe('runtime API arguments', () => {
  // Nothing listens here; each call must fail on its arguments before trying to connect.
  const api = createHaproxyRuntimeApi('/nonexistent/haproxy.sock');

  it.each([257, -1, 2.5, Number.NaN])('refuses weight %s', async (weight) => {
    await expect(api.setWeight('app', 'green-1', weight)).rejects.toThrow(invalid(`weight for app/green-1 must be an integer from 0 to 256, got ${weight}`));
  });

  it('refuses an unknown state', async () => {
    await expect(api.setState('app', 'green-1', 'up' as AdminState)).rejects.toThrow(invalid("state for app/green-1 must be one of ready, drain, maint, got 'up'"));
  });

  it.each(['app; set weight app/blue-1 0', 'app\nshow info', 'a b', '', 'app/x'])('refuses the name %j, which could change the command', async (name) => {
    await expect(api.showServers(name)).rejects.toThrow(invalid(`backend name '${name}' is not an HAProxy name (letters, digits and - _ . : only)`));
    await expect(api.setWeight('app', name, 1)).rejects.toThrow(invalid(`server name '${name}' is not an HAProxy name (letters, digits and - _ . : only)`));
    await expect(api.setState(name, 'blue-1', 'ready')).rejects.toThrow(invalid(`backend name '${name}' is not an HAProxy name (letters, digits and - _ . : only)`));
  });

  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('refuses the timeout %s', (timeoutMs) => {
    expect(() => createHaproxyRuntimeApi('/run/haproxy.sock', { timeoutMs })).toThrow(
      invalid(`timeout for HAProxy's runtime API at /run/haproxy.sock must be a positive number of milliseconds, got ${timeoutMs}`),
    );
  });

  it('tells its errors by name and code', () => {
    expect(isRuntimeApiError(new RuntimeApiError('TIMEOUT', 'x'))).toBe(true);
    expect(isRuntimeApiError(Object.assign(new Error('x'), { name: 'RuntimeApiError', code: 'NOPE' }))).toBe(false);
    expect(isRuntimeApiError(new Error('x'))).toBe(false);
  });
});
