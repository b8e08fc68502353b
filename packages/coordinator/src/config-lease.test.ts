import { describe, expect, it } from 'vitest';
import { resolveConfig } from './config.js';

describe('deployment_lease_seconds', () => {
  it('defaults to 15 s and is read from the file and the flag, the flag winning', () => {
    expect(resolveConfig(undefined, '', {}).deploymentLeaseSeconds).toBe(15);
    expect(resolveConfig('deployment_lease_seconds: 2.5\n', 'c.yml', {}).deploymentLeaseSeconds).toBe(2.5);
    expect(resolveConfig('deployment_lease_seconds: 30\n', 'c.yml', { deploymentLeaseSeconds: '60' }).deploymentLeaseSeconds).toBe(60);
    expect(resolveConfig(undefined, '', { deploymentLeaseSeconds: '1' }).deploymentLeaseSeconds).toBe(1);
    expect(resolveConfig(undefined, '', { deploymentLeaseSeconds: '3600' }).deploymentLeaseSeconds).toBe(3600);
  });

  it.each([
    ['0.0001', '0.0001'], // a 0 ms lease once rounded: the leaser threw a RangeError at start
    ['0.5', '0.5'],
    ['3601', '3601'],
    ['0', '0'],
    ['soon', '"soon"'],
  ])('refuses %s in the file, naming the setting and the range', (value, shown) => {
    expect(() => resolveConfig(`deployment_lease_seconds: ${value}\n`, 'c.yml', {})).toThrow(`c.yml: deployment_lease_seconds: expected a number of seconds from 1 to 3600 (a lease is renewed every third of it), got ${shown}`);
  });

  it('refuses a flag out of range, naming the flag', () => {
    expect(() => resolveConfig(undefined, '', { deploymentLeaseSeconds: '0' })).toThrow('--deployment-lease-seconds: expected a number of seconds from 1 to 3600 (a lease is renewed every third of it), got "0"');
    expect(() => resolveConfig(undefined, '', { deploymentLeaseSeconds: '86400' })).toThrow('--deployment-lease-seconds: expected a number of seconds from 1 to 3600 (a lease is renewed every third of it), got "86400"');
  });
});
