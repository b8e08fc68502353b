import { describe, expect, it } from 'vitest';
import { ZipInflater } from './zip-inflater.js';
import type { InflateJob } from './zip-inflater.js';

/** Jobs the thread never reads: the thread below dies before it gets to them. */
const jobs: InflateJob[] = Array.from({ length: 10 }, (_, i) => ({ headerOffset: i * 100, compressedSize: 50, size: 60, crc: 0, method: 8 }));

describe('ZipInflater', () => {
  it.each([true, false])('inflates every chunk here when its thread cannot start (sharing work: %s)', async (shareWork) => {
    // A read window larger than a Buffer can be makes the thread throw as it starts.
    const inflater = new ZipInflater({ fd: -1, fileBytes: 1000, windowBytes: 2 ** 53, batchBytes: 200, batches: 2, shareWork });
    const done: number[] = [];
    try {
      inflater.submit(jobs);
      const failure = await inflater.drain({ own: (job) => void done.push(job), write: () => expect.fail('the thread sent data'), refused: (job) => new Error(`job ${job}`) }, jobs.length);
      expect(failure).toBeUndefined();
    } finally {
      await inflater.close();
    }
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
