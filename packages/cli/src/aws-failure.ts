/**
 * Turning what the SDK throws into one line that says what to do: an unreachable coordinator, a
 * refused request (its AWS exception name and message), or credentials the chain could not find.
 */
import { CliError, CliErrorCode, isCliError } from './cli-error.js';
import { NO_CREDENTIALS_MESSAGE } from './aws-context.js';

/** Network error codes that mean "nothing answered at that address". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** networkCode finds a socket error code on an error or inside it (AggregateError, cause). */
export function networkCode(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; errors?: unknown[]; cause?: unknown; name?: unknown };
  if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError') return 'ETIMEDOUT';
  for (const inner of e.errors ?? []) {
    const code = networkCode(inner, depth + 1);
    if (code !== undefined) return code;
  }
  return networkCode(e.cause, depth + 1);
}

/**
 * explainFailure is `err` from calling `call` on the coordinator at `endpoint` as a {@link CliError}.
 * Examples: `cannot reach the coordinator at http://127.0.0.1:1 (ECONNREFUSED): check --endpoint-url
 * or FLEETDEPLOY_ENDPOINT, or start one with fleetdeploy simulate`; `CreateDeployment:
 * ApplicationDoesNotExistException: No application found for name: shop`.
 */
export function explainFailure(call: string, err: unknown, endpoint: string): CliError {
  if (isCliError(err)) return err;
  const code = networkCode(err);
  if (code !== undefined) {
    return new CliError(CliErrorCode.UNREACHABLE, `cannot reach the coordinator at ${endpoint} (${code}): check --endpoint-url or FLEETDEPLOY_ENDPOINT, or start one with fleetdeploy simulate`, { cause: err });
  }
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e.name === 'CredentialsProviderError') return new CliError(CliErrorCode.NO_CREDENTIALS, NO_CREDENTIALS_MESSAGE, { cause: err });
  const name = e.name && e.name !== 'Error' ? e.name : 'Error';
  const status = e.$metadata?.httpStatusCode;
  let message = (e.message ?? String(err)).split('\n')[0]!.trim();
  if (message === '' || message === 'UnknownError') message = status === undefined ? 'no message' : `HTTP ${status}`;
  if (name === 'Unknown' || /Deserialization error|Expected .* but got/i.test(message)) {
    return new CliError(CliErrorCode.API_FAILED, `${call}: ${endpoint} did not answer as a fleetdeploy coordinator (${message}): check --endpoint-url`, { cause: err });
  }
  return new CliError(CliErrorCode.API_FAILED, `${call}: ${name}: ${message}`, { cause: err });
}

/** callApi runs one SDK call and explains its failure. */
export async function callApi<T>(call: string, endpoint: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw explainFailure(call, err, endpoint);
  }
}
