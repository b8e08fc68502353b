import { describe, expect, it } from 'vitest';
import { MAX_META_BYTES, TarFormatError, TarReader } from '@fleetdeploy/shared';
import type { TarHeader } from '@fleetdeploy/shared';
import { paxRecord, sh, ustar } from './test-support.js';
import type { TarEntrySpec } from './test-support.js';

interface Seen {
  path: string;
  type: string;
  size: number;
  linkpath?: string | undefined;
  mode?: number | undefined;
  body: string;
}

/** read feeds `bytes` to a TarReader in chunks of `chunk` bytes and returns what its sink saw, in order. */
function read(bytes: Buffer, chunk = bytes.length): { entries: Seen[]; events: string[] } {
  const entries: Seen[] = [];
  const events: string[] = [];
  let current: Seen | undefined;
  const reader = new TarReader({
    entry(h: TarHeader) {
      current = { path: h.path, type: h.type, size: h.size, linkpath: h.linkpath, mode: h.mode, body: '' };
      events.push(`entry ${h.path}`);
    },
    data(slice: Buffer) {
      if (current === undefined) throw new Error('data outside an entry');
      current.body += slice.toString('latin1');
      events.push(`data ${current.path}`);
    },
    endEntry() {
      if (current === undefined) throw new Error('end outside an entry');
      entries.push(current);
      events.push(`end ${current.path}`);
      current = undefined;
    },
  });
  for (let at = 0; at < bytes.length; at += Math.max(1, chunk)) reader.push(bytes.subarray(at, at + Math.max(1, chunk)));
  reader.end();
  return { entries, events };
}

const sample: TarEntrySpec[] = [
  { name: 'd/', type: '5' },
  { name: 'd/a.txt', data: 'alpha', mode: 0o4755 },
  { name: 'd/big', data: Buffer.alloc(1300, 0x61) },
  { name: 'd/empty', data: '' },
  { name: 'd/l', type: '2', linkname: 'a.txt' },
  { name: 'd/h', type: '1', linkname: 'd/a.txt' },
];

describe('TarReader', () => {
  for (const chunk of [1, 7, 511, 512, 513, 1024, 100_000]) {
    it(`delivers the same entries and bodies whatever the chunk size (${chunk} bytes)`, () => {
      const { entries } = read(ustar(sample), chunk);
      expect(entries.map((e) => [e.path, e.type, e.size, e.body.length])).toEqual([
        ['d/', 'Directory', 0, 0],
        ['d/a.txt', 'File', 5, 5],
        ['d/big', 'File', 1300, 1300],
        ['d/empty', 'File', 0, 0],
        ['d/l', 'SymbolicLink', 0, 0],
        ['d/h', 'Link', 0, 0],
      ]);
      expect(entries[1]).toMatchObject({ body: 'alpha', mode: 0o4755 });
      expect(entries[4]?.linkpath).toBe('a.txt');
    });
  }

  it('hands over each header before any byte of its body', () => {
    const { events } = read(ustar(sample), 100);
    expect(events.indexOf('entry d/big')).toBeLessThan(events.indexOf('data d/big'));
    expect(events.lastIndexOf('data d/big')).toBeLessThan(events.indexOf('end d/big'));
    expect(events.indexOf('end d/big')).toBeLessThan(events.indexOf('entry d/empty'));
  });

  it('applies pax and GNU long names and link targets to the entry that follows, not to later ones', () => {
    const long = `deep/${'n'.repeat(150)}.txt`;
    const bytes = ustar([
      { name: 'PaxHeader', type: 'x', data: paxRecord('path', long) },
      { name: 'short', data: 'x' },
      { name: 'after', data: 'y' },
      { name: '././@LongLink', type: 'L', data: `gnu/${'g'.repeat(120)}\0` },
      { name: 'trunc', data: 'z' },
      { name: '././@LongLink', type: 'K', data: `target/${'t'.repeat(120)}\0` },
      { name: 'link', type: '2', linkname: 'short-target' },
    ]);
    const { entries } = read(bytes, 300);
    expect(entries.map((e) => e.path)).toEqual([long, 'after', `gnu/${'g'.repeat(120)}`, 'link']);
    expect(entries[3]?.linkpath).toBe(`target/${'t'.repeat(120)}`);
  });

  it('applies a pax global header to every later entry', () => {
    const bytes = ustar([
      { name: 'global', type: 'g', data: paxRecord('mtime', '1234567890') },
      { name: 'a', data: '1' },
      { name: 'b', data: '2' },
    ]);
    const mtimes: number[] = [];
    const reader = new TarReader({ entry: (h) => mtimes.push(h.mtime?.getTime() ?? 0), data: () => undefined, endEntry: () => undefined });
    reader.push(bytes);
    reader.end();
    expect(mtimes).toEqual([1234567890_000, 1234567890_000]);
  });

  it('never lets a pax size meant for a file resize the GNU long-name record between them', () => {
    // The pax record says the next file is 3 bytes; the L record in between keeps its own size.
    const bytes = ustar([
      { name: 'PaxHeader', type: 'x', data: paxRecord('size', '3') },
      { name: '././@LongLink', type: 'L', data: 'named-by-gnu\0' },
      { name: 'f', data: 'abc' },
    ]);
    expect(read(bytes, 64).entries.map((e) => [e.path, e.body])).toEqual([['named-by-gnu', 'abc']]);
  });

  it('reads what GNU tar writes in pax format, long names included', () => {
    const bytes = Buffer.from(
      sh('sh', ['-c', `d=$(mktemp -d) && mkdir -p "$d/src/${'p'.repeat(120)}" && printf hi > "$d/src/${'p'.repeat(120)}/${'f'.repeat(120)}" && tar --format=pax -C "$d/src" -cf - . | base64 -w0; rm -rf "$d"`]),
      'base64',
    );
    const { entries } = read(bytes, 4096);
    const file = entries.find((e) => e.type === 'File');
    expect(file).toMatchObject({ path: `./${'p'.repeat(120)}/${'f'.repeat(120)}`, body: 'hi' });
  });

  it('ignores whatever follows the two zero blocks that end an archive', () => {
    const bytes = Buffer.concat([ustar([{ name: 'a', data: 'x' }]), Buffer.from('trailing garbage')]);
    expect(read(bytes).entries.map((e) => e.path)).toEqual(['a']);
  });

  it('says when the end marker has been read, so a caller can stop feeding it', () => {
    const bytes = ustar([{ name: 'a', data: 'x' }]);
    const reader = new TarReader({ entry() {}, data() {}, endEntry() {} });
    reader.push(bytes.subarray(0, bytes.length - 512));
    expect(reader.atEnd).toBe(false); // one zero block may still be followed by a header
    reader.push(bytes.subarray(bytes.length - 512));
    expect(reader.atEnd).toBe(true);
  });

  it('ignores the rest once its sink stops it, even bytes that are no tar at all', () => {
    const seen: string[] = [];
    const reader: TarReader = new TarReader({
      entry: (h: TarHeader) => seen.push(h.path),
      data() {},
      endEntry: () => reader.stop(),
    });
    reader.push(Buffer.concat([ustar([{ name: 'a', data: 'x' }, { name: 'b', data: 'y' }]), Buffer.alloc(512, 0x41)]));
    reader.push(Buffer.from('more garbage'));
    expect(seen).toEqual(['a']);
  });

  it('accepts an archive of nothing but its end marker', () => {
    expect(read(Buffer.alloc(1024)).entries).toEqual([]);
  });

  it('refuses a header whose checksum is wrong, naming its offset', () => {
    const bytes = ustar([{ name: 'a', data: 'x' }, { name: 'b', data: 'y' }]);
    bytes[1024 + 3] = 0x5a; // a byte of the second header's name
    expect(() => read(bytes)).toThrow(/invalid tar header at byte 1024 \(checksum failure\)/);
  });

  it('refuses a stream that ends inside an entry, or before any header', () => {
    const bytes = ustar([{ name: 'a', data: Buffer.alloc(2000, 1) }]);
    expect(() => read(bytes.subarray(0, 1500))).toThrow(/^Truncated input/);
    expect(() => read(bytes.subarray(0, 300))).toThrow(/^Truncated input/);
    expect(() => read(Buffer.alloc(0))).toThrow(/^Unrecognized archive format/);
  });

  it('refuses a link without a target and a meta record past the limit', () => {
    expect(() => read(ustar([{ name: 'l', type: '2' }]))).toThrow(/the link "l" has no target/);
    const huge = ustar([{ name: 'PaxHeader', type: 'x', size: MAX_META_BYTES + 1 }]);
    expect(() => read(huge)).toThrow(TarFormatError);
    expect(() => read(huge)).toThrow(/ExtendedHeader record at byte 0 is larger than 1048576 bytes/);
  });
});
