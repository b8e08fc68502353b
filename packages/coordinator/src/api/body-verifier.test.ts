import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { bodyExpectations, createBodyVerifier } from './body-verifier.js';
import type { BodyExpectations } from './body-verifier.js';

const b64 = (algorithm: string, data: string): string => createHash(algorithm).update(data).digest('base64');

async function run(expect_: BodyExpectations, body: string[], trailers = new Map<string, string>()): Promise<string> {
  let out = '';
  await pipeline(Readable.from(body.map((b) => Buffer.from(b))), createBodyVerifier(expect_, () => trailers), async (s: AsyncIterable<Buffer>) => {
    for await (const c of s) out += c.toString();
  });
  return out;
}

describe('bodyExpectations', () => {
  it('reads Content-MD5, a digest x-amz-content-sha256, checksum headers, trailers and the decoded length', () => {
    const e = bodyExpectations({
      'content-md5': b64('md5', 'x'),
      'x-amz-content-sha256': 'AB'.repeat(32),
      'x-amz-checksum-crc32': ' AAAAAA== ',
      'x-amz-trailer': 'x-amz-checksum-sha256, x-amz-checksum-crc64nvme',
      'x-amz-sdk-checksum-algorithm': 'crc32',
      'x-amz-decoded-content-length': '42',
    });
    expect(e.contentMd5?.toString('base64')).toBe(b64('md5', 'x'));
    expect(e.contentSha256).toBe('ab'.repeat(32));
    expect([...e.checksums]).toEqual([['CRC32', 'AAAAAA==']]);
    expect(e.trailerChecksums).toEqual(['SHA256', 'CRC64NVME']);
    expect(e.size).toBe(42);
  });

  it('expects nothing of UNSIGNED-PAYLOAD or streaming payloads', () => {
    expect(bodyExpectations({ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })).toEqual({ checksums: new Map(), trailerChecksums: [] });
    expect(bodyExpectations({ 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' }).contentSha256).toBeUndefined();
  });

  it.each([
    [{ 'content-md5': 'short' }, 'InvalidDigest'],
    [{ 'content-md5': b64('sha1', 'x') }, 'InvalidDigest'],
    [{ 'x-amz-content-sha256': 'nonsense' }, 'InvalidArgument'],
    [{ 'x-amz-decoded-content-length': '-1' }, 'InvalidArgument'],
    [{ 'x-amz-sdk-checksum-algorithm': 'MD4' }, 'InvalidRequest'],
    [{ 'x-amz-trailer': 'x-amz-meta-foo' }, 'InvalidRequest'],
  ])('refuses %o with %s', (headers, code) => {
    expect(() => bodyExpectations(headers)).toThrow(expect.objectContaining({ code }));
  });
});

describe('createBodyVerifier', () => {
  const none: BodyExpectations = { checksums: new Map(), trailerChecksums: [] };

  it('passes bytes through unchanged when everything matches', async () => {
    const e = bodyExpectations({
      'content-md5': b64('md5', 'hello'),
      'x-amz-content-sha256': createHash('sha256').update('hello').digest('hex'),
      'x-amz-checksum-sha1': b64('sha1', 'hello'),
    });
    expect(await run(e, ['he', 'llo'])).toBe('hello');
    expect(await run(none, ['any'])).toBe('any');
  });

  it('checks trailer checksums read at the end', async () => {
    const e = { ...none, trailerChecksums: ['SHA256' as const] };
    expect(await run(e, ['abc'], new Map([['x-amz-checksum-sha256', b64('sha256', 'abc')]]))).toBe('abc');
    await expect(run(e, ['abc'], new Map([['x-amz-checksum-sha256', b64('sha256', 'abd')]]))).rejects.toMatchObject({
      code: 'BadDigest',
      message: 'The SHA256 you specified did not match the calculated checksum.',
    });
    await expect(run(e, ['abc'])).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it.each([
    ['size', { ...none, size: 4 }, 'IncompleteBody'],
    ['Content-MD5', bodyExpectations({ 'content-md5': b64('md5', 'nope') }), 'BadDigest'],
    ['x-amz-content-sha256', bodyExpectations({ 'x-amz-content-sha256': '0'.repeat(64) }), 'XAmzContentChecksumMismatch'],
    ['x-amz-checksum-crc32c', bodyExpectations({ 'x-amz-checksum-crc32c': 'AAAAAA==' }), 'BadDigest'],
  ])('fails on a %s mismatch', async (_, e, code) => {
    await expect(run(e, ['abc'])).rejects.toMatchObject({ code });
  });
});
