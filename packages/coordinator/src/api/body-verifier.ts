/**
 * What a request says its body should be (Content-MD5, a SHA-256 in x-amz-content-sha256, the
 * x-amz-checksum-* headers or trailers, x-amz-decoded-content-length) and a pass-through stream that
 * checks the body against it as it flows, failing at the end with S3's error when something differs.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { CHECKSUM_ALGORITHMS, checksumHeader, createChecksum, parseChecksumAlgorithm } from './checksums.js';
import type { Checksum, ChecksumAlgorithm } from './checksums.js';
import { S3Error } from './s3-errors.js';

/** BodyExpectations is what the headers promise about the (decoded) body; see {@link bodyExpectations}. */
export interface BodyExpectations {
  /** contentMd5 is the binary MD5 from Content-MD5. */
  contentMd5?: Buffer;
  /** contentSha256 is the hex SHA-256 from x-amz-content-sha256, when it is a digest. */
  contentSha256?: string;
  /** checksums are x-amz-checksum-* header values (base64), by algorithm. */
  checksums: Map<ChecksumAlgorithm, string>;
  /** trailerChecksums are the algorithms whose values x-amz-trailer says arrive after the body. */
  trailerChecksums: ChecksumAlgorithm[];
  /** size is x-amz-decoded-content-length, the payload size of an aws-chunked body. */
  size?: number;
}

const SPECIAL_PAYLOAD_HASHES = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
]);

/**
 * bodyExpectations reads the body promises out of request headers, refusing malformed ones:
 * InvalidDigest for a Content-MD5 that is not 16 bytes of base64, InvalidArgument for an unknown
 * x-amz-content-sha256 or a bad x-amz-decoded-content-length, InvalidRequest for an unknown
 * checksum algorithm.
 */
export function bodyExpectations(headers: IncomingHttpHeaders): BodyExpectations {
  const out: BodyExpectations = { checksums: new Map(), trailerChecksums: [] };
  const md5 = single(headers, 'content-md5');
  if (md5 !== undefined) {
    const bytes = Buffer.from(md5, 'base64');
    if (bytes.length !== 16 || bytes.toString('base64') !== md5.trim()) throw new S3Error('InvalidDigest');
    out.contentMd5 = bytes;
  }
  const sha = single(headers, 'x-amz-content-sha256');
  if (sha !== undefined) {
    if (/^[0-9a-fA-F]{64}$/.test(sha)) out.contentSha256 = sha.toLowerCase();
    else if (!SPECIAL_PAYLOAD_HASHES.has(sha)) {
      throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING- value or a SHA-256 hex digest.');
    }
  }
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = single(headers, checksumHeader(algorithm));
    if (value !== undefined) out.checksums.set(algorithm, value.trim());
  }
  const declared = single(headers, 'x-amz-sdk-checksum-algorithm');
  if (declared !== undefined && parseChecksumAlgorithm(declared) === undefined) {
    throw new S3Error('InvalidRequest', `Checksum algorithm ${JSON.stringify(declared)} is not supported.`);
  }
  for (const name of (single(headers, 'x-amz-trailer') ?? '').split(',')) {
    const trimmed = name.trim().toLowerCase();
    if (trimmed === '') continue;
    const algorithm = trimmed.startsWith('x-amz-checksum-') ? parseChecksumAlgorithm(trimmed.slice('x-amz-checksum-'.length)) : undefined;
    if (algorithm === undefined) throw new S3Error('InvalidRequest', `Unsupported trailer ${JSON.stringify(trimmed)}.`);
    out.trailerChecksums.push(algorithm);
  }
  const decoded = single(headers, 'x-amz-decoded-content-length');
  if (decoded !== undefined) {
    if (!/^\d{1,15}$/.test(decoded.trim())) throw new S3Error('InvalidArgument', 'x-amz-decoded-content-length must be a number.');
    out.size = Number(decoded);
  }
  return out;
}

/**
 * createBodyVerifier passes the body through unchanged while hashing what {@link BodyExpectations}
 * asks for, and fails the stream at its end on a difference: IncompleteBody (size), BadDigest
 * (Content-MD5 or a checksum), XAmzContentChecksumMismatch (x-amz-content-sha256), InvalidRequest
 * (a declared trailer that never came). `trailers` is read only at the end, after an aws-chunked
 * decoder upstream has seen them.
 */
export function createBodyVerifier(expect: BodyExpectations, trailers: () => ReadonlyMap<string, string> = () => new Map()): Transform {
  const md5 = expect.contentMd5 !== undefined ? createHash('md5') : undefined;
  const sha = expect.contentSha256 !== undefined ? createHash('sha256') : undefined;
  const sums = new Map<ChecksumAlgorithm, Checksum>();
  for (const algorithm of [...expect.checksums.keys(), ...expect.trailerChecksums]) sums.set(algorithm, createChecksum(algorithm));
  let size = 0;

  function verdict(): S3Error | undefined {
    if (expect.size !== undefined && size !== expect.size) {
      return new S3Error('IncompleteBody', `The body carried ${size} bytes; x-amz-decoded-content-length said ${expect.size}.`);
    }
    if (md5 !== undefined && !md5.digest().equals(expect.contentMd5!)) return new S3Error('BadDigest');
    if (sha !== undefined && sha.digest('hex') !== expect.contentSha256) return new S3Error('XAmzContentChecksumMismatch');
    const trailing = trailers();
    for (const [algorithm, sum] of sums) {
      const wanted = expect.checksums.get(algorithm) ?? trailing.get(checksumHeader(algorithm));
      if (wanted === undefined) {
        return new S3Error('InvalidRequest', `The body did not end with the declared trailer ${checksumHeader(algorithm)}.`);
      }
      if (sum.digest().toString('base64') !== wanted) {
        return new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
      }
    }
    return undefined;
  }

  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
      size += chunk.length;
      md5?.update(chunk);
      sha?.update(chunk);
      for (const sum of sums.values()) sum.update(chunk);
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      done(verdict());
    },
  });
}

function single(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
