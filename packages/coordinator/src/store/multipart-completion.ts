/**
 * The rules S3 applies when a multipart upload is completed, as pure functions: which uploaded parts
 * the client's list names, whether the list is acceptable, and the multipart ETag of the result.
 */
import { createHash } from 'node:crypto';

/** RequestedPart is one `<Part>` of a CompleteMultipartUpload request. */
export interface RequestedPart {
  partNumber: number;
  etag: string;
}

/** UploadedPart is what is known about a part already received: enough to check and assemble it. */
export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
  sha256: string;
}

/** CompletionRejection names the S3 error code a refused part list earns. */
export type CompletionRejection = 'InvalidPart' | 'InvalidPartOrder' | 'EntityTooSmall' | 'MalformedXML';

/** CompletionPlan is the outcome of {@link planCompletion}: the parts to join in order, or why not. */
export type CompletionPlan<P extends UploadedPart = UploadedPart> =
  | { ok: true; parts: P[]; etag: string; size: number }
  | { ok: false; code: CompletionRejection; message: string };

/** MIN_PART_SIZE is S3's smallest allowed part (5 MiB), except for the last part of an upload. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * planCompletion checks a CompleteMultipartUpload part list against the parts received, in S3's
 * order of checks: the list must be non-empty and strictly ascending, each part must have been
 * uploaded with the ETag given, and every part but the last must be at least `minPartSize` bytes.
 * Parts uploaded but not listed are left out of the object, as in S3.
 *
 * Worked example: parts 1 (8 MiB, etag A) and 2 (1 byte, etag B) uploaded; the list [1:A, 2:B] gives
 * size 8 MiB + 1 and ETag `"md5(bin(A) ++ bin(B))-2"`; the list [2:B, 1:A] is InvalidPartOrder; the
 * list [1:B] is InvalidPart.
 */
export function planCompletion<P extends UploadedPart>(
  requested: readonly RequestedPart[],
  uploaded: readonly P[],
  minPartSize: number = MIN_PART_SIZE,
): CompletionPlan<P> {
  if (requested.length === 0) {
    return { ok: false, code: 'MalformedXML', message: 'You must specify at least one part' };
  }
  for (let i = 1; i < requested.length; i++) {
    if (requested[i]!.partNumber <= requested[i - 1]!.partNumber) {
      return { ok: false, code: 'InvalidPartOrder', message: 'The list of parts was not in ascending order.' };
    }
  }
  const byNumber = new Map(uploaded.map((p) => [p.partNumber, p]));
  const parts: P[] = [];
  for (const want of requested) {
    const have = byNumber.get(want.partNumber);
    if (have === undefined || normalizeEtag(have.etag) !== normalizeEtag(want.etag)) {
      return {
        ok: false,
        code: 'InvalidPart',
        message: `Part ${want.partNumber} could not be found, or its ETag did not match the part's entity tag.`,
      };
    }
    parts.push(have);
  }
  const tooSmall = parts.slice(0, -1).find((p) => p.size < minPartSize);
  if (tooSmall !== undefined) {
    return {
      ok: false,
      code: 'EntityTooSmall',
      message: `Part ${tooSmall.partNumber} is ${tooSmall.size} bytes; every part but the last must be at least ${minPartSize} bytes.`,
    };
  }
  const size = parts.reduce((sum, p) => sum + p.size, 0);
  return { ok: true, parts, etag: multipartEtag(parts.map((p) => p.etag)), size };
}

/**
 * multipartEtag is S3's ETag for an object assembled from parts: the MD5 of the parts' binary MD5s
 * concatenated, then `-` and the number of parts, in quotes. Example: two parts →
 * `"<32 hex digits>-2"`.
 */
export function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash('md5');
  for (const etag of partEtags) md5.update(Buffer.from(normalizeEtag(etag), 'hex'));
  return `"${md5.digest('hex')}-${partEtags.length}"`;
}

/** normalizeEtag drops the quotes around an ETag and lowercases it, so `"AB"` and `ab` compare equal. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
}
