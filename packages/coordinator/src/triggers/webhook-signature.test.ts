import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signBody, verifySignature } from './webhook-signature.js';

describe('webhook signatures', () => {
  it('are sha256=<hex HMAC-SHA256 of the body> and verify only with the same body and secret', () => {
    const body = '{"deploymentId":"d-1"}';
    const sig = signBody(body, 's3cret');
    expect(sig).toBe(`sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
    expect(verifySignature(body, 's3cret', sig)).toBe(true);
    expect(verifySignature(body, 'other', sig)).toBe(false);
    expect(verifySignature(`${body} `, 's3cret', sig)).toBe(false);
    expect(verifySignature(body, 's3cret', undefined)).toBe(false);
    expect(verifySignature(body, 's3cret', 'sha256=00')).toBe(false);
  });
});
