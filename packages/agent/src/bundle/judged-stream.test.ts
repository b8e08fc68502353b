import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import type { ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { BundleIndex } from './bundle-index.js';
import { defaultBundleLimits } from './limits.js';
import { JudgedStream } from './judged-stream.js';
import { paxRecord, ustar } from './test-support.js';

/**
 * Streams `archive` in chunks of `chunkBytes` through a JudgedStream whose parser admits each entry
 * into a bundle index, and returns how many bytes the writer received and the refusal, if any.
 */
async function forwardThrough(archive: Buffer, chunkBytes: number): Promise<{ forwarded: number; refusal?: string }> {
  const index = new BundleIndex('tar', defaultBundleLimits, archive.length);
  const parser = new tar.Parser({ strict: true, brotli: false, zstd: false });
  let refusal: string | undefined;
  parser.on('entry', (entry: ReadEntry) => {
    try {
      index.admit({ rawPath: entry.path, kind: entry.type === 'FIFO' ? 'device' : entry.type === 'Directory' ? 'dir' : 'file', size: entry.size, typeName: entry.type });
    } catch (err) {
      refusal ??= (err as Error).message;
    }
    entry.resume();
  });
  let forwarded = 0;
  const writer = new Writable({
    write(chunk: Buffer, _enc, done) {
      forwarded += chunk.length;
      done();
    },
  });
  const chunks: Buffer[] = [];
  for (let at = 0; at < archive.length; at += chunkBytes) chunks.push(archive.subarray(at, at + chunkBytes));
  await pipeline(Readable.from(chunks), new JudgedStream(parser, writer, () => refusal !== undefined));
  return { forwarded, ...(refusal === undefined ? {} : { refusal }) };
}

describe('JudgedStream', () => {
  const evil = ustar([
    { name: 'a.txt', data: 'a'.repeat(700) },
    { name: 'PaxHeader', type: 'x', data: paxRecord('path', 'long/name.txt') },
    { name: 'placeholder', data: 'b' },
    { name: 'fifo', type: '6' },
    { name: 'after.txt', data: 'c' },
  ]);
  // a.txt: header + 2 data blocks; the pax header: 2 blocks; long/name.txt: 2 blocks; then fifo's header.
  const fifoHeaderEnd = 512 * 7 + 512;

  for (const chunkBytes of [1, 100, 512, 1000, 4096, evil.length]) {
    it(`never passes on a complete header the index refused (chunks of ${chunkBytes} bytes)`, async () => {
      const { forwarded, refusal } = await forwardThrough(evil, chunkBytes);
      expect(refusal).toMatch(/bundle entry "fifo": FIFO entries are not allowed/);
      expect(forwarded).toBeLessThan(fifoHeaderEnd);
    });
  }

  it('passes on every byte of an accepted archive', async () => {
    const good = ustar([{ name: 'd', type: '5' }, { name: 'd/a.txt', data: 'x'.repeat(5000) }]);
    for (const chunkBytes of [1, 333, good.length]) {
      expect(await forwardThrough(good, chunkBytes)).toEqual({ forwarded: good.length });
    }
  });
});
