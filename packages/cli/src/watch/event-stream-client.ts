/**
 * Following one deployment on the coordinator's WebSocket event stream
 * (`GET /events?deploymentId=...` on the API port; see the coordinator's api/event-stream.ts).
 * The URL is presigned with SigV4 like any API request (service `codedeploy`, query-string form, so
 * the same URL works where headers cannot be set). A dropped connection (a coordinator restart) is
 * reopened with a fresh signature and resumes from the new snapshot.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { WebSocket } from 'ws';
import type { AwsContext } from '../aws-context.js';
import { networkCode } from '../aws-failure.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { sleep } from '../clock.js';
import type { StreamMessage } from './progress.js';
import { FINAL_STATUSES } from './progress.js';

/** EVENTS_PATH is where the coordinator serves the stream. */
export const EVENTS_PATH = '/events';
/** The signing name of the coordinator's API (CodeDeploy's). */
const SIGNING_SERVICE = 'codedeploy';
/** A presigned URL only has to be valid when the connection opens. */
const PRESIGN_SECONDS = 300;

/** presignEventStreamUrl is the signed `ws://` (or `wss://`) URL of a deployment's event stream. */
export async function presignEventStreamUrl(aws: AwsContext, deploymentId: string): Promise<string> {
  const base = new URL(aws.endpoint);
  const signer = new SignatureV4({ service: SIGNING_SERVICE, region: aws.region, credentials: aws.credentials, sha256: aws.codedeploy.config.sha256 });
  const signed = await signer.presign(
    {
      method: 'GET',
      protocol: base.protocol,
      hostname: base.hostname,
      ...(base.port === '' ? {} : { port: Number(base.port) }),
      path: `${base.pathname.replace(/\/+$/, '')}${EVENTS_PATH}`,
      query: { deploymentId },
      headers: { host: base.host },
    },
    { expiresIn: PRESIGN_SECONDS },
  );
  const url = new URL(`${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${signed.path}`);
  for (const [k, v] of Object.entries(signed.query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) if (one !== null && one !== undefined) url.searchParams.append(k, one);
  }
  return url.toString();
}

/** FollowOptions tune reconnection. */
export interface FollowOptions {
  /** Give up after this long without a connection (default 60 s). */
  reconnectForMs?: number;
  /** Stops following; resolves the follow early. */
  signal?: AbortSignal;
}

/** Outcome of one connection. */
type Ended = { kind: 'final' } | { kind: 'dropped'; why: string } | { kind: 'refused'; error: CliError } | { kind: 'aborted' };

/**
 * followDeployment hands every message to `onMessage` until the deployment is final (the server's
 * normal close after the final change); reconnects after a drop, and throws STREAM_FAILED or the
 * server's refusal (e.g. `DeploymentDoesNotExistException: ...`) when it cannot go on.
 */
export async function followDeployment(aws: AwsContext, deploymentId: string, onMessage: (m: StreamMessage) => void, opts: FollowOptions = {}): Promise<void> {
  const budget = opts.reconnectForMs ?? 60_000;
  let waited = 0;
  let delay = 250;
  for (;;) {
    const ended = await connectOnce(aws, deploymentId, onMessage, opts.signal, () => {
      waited = 0;
      delay = 250;
    });
    if (ended.kind === 'final' || ended.kind === 'aborted') return;
    if (ended.kind === 'refused') throw ended.error;
    if (waited >= budget) {
      throw new CliError(CliErrorCode.STREAM_FAILED, `lost the event stream of ${deploymentId} (${ended.why}) and could not reconnect for ${Math.round(budget / 1000)} s: check the coordinator, then run fleetdeploy status ${deploymentId}`);
    }
    await sleep(delay, opts.signal);
    waited += delay;
    delay = Math.min(delay * 2, 5_000);
  }
}

function connectOnce(aws: AwsContext, deploymentId: string, onMessage: (m: StreamMessage) => void, signal: AbortSignal | undefined, onOpen: () => void): Promise<Ended> {
  return presignEventStreamUrl(aws, deploymentId).then(
    (url) =>
      new Promise<Ended>((resolve) => {
        const ws = new WebSocket(url, { handshakeTimeout: 10_000, ...(aws.caPem === undefined ? {} : { ca: aws.caPem }) });
        let final = false;
        let settled = false;
        const settle = (e: Ended): void => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', abort);
          resolve(e);
        };
        const abort = (): void => {
          ws.terminate();
          settle({ kind: 'aborted' });
        };
        signal?.addEventListener('abort', abort, { once: true });
        ws.on('open', onOpen);
        ws.on('message', (data) => {
          let m: StreamMessage;
          try {
            m = JSON.parse(String(data)) as StreamMessage;
          } catch {
            return; // not ours to understand; the next snapshot or change will say where things are
          }
          if ((m.type === 'deployment' && FINAL_STATUSES.includes(m.status)) || (m.type === 'snapshot' && FINAL_STATUSES.includes(m.deployment.status))) final = true;
          onMessage(m);
        });
        ws.on('unexpected-response', (_req, res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            ws.terminate();
            let type = `HTTP ${res.statusCode}`;
            let message = body.trim().slice(0, 300);
            try {
              const parsed = JSON.parse(body) as { __type?: string; message?: string };
              type = parsed.__type ?? type;
              message = parsed.message ?? message;
            } catch {
              // not the coordinator's JSON: say what came back
            }
            if (res.statusCode === 503 || (res.statusCode ?? 0) >= 500) return settle({ kind: 'dropped', why: `${type}: ${message}` });
            const hint = res.statusCode === 404 ? ' (does this coordinator serve the event stream? it needs fleetdeploy 0.1 or later)' : '';
            settle({ kind: 'refused', error: new CliError(CliErrorCode.API_FAILED, `event stream of ${deploymentId}: ${type}: ${message}${hint}`) });
          });
        });
        ws.on('error', (err) => settle({ kind: 'dropped', why: networkCode(err) ?? err.message }));
        ws.on('close', (code, reason) => settle(final && code === 1000 ? { kind: 'final' } : { kind: 'dropped', why: `closed ${code}${reason.length > 0 ? ` ${String(reason)}` : ''}` }));
      }),
  );
}
