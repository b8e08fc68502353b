/**
 * `fleetdeploy-agent enrol`: trade a one-time token for a client certificate.
 *
 *   token → its CA fingerprint → pin the CA from the enrolment port (pin.ts) → new key + CSR (the key
 *   stays here) → Enrol over TLS verified against the pinned CA → the answer's CA must be the pinned
 *   one and the certificate must be for our key → key.pem (0600), cert.pem, ca.pem in the tls folder
 */
import { createHash, X509Certificate } from 'node:crypto';
import { DeployError } from '@fleetdeploy/shared';
import type { CertificateResponse__Output } from '@fleetdeploy/protocol';
import type { GrpcRuntime } from './grpc-runtime.js';
import type { TlsIdentity } from './tls-identity.js';
import { saveTlsIdentity } from './tls-identity.js';
import { fetchPinnedCa } from './pin.js';
import { grpcDial } from './proxy.js';
import type { ProxyRoute } from './proxy.js';
import { plainGrpcDetails, splitAddress, wrongPortOf, WrongPortError } from './enrol-address.js';

/** ENROL_TIMEOUT_MS bounds the handshake and the call. */
const ENROL_TIMEOUT_MS = 30_000;

/** tokenFingerprint is the CA fingerprint a token carries (`fde1.<id>.<secret>.<fingerprint>`), or an error naming the format. */
export function tokenFingerprint(token: string): string {
  const m = /^fde1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}\.([A-Za-z0-9_-]{43})$/.exec(token.trim());
  if (m === null) throw new DeployError('UnknownError', '--token: not an enrolment token (expected fde1.<id>.<secret>.<fingerprint>, from fleetdeploy-coordinator enrol-token)');
  return m[1]!;
}

/** EnrolOptions are what `enrol` needs. */
export interface EnrolOptions {
  runtime: GrpcRuntime;
  /** The coordinator's enrolment address, host:port. */
  address: string;
  token: string;
  /** The tls folder to write. */
  dir: string;
  /** The CSR's informational subject (the coordinator names the certificate after the token's instance). */
  nameHint: string;
  /** The HTTP CONNECT proxy to reach the coordinator through, if any (connection/proxy.ts). */
  proxy?: ProxyRoute;
}

/** enrolAgent enrols and stores the identity; returns it. */
export async function enrolAgent(opts: EnrolOptions): Promise<TlsIdentity> {
  const token = opts.token.trim();
  const fingerprint = tokenFingerprint(token);
  const { host, port } = splitAddress(opts.address);
  const caPem = await fetchPinnedCa(host, port, fingerprint, ENROL_TIMEOUT_MS, opts.proxy);
  const { makeKeyAndCsr } = await import('./csr.js');
  const { keyPem, csrPem } = await makeKeyAndCsr(opts.nameHint);
  const { grpc } = opts.runtime;
  const dial = grpcDial(opts.address, opts.proxy);
  const client = new opts.runtime.EnrolmentService(dial.target, grpc.credentials.createSsl(Buffer.from(caPem)), dial.options);
  let response: CertificateResponse__Output;
  try {
    response = await new Promise<CertificateResponse__Output>((resolve, reject) => {
      client.Enrol({ token, csrPem }, { deadline: Date.now() + ENROL_TIMEOUT_MS }, (err, res) => (err || res === undefined ? reject(err ?? new Error('empty answer')) : resolve(res)));
    });
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    const reason = plainGrpcDetails(e.details ?? e.message ?? String(err));
    const wrong = wrongPortOf(reason);
    if (wrong !== undefined) throw new WrongPortError(opts.address, wrong);
    if (e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED) {
      throw new DeployError('UnknownError', `cannot enrol at ${opts.address} (${grpc.status[e.code]}): ${reason}`);
    }
    throw new DeployError('UnknownError', `the coordinator refused the enrolment (${grpc.status[e.code ?? -1] ?? 'error'}): ${reason}`);
  } finally {
    client.close();
  }
  const answeredCa = createHash('sha256').update(new X509Certificate(response.caPem).raw).digest('base64url');
  if (answeredCa !== fingerprint) throw new DeployError('UnknownError', "the coordinator answered with a CA other than the token's; nothing was stored");
  return saveTlsIdentity(opts.dir, { keyPem, certPem: response.certificatePem, caPem });
}
