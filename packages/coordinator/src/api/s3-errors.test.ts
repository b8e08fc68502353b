import { describe, expect, it } from 'vitest';
import type { BucketStoreErrorCode } from '../store/bucket-store.js';
import { isS3Error, S3_ERRORS, S3Error } from './s3-errors.js';

describe('S3_ERRORS', () => {
  it("gives each code S3's documented HTTP status", () => {
    expect(Object.fromEntries(Object.entries(S3_ERRORS).map(([code, e]) => [code, e.status]))).toEqual({
      AccessDenied: 403,
      AuthorizationHeaderMalformed: 400,
      AuthorizationQueryParametersError: 400,
      BadDigest: 400,
      BucketAlreadyOwnedByYou: 409,
      BucketNotEmpty: 409,
      EntityTooSmall: 400,
      IncompleteBody: 400,
      InternalError: 500,
      InvalidAccessKeyId: 403,
      InvalidArgument: 400,
      InvalidBucketName: 400,
      InvalidDigest: 400,
      InvalidPart: 400,
      InvalidPartOrder: 400,
      InvalidRange: 416,
      InvalidRequest: 400,
      InvalidURI: 400,
      KeyTooLongError: 400,
      MalformedXML: 400,
      MaxMessageLengthExceeded: 400,
      MethodNotAllowed: 405,
      NoSuchBucket: 404,
      NoSuchKey: 404,
      NoSuchUpload: 404,
      NotImplemented: 501,
      PreconditionFailed: 412,
      QuotaExceeded: 403,
      RequestTimeTooSkewed: 403,
      SignatureDoesNotMatch: 403,
      XAmzContentChecksumMismatch: 400,
      XMinioStorageFull: 507,
    });
  });

  it('covers every refusal the bucket store makes', () => {
    const storeCodes: Record<BucketStoreErrorCode, true> = {
      NoSuchBucket: true,
      BucketAlreadyOwnedByYou: true,
      BucketNotEmpty: true,
      NoSuchUpload: true,
      QuotaExceeded: true,
      InvalidPart: true,
      InvalidPartOrder: true,
      EntityTooSmall: true,
      MalformedXML: true,
    };
    for (const code of Object.keys(storeCodes)) expect(S3_ERRORS).toHaveProperty(code);
  });
});

describe('S3Error', () => {
  it('carries the code, status and default or given message', () => {
    const e = new S3Error('NoSuchKey');
    expect([e.code, e.status, e.message, isS3Error(e)]).toEqual(['NoSuchKey', 404, 'The specified key does not exist.', true]);
    expect(new S3Error('InvalidArgument', 'max-keys must be a number').message).toBe('max-keys must be a number');
    expect(isS3Error(new Error('plain'))).toBe(false);
  });
});
