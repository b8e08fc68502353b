/**
 * Decoding of `Content-Encoding: aws-chunked` bodies, which S3 clients send when the payload is
 * streamed (`x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER`,
 * `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`). The wire format:
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<size bytes>\r\n      ... repeated ...
 *   0[;chunk-signature=<sig>]\r\n
 *   [<trailer name>:<value>\r\n ...]                           e.g. x-amz-checksum-crc32:C6T/VQ==
 *   \r\n
 *
 * Chunk signatures are not checked here (request signing is a separate concern). The decoder streams:
 * data bytes pass straight through, and only the short framing lines are buffered.
 */
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { S3Error } from './s3-errors.js';

/** MAX_FRAMING_LINE is the longest chunk header or trailer line accepted, in bytes. */
export const MAX_FRAMING_LINE = 4096;

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

/**
 * AwsChunkedDecoder is a Transform from an aws-chunked body to the payload it carries. Once it has
 * ended, `trailers` holds the trailing headers (lower-cased names) and `decodedLength` the payload size.
 */
export class AwsChunkedDecoder extends Transform {
  /** trailers are the headers after the final chunk, by lower-cased name. */
  readonly trailers = new Map<string, string>();
  /** decodedLength counts the payload bytes passed on so far. */
  decodedLength = 0;

  private state: State = 'size';
  private remaining = 0;
  private line: Buffer[] = [];
  private lineLength = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    // A body that stops right after the last trailer line (or the final 0 chunk) is accepted.
    if (this.state === 'done' || (this.state === 'trailer' && this.lineLength === 0)) {
      this.state = 'done';
      done();
      return;
    }
    done(new S3Error('IncompleteBody', 'The aws-chunked body ended in the middle of a chunk.'));
  }

  private consume(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, chunk.length - at);
        this.push(chunk.subarray(at, at + n));
        this.decodedLength += n;
        this.remaining -= n;
        at += n;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      if (this.state === 'done') {
        throw new S3Error('InvalidRequest', 'Unexpected bytes after the end of the aws-chunked body.');
      }
      const newline = chunk.indexOf(0x0a, at);
      const end = newline < 0 ? chunk.length : newline;
      this.line.push(chunk.subarray(at, end));
      this.lineLength += end - at;
      if (this.lineLength > MAX_FRAMING_LINE) {
        throw new S3Error('InvalidRequest', 'An aws-chunked framing line is too long.');
      }
      if (newline < 0) return;
      at = newline + 1;
      const text = Buffer.concat(this.line).toString('latin1');
      this.line = [];
      this.lineLength = 0;
      if (!text.endsWith('\r')) throw new S3Error('InvalidRequest', 'aws-chunked framing lines must end in CRLF.');
      this.onLine(text.slice(0, -1));
    }
  }

  private onLine(line: string): void {
    switch (this.state) {
      case 'size': {
        const size = /^([0-9a-fA-F]{1,12})(;.*)?$/.exec(line)?.[1];
        if (size === undefined) throw new S3Error('InvalidRequest', `Invalid aws-chunked chunk header: ${JSON.stringify(line.slice(0, 80))}`);
        this.remaining = parseInt(size, 16);
        this.state = this.remaining === 0 ? 'trailer' : 'data';
        return;
      }
      case 'data-end':
        if (line !== '') throw new S3Error('InvalidRequest', 'An aws-chunked chunk is longer than its declared size.');
        this.state = 'size';
        return;
      case 'trailer': {
        if (line === '') {
          this.state = 'done';
          return;
        }
        const colon = line.indexOf(':');
        if (colon <= 0) throw new S3Error('InvalidRequest', `Invalid aws-chunked trailer: ${JSON.stringify(line.slice(0, 80))}`);
        this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        return;
      }
      case 'data':
      case 'done':
        throw new Error(`aws-chunked decoder reached line parsing in state ${this.state}`);
    }
  }
}

/**
 * isAwsChunked tells from a request's headers whether its body is aws-chunked: the Content-Encoding
 * list names `aws-chunked`, or `x-amz-content-sha256` announces a STREAMING- payload.
 */
export function isAwsChunked(headers: { 'content-encoding'?: string; 'x-amz-content-sha256'?: string | string[] }): boolean {
  const encodings = (headers['content-encoding'] ?? '').split(',').map((e) => e.trim().toLowerCase());
  const sha = headers['x-amz-content-sha256'];
  return encodings.includes('aws-chunked') || (typeof sha === 'string' && sha.startsWith('STREAMING-'));
}
