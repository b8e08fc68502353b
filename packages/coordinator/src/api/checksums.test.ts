import { describe, expect, it } from 'vitest';
import { CHECKSUM_ALGORITHMS, checksumHeader, createChecksum, parseChecksumAlgorithm } from './checksums.js';

const hexOf = (algorithm: (typeof CHECKSUM_ALGORITHMS)[number], pieces: string[]): string => {
  const sum = createChecksum(algorithm);
  for (const p of pieces) sum.update(Buffer.from(p));
  return sum.digest().toString('hex');
};

describe('createChecksum', () => {
  it.each([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
    ['SHA1', 'f7c3bc1d808e04732adf679965ccc34ca7ae3441'],
    ['SHA256', '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225'],
  ] as const)('%s of "123456789" is the standard check value, however it is fed', (algorithm, expected) => {
    expect(hexOf(algorithm, ['123456789'])).toBe(expected);
    expect(hexOf(algorithm, ['1', '2345', '', '6789'])).toBe(expected);
  });

  it('renders a digest as the base64 x-amz-checksum-crc32 carries', () => {
    const sum = createChecksum('CRC32');
    sum.update(Buffer.from('hello world'));
    expect(sum.digest().toString('base64')).toBe('DUoRhQ==');
  });
});

describe('checksum names', () => {
  it('maps algorithms to header names and back, any case', () => {
    expect(CHECKSUM_ALGORITHMS.map(checksumHeader)).toEqual([
      'x-amz-checksum-crc32',
      'x-amz-checksum-crc32c',
      'x-amz-checksum-crc64nvme',
      'x-amz-checksum-sha1',
      'x-amz-checksum-sha256',
    ]);
    expect(parseChecksumAlgorithm('crc64nvme')).toBe('CRC64NVME');
    expect(parseChecksumAlgorithm('MD5')).toBeUndefined();
  });
});
