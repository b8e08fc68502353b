/**
 * The body checksums S3 clients send (`x-amz-checksum-<algorithm>`, base64 of the big-endian digest):
 * CRC32, CRC32C, CRC64/NVME, SHA-1 and SHA-256, each as an incremental hasher, so a body is checked
 * while it streams. CRC32 comes from zlib; CRC32C and CRC64/NVME are table-driven here.
 */
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';

/** CHECKSUM_ALGORITHMS are the algorithms S3 accepts, by the names clients use in headers. */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;

/** ChecksumAlgorithm is one of {@link CHECKSUM_ALGORITHMS}. */
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Checksum is an incremental hasher: feed it with `update`, read the digest once with `digest`. */
export interface Checksum {
  update(data: Uint8Array): void;
  digest(): Buffer;
}

/** checksumHeader is the request header (and trailer) name that carries `algorithm`'s value. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** parseChecksumAlgorithm maps a header's algorithm name (any case) to the algorithm, or undefined. */
export function parseChecksumAlgorithm(name: string): ChecksumAlgorithm | undefined {
  const upper = name.trim().toUpperCase();
  return CHECKSUM_ALGORITHMS.find((a) => a === upper);
}

/**
 * createChecksum starts a hasher for `algorithm`. Check values for the ASCII string "123456789":
 * CRC32 cbf43926, CRC32C e3069283, CRC64NVME ae8b14860a799888.
 */
export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'CRC32': {
      let crc = 0;
      return {
        update: (data) => {
          crc = zlib.crc32(data, crc);
        },
        digest: () => uint32(crc),
      };
    }
    case 'CRC32C': {
      let crc = 0xffffffff;
      return {
        update: (data) => {
          for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
        },
        digest: () => uint32(~crc),
      };
    }
    case 'CRC64NVME': {
      let hi = 0xffffffff;
      let lo = 0xffffffff;
      return {
        update: (data) => {
          for (const byte of data) {
            const i = (lo ^ byte) & 0xff;
            lo = CRC64_LO[i]! ^ ((lo >>> 8) | (hi << 24));
            hi = CRC64_HI[i]! ^ (hi >>> 8);
          }
        },
        digest: () => Buffer.concat([uint32(~hi), uint32(~lo)]),
      };
    }
    case 'SHA1':
    case 'SHA256': {
      const hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (data) => hash.update(data), digest: () => hash.digest() };
    }
  }
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

/** Reflected CRC32C (Castagnoli) table, polynomial 0x82f63b78. */
const CRC32C_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** Reflected CRC64/NVME table, polynomial 0x9a6c9329ac4bc9b5, split into 32-bit halves. */
const CRC64_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = BigInt(n);
  for (let k = 0; k < 8; k++) c = c & 1n ? 0x9a6c9329ac4bc9b5n ^ (c >> 1n) : c >> 1n;
  return c;
});
const CRC64_HI = Uint32Array.from(CRC64_TABLE, (c) => Number(c >> 32n));
const CRC64_LO = Uint32Array.from(CRC64_TABLE, (c) => Number(c & 0xffffffffn));
