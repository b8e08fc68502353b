/**
 * When a call fails at the TLS or socket level, say what to change instead of printing an OpenSSL
 * error: the coordinator serves its API in HTTPS (default port 7180) with a certificate from its own
 * CA, or in plain HTTP with --plaintext-api, and its two gRPC ports for agents (agents=, enrol=)
 * speak only TLS with HTTP/2.
 *
 *   https:// on a --plaintext-api port          → "does not speak TLS ... use http://HOST:PORT"
 *   http:// or https:// on a gRPC port          → "is a port for agents, not the API ... use the api= address"
 *   https:// with a CA this command lacks       → "is not trusted ... pass --ca-bundle <data_dir>/ca/ca.pem"
 *   https:// by a name the certificate lacks    → "does not name HOST ... api_tls_names"
 *
 * (http:// to the HTTPS port is answered by the coordinator itself: PlainHttpToHttpsPort.)
 */
import tls from 'node:tls';
import net from 'node:net';
import { CliError, CliErrorCode, isCliError } from './cli-error.js';

/** Certificate or socket failures after which a probe can tell whether a gRPC port answered. */
const PROBE_CODES = new Set(['ECONNRESET', 'EPIPE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED']);

const PROBE_TIMEOUT_MS = 2_000;

/** Verification failures that mean "this command does not trust the certificate's issuer". */
const UNTRUSTED_CODES = ['SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_SIGNATURE_FAILURE'];

/** failureSigns collects the error codes and messages of `err` and its causes (AggregateError, cause). */
export function failureSigns(err: unknown, depth = 0, into: { codes: Set<string>; text: string } = { codes: new Set(), text: '' }): { codes: Set<string>; text: string } {
  if (depth > 5 || typeof err !== 'object' || err === null) return into;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown[]; cause?: unknown };
  if (typeof e.code === 'string') into.codes.add(e.code);
  if (typeof e.message === 'string') into.text += `${e.message}\n`;
  for (const inner of e.errors ?? []) failureSigns(inner, depth + 1, into);
  failureSigns(e.cause, depth + 1, into);
  return into;
}

/** speaksGrpcTls says whether `host:port` completes a TLS handshake choosing HTTP/2, as the coordinator's agent ports do. */
export function speaksGrpcTls(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], ...(net.isIP(host) === 0 ? { servername: host } : {}) });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('secureConnect', () => done(socket.alpnProtocol === 'h2'));
  });
}

/** notTlsMessage is the line for an https:// endpoint that answered in plain HTTP. */
export function notTlsMessage(endpoint: string, plain: string): string {
  return `${endpoint} does not speak TLS: the coordinator serves its API in plain HTTP (--plaintext-api); use --endpoint-url ${plain}`;
}

/** untrustedMessage is the line for an HTTPS endpoint whose certificate chains to a CA this command was not given. */
export function untrustedMessage(endpoint: string, code: string): string {
  return `the certificate of ${endpoint} is not from a CA this command trusts (${code}): pass --ca-bundle FILE or set AWS_CA_BUNDLE=FILE with the coordinator's CA certificate, <data_dir>/ca/ca.pem (its start names it)`;
}

/** wrongNameMessage is the line for an HTTPS endpoint reached by a name its certificate does not carry. */
export function wrongNameMessage(endpoint: string, host: string): string {
  return `the certificate of ${endpoint} does not name ${host}: use a name it carries (the coordinator's --host, localhost, 127.0.0.1, its host name) or add this one with the coordinator's api_tls_names (--api-tls-name)`;
}

/** agentPortMessage is the line for an endpoint that is one of the coordinator's gRPC ports. */
export function agentPortMessage(hostPort: string): string {
  return `${hostPort} is one of the coordinator's ports for agents (gRPC over TLS), not its API: use the api= address of its listening line (https://, port 7180 by default)`;
}

/**
 * diagnoseEndpoint explains a failed call on `endpoint` when the endpoint is the wrong kind of port,
 * or gives undefined to keep the original error.
 */
export async function diagnoseEndpoint(endpoint: string, err: unknown): Promise<CliError | undefined> {
  const signs = failureSigns(isCliError(err) ? (err.cause ?? err) : err);
  const url = new URL(endpoint);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const plain = `http://${url.host}`;
  const wrongVersion = signs.codes.has('ERR_SSL_WRONG_VERSION_NUMBER') || /wrong version number/i.test(signs.text);
  if (url.protocol === 'https:' && (wrongVersion || signs.codes.has('EPROTO'))) {
    return new CliError(CliErrorCode.USAGE, notTlsMessage(endpoint, plain), { cause: err });
  }
  if ([...signs.codes].some((c) => PROBE_CODES.has(c)) && (await speaksGrpcTls(host, port))) {
    return new CliError(CliErrorCode.USAGE, agentPortMessage(url.host), { cause: err });
  }
  const untrusted = UNTRUSTED_CODES.find((c) => signs.codes.has(c));
  if (untrusted !== undefined) return new CliError(CliErrorCode.USAGE, untrustedMessage(endpoint, untrusted), { cause: err });
  if (signs.codes.has('ERR_TLS_CERT_ALTNAME_INVALID')) return new CliError(CliErrorCode.USAGE, wrongNameMessage(endpoint, host), { cause: err });
  return undefined;
}
