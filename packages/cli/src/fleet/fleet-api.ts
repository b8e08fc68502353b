/**
 * Calling fleetdeploy's own API operations (`X-Amz-Target: FleetDeploy_20261204.<Operation>`, e.g.
 * ListInstances), which CodeDeploy's SDK client has no command for: the same JSON 1.1 protocol,
 * endpoint, region and SigV4 credentials (service `codedeploy`) as the CodeDeploy calls.
 */
import http from 'node:http';
import https from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsContext } from '../aws-context.js';
import { explainFailure } from '../aws-failure.js';
import { CliError, CliErrorCode } from '../cli-error.js';

/** FLEETDEPLOY_TARGET_PREFIX is the coordinator's prefix for fleetdeploy's own operations. */
export const FLEETDEPLOY_TARGET_PREFIX = 'FleetDeploy_20261204.';

/** callFleetApi POSTs one fleetdeploy operation and returns its JSON answer, or throws one CliError saying what went wrong. */
export async function callFleetApi<T>(aws: AwsContext, operation: string, input: Record<string, unknown>): Promise<T> {
  const url = new URL(aws.endpoint);
  const body = JSON.stringify(input);
  const signer = new SignatureV4({ service: 'codedeploy', region: aws.region, credentials: aws.credentials, sha256: aws.codedeploy.config.sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path: url.pathname === '' ? '/' : url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${FLEETDEPLOY_TARGET_PREFIX}${operation}` },
    body,
  });
  let res: { status: number; text: string };
  try {
    res = await post(url, signed.headers, body, aws.caPem);
  } catch (err) {
    throw explainFailure(operation, err, aws.endpoint);
  }
  const { text } = res;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(CliErrorCode.API_FAILED, `${operation}: ${aws.endpoint} did not answer as a fleetdeploy coordinator (HTTP ${res.status}, not JSON): check --endpoint-url`);
  }
  if (res.status >= 200 && res.status < 300) return parsed as T;
  const error = parsed as { __type?: string; message?: string };
  const type = (error.__type ?? `HTTP ${res.status}`).replace(/^.*#/, '');
  const hint = type === 'UnknownOperationException' ? ' (the coordinator predates this command: upgrade fleetdeploy-coordinator)' : '';
  throw new CliError(CliErrorCode.API_FAILED, `${operation}: ${type}: ${error.message ?? 'no message'}${hint}`);
}

/** post sends one request and reads the whole answer; over https:// it trusts `caPem` when given (--ca-bundle), as the SDK clients do. */
function post(url: URL, headers: Record<string, string>, body: string, caPem: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const options = { method: 'POST', headers, timeout: 60_000 };
    const onResponse = (res: http.IncomingMessage): void => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    };
    const req = url.protocol === 'https:' ? https.request(url, { ...options, ...(caPem === undefined ? {} : { ca: caPem }) }, onResponse) : http.request(url, options, onResponse);
    req.on('timeout', () => req.destroy(Object.assign(new Error('no answer within 60 s'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}
