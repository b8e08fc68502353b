/**
 * The two ways a notification leaves the coordinator: SNS Publish (the topic's subscribers get what
 * CodeDeploy would have sent), and an HTTP POST to a webhook URL. Each resolves when the target
 * accepted the message and rejects with a one-line reason otherwise.
 *
 * The SNS client is configured as every AWS SDK client is, from the coordinator's environment and
 * shared files: AWS_REGION, credentials, AWS_ENDPOINT_URL_SNS or AWS_ENDPOINT_URL. It is made on
 * first use, so a coordinator with no SNS triggers never resolves AWS settings.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { describeAwsError } from '../aws-error.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TRIGGER_NAME_HEADER, signBody } from './webhook-signature.js';
import type { Delivery } from './trigger-outbox.js';

/** A delivery attempt must end before the target can hold the delivery loop: an endpoint that accepts and never answers times out. */
const CONNECTION_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;

/** Sender sends one delivery to its target; `abort` cuts the attempt short (the coordinator is stopping). */
export type Sender = (delivery: Delivery, abort?: AbortSignal) => Promise<void>;

/** lazySnsSender publishes to the delivery's topic. */
export function lazySnsSender(make: () => SNSClient = () => new SNSClient({ requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS } })): Sender {
  let client: SNSClient | undefined;
  return async (d, abort) => {
    try {
      await (client ??= make()).send(new PublishCommand({ TopicArn: d.target, Subject: d.subject, Message: d.body }), abort === undefined ? {} : { abortSignal: abort });
    } catch (err) {
      throw new Error(`SNS Publish to ${d.target} failed: ${describeAwsError(err)}`);
    }
  };
}

/**
 * webhookSender POSTs the message to the delivery's URL with its event id, trigger name and, when
 * the trigger has a secret, its signature. Any 2xx answer delivers it; redirects are not followed.
 */
export function webhookSender(secretOf: (triggerName: string) => string | undefined, timeoutMs = REQUEST_TIMEOUT_MS, unsigned: (triggerName: string) => void = () => undefined): Sender {
  const warned = new Set<string>();
  return async (d, abort) => {
    const secret = secretOf(d.triggerName);
    if (secret === undefined && !warned.has(d.triggerName)) {
      warned.add(d.triggerName);
      unsigned(d.triggerName);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [EVENT_ID_HEADER]: d.eventId,
      [TRIGGER_NAME_HEADER]: d.triggerName,
      ...(secret === undefined ? {} : { [SIGNATURE_HEADER]: signBody(d.body, secret) }),
    };
    // One signal for the timeout and the coordinator stopping (AbortSignal.any needs Node 20.3).
    const cut = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      cut.abort();
    }, timeoutMs);
    const onAbort = (): void => cut.abort();
    abort?.addEventListener('abort', onAbort, { once: true });
    try {
      let res: Response;
      try {
        res = await fetch(d.target, { method: 'POST', headers, body: d.body, redirect: 'manual', signal: cut.signal });
        await res.arrayBuffer(); // drain, so the connection can be reused
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const why = timedOut ? `no answer within ${timeoutMs / 1000} s` : cut.signal.aborted ? 'the coordinator is stopping' : (cause?.code ?? cause?.message ?? (err as Error).message);
        throw new Error(`POST ${d.target} failed: ${why}`);
      }
      if (res.status < 200 || res.status > 299) throw new Error(`POST ${d.target} answered ${res.status}`);
    } finally {
      clearTimeout(timer);
      abort?.removeEventListener('abort', onAbort);
    }
  };
}
