import { describe, expect, it } from 'vitest';
import { RATIO_FLOOR_BYTES, defaultBundleLimits, entryCountProblem, ratioProblem, totalBytesProblem } from './limits.js';

describe('bundle limits', () => {
  it('has the documented defaults', () => {
    expect(defaultBundleLimits).toEqual({ maxEntries: 200_000, maxTotalBytes: 20 * 1024 ** 3, maxCompressionRatio: 200 });
  });

  it('names the entry count and the setting', () => {
    expect(entryCountProblem(200_000, defaultBundleLimits)).toBeUndefined();
    expect(entryCountProblem(200_001, defaultBundleLimits)).toBe('bundle has 200001 entries, more than the limit of 200000 (bundle.maxEntries)');
  });

  it('names the byte total, saying "at least" for a running total', () => {
    const limits = { ...defaultBundleLimits, maxTotalBytes: 10 };
    expect(totalBytesProblem(10, limits, false)).toBeUndefined();
    expect(totalBytesProblem(11, limits, false)).toBe('bundle unpacks to 11 bytes, more than the limit of 10 (bundle.maxTotalBytes)');
    expect(totalBytesProblem(11, limits, true)).toBe('bundle unpacks to at least 11 bytes, more than the limit of 10 (bundle.maxTotalBytes)');
  });

  it('judges the ratio only past the floor', () => {
    expect(ratioProblem(RATIO_FLOOR_BYTES, 1, defaultBundleLimits)).toBeUndefined();
    expect(ratioProblem(200 * 10_000, 10_000, defaultBundleLimits)).toBeUndefined();
    expect(ratioProblem(201 * 10_000, 10_000, defaultBundleLimits)).toBe(
      'bundle expands 201.0 times (2010000 bytes from 10000), more than the limit of 200 (bundle.maxCompressionRatio)',
    );
    expect(ratioProblem(2 * RATIO_FLOOR_BYTES, 0, defaultBundleLimits)).toMatch(/from 0\)/);
  });
});
