/**
 * A request's payload as one stream: detached from the socket (so failing it never kills the
 * connection before the error response is written), aws-chunked framing removed when present, and
 * checked against the request's digests and checksums as it flows.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { AwsChunkedDecoder, isAwsChunked } from './aws-chunked.js';
import { bodyExpectations, createBodyVerifier } from './body-verifier.js';
import { S3Error } from './s3-errors.js';

/** RequestAbortedError is what the body stream fails with when the client goes away mid-body. */
export class RequestAbortedError extends Error {
  constructor() {
    super('the client closed the connection before the request body ended');
    this.name = 'RequestAborted';
  }
}

/** isRequestAborted tells a {@link RequestAbortedError} apart from anything else thrown, by shape. */
export function isRequestAborted(err: unknown): boolean {
  return err instanceof Error && err.name === 'RequestAborted';
}

/**
 * openRequestBody returns the request's decoded, verified payload. It throws at once (before reading
 * anything) for malformed digest headers; the stream itself fails with S3Error for framing or digest
 * problems and with {@link RequestAbortedError} when the client disconnects. Whoever consumes it
 * must call {@link drainRequest} if it fails, so the rest of the request is read and discarded.
 */
export function openRequestBody(req: IncomingMessage): Readable {
  const expect = bodyExpectations(req.headers);
  const source = new PassThrough();
  req.pipe(source);
  req.once('error', () => source.destroy(new RequestAbortedError()));
  req.once('close', () => {
    if (!req.complete) source.destroy(new RequestAbortedError());
  });
  const done = (): void => undefined; // errors reach the consumer through the last stream
  if (!isAwsChunked(req.headers)) return pipeline(source, createBodyVerifier(expect), done);
  const decoder = new AwsChunkedDecoder();
  return pipeline(source, decoder, createBodyVerifier(expect, () => decoder.trailers), done);
}

/**
 * drainRequest reads and discards what is left of a request whose body will not be used, so the
 * connection stays usable and the client sees the response instead of a reset.
 */
export function drainRequest(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  req.unpipe();
  req.resume();
}

/**
 * readBodyText collects a small body (an XML request document) as UTF-8, failing with
 * MaxMessageLengthExceeded past `limit` bytes.
 */
export async function readBodyText(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new S3Error('MaxMessageLengthExceeded', `The request body is larger than ${limit} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
