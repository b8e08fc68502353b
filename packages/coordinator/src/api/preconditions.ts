/**
 * Conditional GetObject / HeadObject (If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since), evaluated as a pure function in RFC 9110's order, which is S3's too.
 */
import { normalizeEtag } from '../store/multipart-completion.js';

/** PreconditionHeaders are the four conditional request headers, as received. */
export interface PreconditionHeaders {
  'if-match'?: string;
  'if-none-match'?: string;
  'if-modified-since'?: string;
  'if-unmodified-since'?: string;
}

/** PreconditionOutcome: serve the object, answer 304 Not Modified, or 412 Precondition Failed. */
export type PreconditionOutcome = 'serve' | 'not-modified' | 'failed';

/**
 * evaluatePreconditions decides a conditional read of an object with `etag` (quoted or not) last
 * modified at `lastModified` ms. If-Match beats If-Unmodified-Since, If-None-Match beats
 * If-Modified-Since; dates compare at whole seconds and unparseable dates are ignored. Example: an
 * object of ETag "a" with `If-None-Match: "a"` → not-modified; with `If-Match: "b"` → failed.
 */
export function evaluatePreconditions(headers: PreconditionHeaders, etag: string, lastModified: number): PreconditionOutcome {
  const modifiedSecond = Math.floor(lastModified / 1000);
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, etag)) return 'failed';
  } else {
    const since = httpDateSecond(headers['if-unmodified-since']);
    if (since !== undefined && modifiedSecond > since) return 'failed';
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, etag)) return 'not-modified';
  } else {
    const since = httpDateSecond(headers['if-modified-since']);
    if (since !== undefined && modifiedSecond <= since) return 'not-modified';
  }
  return 'serve';
}

function etagListMatches(list: string, etag: string): boolean {
  if (list.trim() === '*') return true;
  const want = normalizeEtag(etag);
  return list.split(',').some((candidate) => normalizeEtag(candidate.replace(/^\s*W\//, '')) === want);
}

function httpDateSecond(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}
