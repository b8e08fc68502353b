import { describe, expect, it } from 'vitest';
import { RATIO_FLOOR_BYTES, defaultBundleLimits } from '@fleetdeploy/shared';
import { BundleBudget, BundleLimitError } from './bundle-budget.js';

const MiB = 1024 * 1024;

describe('BundleBudget', () => {
  it('counts entries and their declared bytes as they come', () => {
    const budget = new BundleBudget({ ...defaultBundleLimits, maxEntries: 2, maxTotalBytes: 10 * MiB }, 10 * MiB);
    budget.admit(4 * MiB);
    budget.admit(6 * MiB);
    expect(() => budget.admit(0)).toThrow(new BundleLimitError('bundle has 3 entries, more than the limit of 2 (bundle.maxEntries)'));
    const bytes = new BundleBudget({ ...defaultBundleLimits, maxTotalBytes: 10 * MiB }, 10 * MiB);
    bytes.admit(10 * MiB);
    expect(() => bytes.admit(1)).toThrow(`bundle unpacks to at least ${10 * MiB + 1} bytes, more than the limit of ${10 * MiB} (bundle.maxTotalBytes)`);
  });

  it('judges the inflated stream by the same total and ratio, whichever of the two counts is larger', () => {
    const total = new BundleBudget({ ...defaultBundleLimits, maxTotalBytes: 10 * MiB }, 10 * MiB);
    expect(() => total.noteExpanded(10 * MiB + 1)).toThrow(BundleLimitError);
    const ratio = new BundleBudget(defaultBundleLimits, 10_000);
    ratio.admit(RATIO_FLOOR_BYTES); // declared: within the floor
    ratio.noteExpanded(200 * 10_000);
    expect(() => ratio.noteExpanded(201 * 10_000)).toThrow('bundle expands 201.0 times (2010000 bytes from 10000), more than the limit of 200 (bundle.maxCompressionRatio)');
  });

  it('refuses a zip whose central directory announces too many entries before any is read', () => {
    expect(() => new BundleBudget({ ...defaultBundleLimits, maxEntries: 5 }, 1).declareEntryCount(6)).toThrow('bundle has 6 entries, more than the limit of 5 (bundle.maxEntries)');
  });
});
