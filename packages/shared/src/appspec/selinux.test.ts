import { describe, it, expect } from 'vitest';
import { formatSelinuxRange, normaliseSelinuxRange, parseSelinuxRange } from './selinux.js';

describe('normaliseSelinuxRange', () => {
  it.each([
    ['s2-s3:c0,c2.c4,c6', 's2-s3:c0,c2.c4,c6'],
    ['s0:c0,c1,c2,c5', 's0:c0.c2,c5'],
    ['s0', 's0'],
    ['s0-s0', 's0'],
    ['s01-s2', 's1-s2'],
    ['s0:c5,c3,c4', 's0:c3.c5'],
    ['s0:c0.c1023', 's0:c0.c1023'],
    ['s0:c7.c7', 's0:c7'],
    ['s0:c1.c2,c3', 's0:c1.c3'],
    ['s15:c0,c2,c4', 's15:c0,c2,c4'],
  ])('AP-15: %s → %s', (range, normalised) => {
    expect(normaliseSelinuxRange(range)).toEqual({ ok: true, value: normalised });
  });

  it.each([
    ['s3-s2', 'high sensitivity s2 is below low sensitivity s3'],
    ['s0:c1024', 'invalid category c1024'],
    ['s0:c1,c1', 'duplicate categories'],
    ['s0:c0.c2,c1', 'duplicate categories'],
    ['s3-', 'invalid range part s3-'],
    ['-s3', 'invalid range part -s3'],
    ['s0:', 'invalid range part s0:'],
    [':c1', 'invalid range part :c1'],
    ['', 'invalid range part (empty)'],
    ['s', 'invalid sensitivity s'],
    ['sx', 'invalid sensitivity sx'],
    ['0', 'invalid sensitivity 0'],
    ['s0-s1-s2', 'invalid sensitivity s1-s2'],
    ['s0:c', 'invalid category c'],
    ['s0:1', 'invalid category 1'],
    ['s0:c1:c2', 'invalid category c1:c2'],
    ['s0:c5.c2', 'invalid category range c5.c2'],
    ['s0:c1.', 'invalid range part c1.'],
    ['s0:c1.c2.c3', 'invalid category c2.c3'],
    ['s0:c1.c1024', 'invalid category c1024'],
    ['system_r:s0', 'invalid sensitivity system_r'],
  ])('AP-15: %j → %s', (range, problem) => {
    expect(normaliseSelinuxRange(range)).toEqual({ ok: false, problem });
  });
});

describe('range divergences', () => {
  it('rejects a trailing comma after the categories (divergence: Ruby split ignores it)', () => {
    expect(normaliseSelinuxRange('s0:c1,')).toEqual({ ok: false, problem: 'invalid category (empty)' });
  });
});

describe('parseSelinuxRange / formatSelinuxRange', () => {
  it('gives sensitivities and sorted categories', () => {
    const parsed = parseSelinuxRange('s1-s4:c9,c2.c3');
    expect(parsed).toEqual({ ok: true, value: { low: 1, high: 4, categories: [2, 3, 9] } });
    expect(formatSelinuxRange({ low: 0, high: 0 })).toBe('s0');
  });
});
