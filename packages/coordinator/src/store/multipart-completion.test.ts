import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, multipartEtag, normalizeEtag, planCompletion } from './multipart-completion.js';
import type { UploadedPart } from './multipart-completion.js';

const MiB = 1024 * 1024;
const uploaded: UploadedPart[] = [
  { partNumber: 1, etag: '"aa"', size: 8 * MiB, sha256: 'one' },
  { partNumber: 2, etag: '"bb"', size: 8 * MiB, sha256: 'two' },
  { partNumber: 3, etag: '"cc"', size: 1, sha256: 'three' },
];

describe('planCompletion', () => {
  it('accepts an ascending list of uploaded parts and sums their sizes', () => {
    const plan = planCompletion([{ partNumber: 1, etag: 'AA' }, { partNumber: 2, etag: '"bb"' }, { partNumber: 3, etag: 'cc' }], uploaded);
    expect(plan).toEqual({ ok: true, parts: uploaded, size: 16 * MiB + 1, etag: multipartEtag(['aa', 'bb', 'cc']) });
  });

  it('may skip uploaded parts; a small part is fine when it is last', () => {
    const plan = planCompletion([{ partNumber: 1, etag: 'aa' }, { partNumber: 3, etag: 'cc' }], uploaded);
    expect(plan).toMatchObject({ ok: true, size: 8 * MiB + 1 });
  });

  it.each([
    ['an empty list', [], 'MalformedXML'],
    ['parts out of order', [{ partNumber: 2, etag: 'bb' }, { partNumber: 1, etag: 'aa' }], 'InvalidPartOrder'],
    ['a repeated part', [{ partNumber: 1, etag: 'aa' }, { partNumber: 1, etag: 'aa' }], 'InvalidPartOrder'],
    ['a part never uploaded', [{ partNumber: 4, etag: 'dd' }], 'InvalidPart'],
    ['a wrong ETag', [{ partNumber: 1, etag: 'bb' }], 'InvalidPart'],
    ['a small part before the last', [{ partNumber: 3, etag: 'cc' }, { partNumber: 4, etag: 'dd' }], 'InvalidPart'],
  ] as const)('refuses %s', (_, requested, code) => {
    expect(planCompletion(requested, uploaded)).toMatchObject({ ok: false, code });
  });

  it('refuses a part under the minimum size unless it is last (EntityTooSmall)', () => {
    const parts: UploadedPart[] = [
      { partNumber: 1, etag: 'a', size: MIN_PART_SIZE - 1, sha256: 'x' },
      { partNumber: 2, etag: 'b', size: 1, sha256: 'y' },
    ];
    expect(planCompletion([{ partNumber: 1, etag: 'a' }, { partNumber: 2, etag: 'b' }], parts)).toMatchObject({ ok: false, code: 'EntityTooSmall' });
    expect(planCompletion([{ partNumber: 1, etag: 'a' }, { partNumber: 2, etag: 'b' }], parts, MIN_PART_SIZE - 1).ok).toBe(true);
  });
});

describe('multipartEtag', () => {
  it('is the md5 of the binary part md5s, then -<number of parts>, quoted (S3 worked example)', () => {
    const a = createHash('md5').update('a').digest();
    const b = createHash('md5').update('b').digest();
    const expected = createHash('md5').update(Buffer.concat([a, b])).digest('hex');
    expect(multipartEtag([`"${a.toString('hex')}"`, b.toString('hex')])).toBe(`"${expected}-2"`);
  });
});

describe('normalizeEtag', () => {
  it('drops quotes and case', () => {
    expect(normalizeEtag(' "ABC" ')).toBe('abc');
    expect(normalizeEtag('abc')).toBe('abc');
  });
});
