import { describe, expect, it } from 'vitest';
import { formatToken, newToken, parseDuration, parseToken, secretHash, secretMatches } from './tokens.js';

const FP = 'A'.repeat(43);

describe('enrolment tokens', () => {
  it('round-trips: fde1.<16 hex>.<43 base64url>.<43 base64url>', () => {
    const token = newToken(FP);
    const text = formatToken(token);
    expect(text).toMatch(/^fde1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}\.A{43}$/);
    expect(parseToken(`  ${text}\n`)).toEqual(token);
  });

  it.each([
    ['another version', `fde2.0123456789abcdef.${'s'.repeat(43)}.${FP}`],
    ['a short secret', `fde1.0123456789abcdef.${'s'.repeat(42)}.${FP}`],
    ['no fingerprint', `fde1.0123456789abcdef.${'s'.repeat(43)}`],
    ['an upper-case id', `fde1.0123456789ABCDEF.${'s'.repeat(43)}.${FP}`],
    ['a padded secret', `fde1.0123456789abcdef.${'s'.repeat(42)}=.${FP}`],
    ['empty', ''],
  ])('refuses %s', (_, text) => {
    expect(parseToken(text)).toBeUndefined();
  });

  it('keeps only a hash of the secret and compares it in constant time', () => {
    const { secret } = newToken(FP);
    const hash = secretHash(secret);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(secret);
    expect(secretMatches(secret, hash)).toBe(true);
    expect(secretMatches(`${secret.slice(0, -1)}x`, hash)).toBe(false);
    expect(secretMatches(secret, 'abcd')).toBe(false);
  });

  it('reads durations: 90s, 30m, 1h, 7d and plain seconds', () => {
    expect([parseDuration('90s'), parseDuration('30m'), parseDuration('1h'), parseDuration('7d'), parseDuration('15')]).toEqual([90_000, 1_800_000, 3_600_000, 604_800_000, 15_000]);
    expect([parseDuration('0'), parseDuration('1w'), parseDuration('-1h'), parseDuration('')]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
