/**
 * Enrolment tokens, as text: `fde1.<id>.<secret>.<fingerprint>`.
 *
 *   fde1         the format's version
 *   id           16 hex digits: the token's row, so a lookup needs no secret comparison scan
 *   secret       32 random bytes, base64url (43 characters); the store keeps only its SHA-256
 *   fingerprint  SHA-256 of the coordinator CA certificate's DER, base64url (43 characters): the agent
 *                trusts the enrolment server only if its chain holds a CA with this fingerprint
 *
 * Example: fde1.9f2c4a1b0d3e5f67.q5oJ...Yk.3tW...0A (one line, 109 characters). Pure: no I/O.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** TOKEN_VERSION is the prefix of every token this coordinator makes. */
export const TOKEN_VERSION = 'fde1';

/** ParsedToken is a token's parts. */
export interface ParsedToken {
  id: string;
  secret: string;
  fingerprint: string;
}

const TOKEN_PATTERN = /^fde1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** parseToken splits a token, or returns undefined when it is not one (wrong version, length or alphabet). */
export function parseToken(text: string): ParsedToken | undefined {
  const m = TOKEN_PATTERN.exec(text.trim());
  if (m === null) return undefined;
  return { id: m[1]!, secret: m[2]!, fingerprint: m[3]! };
}

/** formatToken writes a token's parts in the format above. */
export function formatToken(token: ParsedToken): string {
  return `${TOKEN_VERSION}.${token.id}.${token.secret}.${token.fingerprint}`;
}

/** newToken makes a token with fresh random id and secret for the CA of `fingerprint`. */
export function newToken(fingerprint: string, random: (n: number) => Buffer = randomBytes): ParsedToken {
  return { id: random(8).toString('hex'), secret: random(32).toString('base64url'), fingerprint };
}

/** secretHash is what the store keeps of a secret: its SHA-256, hex. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** secretMatches compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(secretHash(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * parseDuration reads `90s`, `30m`, `1h`, `7d` or plain seconds into milliseconds; undefined when
 * it is none of these or not positive.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit * 1000;
  return ms > 0 ? ms : undefined;
}
