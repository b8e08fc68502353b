import { describe, expect, it } from 'vitest';
import { createSmallBlobCache } from './small-blob-cache.js';

function reader(blobs: Record<string, string>) {
  const reads: string[] = [];
  return {
    reads,
    read: async (sha: string) => {
      reads.push(sha);
      const text = blobs[sha];
      if (text === undefined) throw new Error(`ENOENT: ${sha}`);
      return Buffer.from(text);
    },
  };
}

describe('createSmallBlobCache', () => {
  it('reads a small blob once, also for downloads that ask at the same time', async () => {
    const r = reader({ a: 'aaaa' });
    const cache = createSmallBlobCache({ read: r.read, maxBlobBytes: 10, maxTotalBytes: 100 });
    const [one, two] = await Promise.all([cache.get('a', 4), cache.get('a', 4)]);
    expect(one!.toString()).toBe('aaaa');
    expect(two!.toString()).toBe('aaaa');
    expect((await cache.get('a', 4))!.toString()).toBe('aaaa');
    expect(r.reads).toEqual(['a']);
    expect(cache.bytes()).toBe(4);
  });

  it('leaves a blob larger than maxBlobBytes to the caller', () => {
    const r = reader({ big: 'x'.repeat(11) });
    const cache = createSmallBlobCache({ read: r.read, maxBlobBytes: 10, maxTotalBytes: 100 });
    expect(cache.get('big', 11)).toBeUndefined();
    expect(r.reads).toEqual([]);
  });

  it('lets the least recently used blobs go once the total passes its bound', async () => {
    const r = reader({ a: 'aaaa', b: 'bbbb', c: 'cccc' });
    const cache = createSmallBlobCache({ read: r.read, maxBlobBytes: 10, maxTotalBytes: 8 });
    await cache.get('a', 4);
    await cache.get('b', 4);
    await cache.get('a', 4); // a is now the most recently used
    await cache.get('c', 4); // b leaves
    expect(cache.bytes()).toBe(8);
    await cache.get('a', 4);
    await cache.get('b', 4);
    expect(r.reads).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not keep a failed read: the next download reads again', async () => {
    const blobs: Record<string, string> = {};
    const r = reader(blobs);
    const cache = createSmallBlobCache({ read: r.read, maxBlobBytes: 10, maxTotalBytes: 100 });
    await expect(cache.get('a', 4)).rejects.toThrow('ENOENT: a');
    expect(cache.bytes()).toBe(0);
    blobs.a = 'aaaa';
    expect((await cache.get('a', 4))!.toString()).toBe('aaaa');
    expect(r.reads).toEqual(['a', 'a']);
  });
});
