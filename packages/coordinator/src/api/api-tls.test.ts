import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { apiNames, RENEW_BEFORE_MS, renewalDue } from './api-tls.js';

describe('the API certificate', () => {
  it('names the listen address, loopback, this host and the configured names, each once', () => {
    expect(apiNames({ host: '192.0.2.10', apiTlsNames: ['deploy.example.com', 'localhost'] })).toEqual(['192.0.2.10', '127.0.0.1', '::1', 'localhost', os.hostname(), 'deploy.example.com']);
    // a wildcard listen address is no name a client dials
    expect(apiNames({ host: '0.0.0.0', apiTlsNames: [] })).not.toContain('0.0.0.0');
  });

  it('is renewed once 30 days or less of it remain', () => {
    const notAfter = Date.UTC(2027, 0, 31);
    expect(renewalDue(notAfter, notAfter - RENEW_BEFORE_MS - 1)).toBe(false);
    expect(renewalDue(notAfter, notAfter - RENEW_BEFORE_MS)).toBe(true);
    expect(renewalDue(notAfter, notAfter + 1)).toBe(true);
    expect(RENEW_BEFORE_MS).toBe(30 * 86_400_000);
  });
});
