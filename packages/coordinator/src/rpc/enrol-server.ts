/**
 * The enrolment port: gRPC over TLS with the coordinator's server certificate and no client
 * certificate (an enrolling agent has none yet), serving only EnrolmentService.Enrol. The agents'
 * stream port next to it demands a client certificate in the handshake.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { loadAgentProtocol } from '@fleetdeploy/protocol';
import type { CertificateResponse, EnrolRequest__Output } from '@fleetdeploy/protocol';
import type { ServerIdentity } from '../ca/authority.js';
import type { Enrolment, EnrolmentErrorCode, IssuedIdentity } from '../ca/enrolment.js';
import { EnrolmentError } from '../ca/enrolment.js';
import { shutdownGrpcServer } from './grpc-shutdown.js';

/** EnrolServer is the running enrolment service. */
export interface EnrolServer {
  listen(host: string, port: number): Promise<number>;
  close(): Promise<void>;
}

/** enrolmentStatus is the gRPC status of each refusal: bad input, bad credentials, wrong identity, wrong CA. */
export function enrolmentStatus(code: EnrolmentErrorCode): grpc.status {
  switch (code) {
    case 'TOKEN_MALFORMED':
    case 'CSR_INVALID':
      return grpc.status.INVALID_ARGUMENT;
    case 'TOKEN_UNKNOWN':
    case 'TOKEN_USED':
    case 'TOKEN_EXPIRED':
    case 'CERTIFICATE_UNKNOWN':
    case 'CERTIFICATE_REVOKED':
    case 'CERTIFICATE_EXPIRED':
      return grpc.status.UNAUTHENTICATED;
    case 'CERTIFICATE_MISMATCH':
      return grpc.status.PERMISSION_DENIED;
    case 'TOKEN_OTHER_CA':
      return grpc.status.FAILED_PRECONDITION;
    case 'INSTANCE_NOT_REGISTERED':
      return grpc.status.NOT_FOUND;
    default:
      return assertNever(code);
  }
}

/** certificateResponse is the proto shape of an issued certificate. */
export function certificateResponse(issued: IssuedIdentity): CertificateResponse {
  return { certificatePem: issued.certificatePem, caPem: issued.caPem, instanceName: issued.instanceName };
}

/** replyWith runs an issuing call and answers the unary callback with its certificate or its refusal. */
export function replyWith(work: Promise<IssuedIdentity>, callback: grpc.sendUnaryData<CertificateResponse>, log: Logger, what: string): void {
  work.then(
    (issued) => {
      log.info({ instance: issued.instanceName, serial: issued.serial, notAfter: new Date(issued.notAfter).toISOString() }, what);
      callback(null, certificateResponse(issued));
    },
    (err: unknown) => {
      if (err instanceof EnrolmentError) {
        log.warn({ code: err.code, reason: err.message }, `${what} refused`);
        callback({ code: enrolmentStatus(err.code), details: err.message });
        return;
      }
      log.error({ err }, `${what} failed`);
      callback({ code: grpc.status.INTERNAL, details: 'the coordinator could not issue the certificate' });
    },
  );
}

/** createEnrolServer builds the service over the enrolment use-cases and the server's certificate. */
export function createEnrolServer(deps: { enrolment: Enrolment; identity: ServerIdentity; log: Logger }): EnrolServer {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 });
  server.addService(loadAgentProtocol().EnrolmentService.service, {
    Enrol: (call: grpc.ServerUnaryCall<EnrolRequest__Output, CertificateResponse>, callback: grpc.sendUnaryData<CertificateResponse>) =>
      replyWith(deps.enrolment.enrol(call.request.token, call.request.csrPem), callback, deps.log, 'agent enrolled'),
  });
  return {
    listen(host, port) {
      const credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(deps.identity.chainPem), private_key: Buffer.from(deps.identity.keyPem) }], false);
      return new Promise((resolve, reject) => server.bindAsync(`${host}:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound))));
    },
    close: () => shutdownGrpcServer(server),
  };
}

function assertNever(value: never): never {
  throw new Error(`unexpected enrolment error code ${String(value)}`);
}
