/**
 * The two front doors' checks: every CodeDeploy API request and every bucket request must carry a
 * SigV4 signature from a live access key whose role allows the operation. Failures are answered in
 * each API's own vocabulary, as AWS answers them:
 *
 *   failure                 CodeDeploy (JSON 1.1, HTTP 400 + __type)   bucket (S3 XML <Error>)
 *   ──────────────────────  ─────────────────────────────────────────  ───────────────────────────────────
 *   unsigned                MissingAuthenticationTokenException        403 AccessDenied
 *   malformed               IncompleteSignatureException               400 AuthorizationHeaderMalformed
 *                                                                      (presigned: AuthorizationQueryParametersError)
 *   wrong service or date   InvalidSignatureException                  400 AuthorizationHeaderMalformed / …QueryParametersError
 *   no x-amz-content-sha256 —                                          400 InvalidRequest
 *   unknown or revoked key  UnrecognizedClientException                403 InvalidAccessKeyId
 *   clock skew > 5 / 15 min InvalidSignatureException                  403 RequestTimeTooSkewed
 *   unsigned x-amz-* header InvalidSignatureException                  403 AccessDenied (headers not signed)
 *   presigned URL expired   InvalidSignatureException                  403 AccessDenied "Request has expired"
 *   wrong signature         InvalidSignatureException                  403 SignatureDoesNotMatch
 *   role may not do it      AccessDeniedException                      403 AccessDenied
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, isApiError } from '../api/api-error.js';
import type { S3OperationName } from '../api/s3-route.js';
import { S3Error } from '../api/s3-errors.js';
import type { Role } from './roles.js';
import { mayCallBucket, mayCallCodeDeploy } from './roles.js';
import { isAuthError, parseQuery, parseSignature, sha256Hex } from './sigv4-verify.js';
import type { AuthFailure, KeyLookup, SigV4Verifier } from './sigv4-verify.js';

/** Caller is who signed a request: the access key's id and its role. */
export interface Caller {
  keyId: string;
  role: Role;
}

/** CodeDeployGuard checks CodeDeploy API requests; its methods throw {@link ApiError}. */
export interface CodeDeployGuard {
  /** authenticate verifies the signature over the request and its (already read) body. */
  authenticate(req: IncomingMessage, body: Uint8Array): Promise<Caller>;
  /** authorize refuses an operation the caller's role may not call. */
  authorize(caller: Caller, operation: string): void;
}

/** BucketGuard checks bucket requests; its methods throw {@link S3Error}. */
export interface BucketGuard {
  /** authenticate verifies the signature over the request's headers (the body's hash is checked as it streams). */
  authenticate(req: IncomingMessage): Promise<Caller>;
  /** authorize refuses a bucket operation the caller's role may not make. */
  authorize(caller: Caller, operation: S3OperationName): void;
}

const CODEDEPLOY_ERRORS: Record<AuthFailure, string> = {
  missing: 'MissingAuthenticationTokenException',
  malformed: 'IncompleteSignatureException',
  wrongScope: 'InvalidSignatureException',
  missingContentSha256: 'IncompleteSignatureException',
  unknownKey: 'UnrecognizedClientException',
  skewed: 'InvalidSignatureException',
  unsignedHeaders: 'InvalidSignatureException',
  expired: 'InvalidSignatureException',
  mismatch: 'InvalidSignatureException',
};

const CODEDEPLOY_MESSAGES: Partial<Record<AuthFailure, string>> = {
  missing: 'Missing Authentication Token',
  unknownKey: 'The security token included in the request is invalid.',
  mismatch:
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
};

/** createCodeDeployGuard checks the JSON API's requests with `verifier` (service `codedeploy`). */
export function createCodeDeployGuard(verifier: SigV4Verifier): CodeDeployGuard {
  return {
    async authenticate(req, body) {
      try {
        const key = await verifier.verify(signedRequest(req), { service: 'codedeploy', bodySha256: sha256Hex(body) });
        return { keyId: key.id, role: key.role };
      } catch (err) {
        if (!isAuthError(err)) throw err;
        throw new ApiError(CODEDEPLOY_ERRORS[err.failure], CODEDEPLOY_MESSAGES[err.failure] ?? err.message);
      }
    },
    authorize(caller, operation) {
      if (!mayCallCodeDeploy(caller.role, operation)) {
        throw new ApiError(
          'AccessDeniedException',
          `The access key ${caller.keyId} (role ${caller.role}) is not authorized to perform: codedeploy:${operation}`,
        );
      }
    },
  };
}

/** createBucketGuard checks the revision bucket's requests with `verifier` (service `s3`). */
export function createBucketGuard(verifier: SigV4Verifier): BucketGuard {
  return {
    async authenticate(req) {
      try {
        const key = await verifier.verify(signedRequest(req), { service: 's3' });
        return { keyId: key.id, role: key.role };
      } catch (err) {
        if (!isAuthError(err)) throw err;
        throw bucketError(err.failure, err.message, parseQuery(req.url ?? '/').has('X-Amz-Signature') && req.headers.authorization === undefined);
      }
    },
    authorize(caller, operation) {
      if (!mayCallBucket(caller.role, operation)) throw new S3Error('AccessDenied');
    },
  };
}

function bucketError(failure: AuthFailure, message: string, presigned: boolean): S3Error {
  const malformed = presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed';
  switch (failure) {
    case 'missing':
      return new S3Error('AccessDenied');
    case 'malformed':
    case 'wrongScope':
      return new S3Error(malformed, message);
    case 'missingContentSha256':
      return new S3Error('InvalidRequest', message);
    case 'unknownKey':
      return new S3Error('InvalidAccessKeyId');
    case 'skewed':
      return new S3Error('RequestTimeTooSkewed');
    case 'unsignedHeaders':
      return new S3Error('AccessDenied', message);
    case 'expired':
      return new S3Error('AccessDenied', 'Request has expired');
    case 'mismatch':
      return new S3Error('SignatureDoesNotMatch');
    default:
      return assertNever(failure);
  }
}

/**
 * UpgradeRefusalShape is the event stream's refusal (HTTP status, `__type`, message); the same
 * shape as its UpgradeRefusal, repeated here so auth does not import the stream.
 */
export interface UpgradeRefusalShape {
  status: number;
  type: string;
  message: string;
}

/**
 * createUpgradeAuthenticator checks a WebSocket upgrade (an empty-bodied GET, header-signed or
 * presigned, service `codedeploy`) like a CodeDeploy read: any live key may watch. Undefined lets it in.
 */
export function createUpgradeAuthenticator(guard: CodeDeployGuard): (req: IncomingMessage) => Promise<UpgradeRefusalShape | undefined> {
  return async (req) => {
    try {
      await guard.authenticate(req, new Uint8Array());
      return undefined;
    } catch (err) {
      if (isApiError(err)) return { status: 403, type: err.type, message: err.message };
      throw err;
    }
  };
}

/**
 * createWatcherKeyCheck gives, for an upgrade admitted earlier, a check of whether the key that signed
 * it is still there and unrevoked: keys are managed from another process, so the event stream asks
 * again while it streams. The key is read from the request once. Any live key may watch, so a role
 * change does not matter here.
 */
export function createWatcherKeyCheck(keys: KeyLookup): (req: IncomingMessage) => () => Promise<boolean> {
  return (req) => {
    let keyId: string;
    try {
      keyId = parseSignature(req.headers, parseQuery(req.url ?? '/')).accessKeyId;
    } catch {
      return () => Promise.resolve(false); // it verified once, so this does not happen; refuse rather than stream on
    }
    return async () => {
      const key = await keys.get(keyId);
      return key !== undefined && key.revokedAt === undefined;
    };
  };
}

function signedRequest(req: IncomingMessage): { method: string; url: string; headers: IncomingMessage['headers'] } {
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
}

function assertNever(value: never): never {
  throw new Error(`unhandled auth failure ${String(value)}`);
}
