/**
 * The revision bucket's error vocabulary: S3's error codes, each with the HTTP status and default
 * message S3 itself uses, and the one error type the bucket API throws for an expected failure.
 */
import { DISK_FULL_MESSAGE } from '../store/disk-full.js';

/**
 * S3_ERRORS is the table of every S3 error code the bucket API can answer with: its HTTP status and
 * the message S3 sends when there is nothing more specific to say. A test keeps it complete.
 */
export const S3_ERRORS = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: { status: 400, message: 'Error parsing the X-Amz-Credential parameter.' },
  BadDigest: { status: 400, message: 'The Content-MD5 you specified did not match what we received.' },
  BucketAlreadyOwnedByYou: {
    status: 409,
    message: 'Your previous request to create the named bucket succeeded and you already own it.',
  },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  IncompleteBody: {
    status: 400,
    message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.',
  },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidPart: {
    status: 400,
    message:
      'One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part\'s entity tag.',
  },
  InvalidPartOrder: {
    status: 400,
    message: 'The list of parts was not in ascending order. The parts list must be specified in order of the part number.',
  },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidURI: { status: 400, message: "Couldn't parse the specified URI." },
  KeyTooLongError: { status: 400, message: 'Your key is too long' },
  MalformedXML: {
    status: 400,
    message: 'The XML you provided was not well-formed or did not validate against our published schema',
  },
  MaxMessageLengthExceeded: { status: 400, message: 'Your request was too big.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchUpload: {
    status: 404,
    message:
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  NotImplemented: { status: 501, message: 'A header or query you provided implies functionality that is not implemented.' },
  PreconditionFailed: { status: 412, message: 'At least one of the pre-conditions you specified did not hold' },
  // S3 itself has no bucket quotas; Ceph's RGW answers a full bucket this way (MinIO: 400 XMinioAdminBucketQuotaExceeded).
  QuotaExceeded: { status: 403, message: 'The bucket is over its storage quota.' },
  RequestTimeTooSkewed: { status: 403, message: 'The difference between the request time and the current time is too large.' },
  SignatureDoesNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  XAmzContentChecksumMismatch: {
    status: 400,
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  },
  // Amazon S3 never fills up, so it has no code for this; MinIO's, which S3 clients that know MinIO
  // recognise. 507 is retried by neither the AWS CLI nor the SDKs (they retry 500, 502, 503 and 504).
  XMinioStorageFull: { status: 507, message: DISK_FULL_MESSAGE },
} as const satisfies Record<string, { status: number; message: string }>;

/** S3ErrorCode is one of the codes in {@link S3_ERRORS}. */
export type S3ErrorCode = keyof typeof S3_ERRORS;

/**
 * S3Error is what the bucket API and its helpers throw for a failure the client caused or should
 * hear about; the HTTP boundary renders it as S3's `<Error>` document. Branch on `code`.
 */
export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;

  constructor(code: S3ErrorCode, message?: string, opts: { cause?: unknown } = {}) {
    super(message ?? S3_ERRORS[code].message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'S3Error';
    this.code = code;
    this.status = S3_ERRORS[code].status;
  }
}

/** isS3Error tells an {@link S3Error} apart from anything else thrown, by shape. */
export function isS3Error(err: unknown): err is S3Error {
  return err instanceof Error && err.name === 'S3Error' && 'code' in err && 'status' in err;
}
