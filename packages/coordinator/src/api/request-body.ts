/**
 * A request's payload as one stream: detached from the socket (so failing it never kills the
 * connection before the error response is written), aws-chunked framing removed when present, and
 * checked against the request's digests and checksums as it flows.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * declaredBodySize is the payload size a request announces: x-amz-decoded-content-length for an
 * aws-chunked body, else Content-Length; undefined when it announces none (or nonsense, which the
 * body's own checks refuse).
 */
export function declaredBodySize(headers: IncomingMessage['headers']): number | undefined {
  const raw = isAwsChunked(headers) ? headers['x-amz-decoded-content-length'] : headers['content-length'];
  const text = Array.isArray(raw) ? raw[0] : raw;
  return text !== undefined && /^\d{1,15}$/.test(text.trim()) ? Number(text) : undefined;
}

/**
 * DRAIN_LIMIT_BYTES is how much of a refused request's body is read and thrown away: enough for a
 * client that sends its whole body before reading the answer to see it, and no more, so an unsigned
 * or oversized upload costs the coordinator a bounded amount however much the client sends.
 */
export const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/**
 * drainRequest deals with what is left of a request whose body will not be used; call it before the
 * refusal is written. A short rest is read and discarded, so the connection stays usable. A body
 * declared longer than {@link DRAIN_LIMIT_BYTES} gets `Connection: close` on the answer, and once the
 * limit has been read (whatever the body declared) the connection is closed after the answer, as S3 does.
 */
export function drainRequest(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.destroyed) return;
  if (awaitingContinue.has(req)) {
    // The client waits for 100 Continue before it sends the body, and the refusal comes instead: it
    // sends nothing, so nothing is read; the connection cannot carry another request after it.
    if (!res.headersSent) res.setHeader('connection', 'close');
    return;
  }
  req.unpipe();
  const declared = Number(req.headers['content-length']);
  // Node ends a `Connection: close` exchange as soon as the answer is out, which a client still
  // sending a short body of unknown length would see as a broken pipe; so only a long declared one gets it.
  if (declared > DRAIN_LIMIT_BYTES && !res.headersSent) res.setHeader('connection', 'close');
  let discarded = 0;
  const count = (chunk: Buffer): void => {
    discarded += chunk.length;
    if (discarded <= DRAIN_LIMIT_BYTES) return;
    req.off('data', count);
    req.pause();
    if (res.writableFinished) req.socket.destroy();
    else res.once('finish', () => req.socket.destroy());
  };
  req.on('data', count);
  req.resume();
}

/** awaitingContinue holds the requests that asked `Expect: 100-continue` and were not sent it yet. */
const awaitingContinue = new WeakSet<IncomingMessage>();

/**
 * deferContinue answers `Expect: 100-continue` only when the request's body is first read, not on
 * arrival as Node does by default: a request refused on its headers (signature, role, quota) is
 * answered before the client sends its body. Over TLS this matters most: a client that is still
 * sending when the coordinator stops reading and closes (drainRequest's limit) sees a TLS error
 * instead of the answer.
 */
export function deferContinue(req: IncomingMessage, res: ServerResponse): void {
  awaitingContinue.add(req);
  const read = req._read.bind(req);
  req._read = (size: number): void => {
    if (awaitingContinue.delete(req) && !res.headersSent) res.writeContinue();
    read(size);
  };
}

/**
 * readLimitedBody collects a request's body up to `limit` bytes; past it, it rejects with `tooLarge()`
 * and leaves the request unread and undestroyed, for {@link drainRequest} to finish with.
 */
export function readLimitedBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        stop();
        req.pause();
        return reject(tooLarge());
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      stop();
      reject(err);
    };
    const stop = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
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
