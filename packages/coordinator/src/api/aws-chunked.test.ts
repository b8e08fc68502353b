import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder, isAwsChunked, MAX_FRAMING_LINE } from './aws-chunked.js';

/** decode feeds `pieces` (split anywhere, as TCP would) through a decoder and collects the payload. */
async function decode(pieces: (string | Buffer)[]): Promise<{ payload: string; decoder: AwsChunkedDecoder }> {
  const decoder = new AwsChunkedDecoder();
  let payload = '';
  await pipeline(Readable.from(pieces.map((p) => Buffer.from(p))), decoder, async (out: AsyncIterable<Buffer>) => {
    for await (const chunk of out) payload += chunk.toString('latin1');
  });
  return { payload, decoder };
}

const body = '5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n';

describe('AwsChunkedDecoder', () => {
  it('passes the payload through and collects the trailers', async () => {
    const { payload, decoder } = await decode([body]);
    expect(payload).toBe('hello world');
    expect(decoder.decodedLength).toBe(11);
    expect([...decoder.trailers]).toEqual([['x-amz-checksum-crc32', 'DUoRhQ==']]);
  });

  it('gives the same result however the bytes are split', async () => {
    for (let cut = 1; cut < body.length; cut++) {
      const { payload, decoder } = await decode([body.slice(0, cut), body.slice(cut)]);
      expect(payload).toBe('hello world');
      expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
    }
    expect((await decode(body.split(''))).payload).toBe('hello world');
  });

  it('ignores chunk signatures and accepts a body without trailers, or ending right after the last chunk', async () => {
    const sig = `;chunk-signature=${'a'.repeat(64)}`;
    expect((await decode([`3${sig}\r\nabc\r\n0${sig}\r\n\r\n`])).payload).toBe('abc');
    expect((await decode(['3\r\nabc\r\n0\r\n'])).payload).toBe('abc');
    expect((await decode(['0\r\n\r\n'])).payload).toBe('');
  });

  it.each([
    ['a truncated chunk', '5\r\nhel', 'IncompleteBody'],
    ['a missing final chunk', '5\r\nhello\r\n', 'IncompleteBody'],
    ['a size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n', 'InvalidRequest'],
    ['a chunk longer than its size', '2\r\nhello\r\n0\r\n\r\n', 'InvalidRequest'],
    ['bare LF line ends', '5\nhello\n0\n\n', 'InvalidRequest'],
    ['a trailer without a colon', '0\r\nbogus\r\n\r\n', 'InvalidRequest'],
    ['bytes after the end', '0\r\n\r\nextra', 'InvalidRequest'],
    ['an endless framing line', 'f'.repeat(MAX_FRAMING_LINE + 1), 'InvalidRequest'],
  ])('refuses %s (%s)', async (_, input, code) => {
    await expect(decode([input])).rejects.toMatchObject({ code });
  });
});

describe('isAwsChunked', () => {
  it('looks at Content-Encoding and x-amz-content-sha256', () => {
    expect(isAwsChunked({ 'content-encoding': 'aws-chunked' })).toBe(true);
    expect(isAwsChunked({ 'content-encoding': 'gzip, aws-chunked' })).toBe(true);
    expect(isAwsChunked({ 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' })).toBe(true);
    expect(isAwsChunked({ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })).toBe(false);
    expect(isAwsChunked({})).toBe(false);
  });
});
