/**
 * Webhook signatures: `X-Fleetdeploy-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body
 * bytes with the trigger's secret (config webhook_secrets). A receiver recomputes it over the raw
 * body and compares in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Fleetdeploy-Signature';
export const EVENT_ID_HEADER = 'X-Fleetdeploy-Event-Id';
export const TRIGGER_NAME_HEADER = 'X-Fleetdeploy-Trigger';

/** signBody is the signature header's value for `body` under `secret`. */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** verifySignature tells whether `header` is the signature of `body` under `secret`. */
export function verifySignature(body: string, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(body, secret));
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
