import { defaultBundleLimits, isDeployError } from '@fleetdeploy/shared';
import { describe, expect, it } from 'vitest';
import { BundleIndex, MAX_LINK_METADATA_BYTES } from './bundle-index.js';
import type { ArchiveEntry } from './bundle-index.js';

const file = (rawPath: string, size = 1): ArchiveEntry => ({ rawPath, kind: 'file', size });
const dir = (rawPath: string): ArchiveEntry => ({ rawPath, kind: 'dir', size: 0 });
const link = (rawPath: string, linkTarget: string): ArchiveEntry => ({ rawPath, kind: 'symlink', size: 0, linkTarget });
const hard = (rawPath: string, linkTarget: string): ArchiveEntry => ({ rawPath, kind: 'hardlink', size: 0, linkTarget });

function index(): BundleIndex {
  return new BundleIndex('tar', defaultBundleLimits, 1_000_000);
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isDeployError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('BundleIndex', () => {
  it('returns path segments and counts entries and file bytes', () => {
    const ix = index();
    expect(ix.admit(dir('./'))).toEqual([]);
    expect(ix.admit(file('./a/b.txt', 10))).toEqual(['a', 'b.txt']);
    expect(ix.admit(link('a/l', 'b.txt'))).toEqual(['a', 'l']);
    expect(ix.admit(hard('a/h', './a/b.txt'))).toEqual(['a', 'h']);
    const plan = ix.finish();
    expect(plan).toMatchObject({ entries: 4, bytes: 10 });
    expect([...plan.symlinks]).toEqual([['a/l', 'b.txt']]);
  });

  it('tells apart long paths that share a beginning (their keys are digests)', () => {
    const stem = 'd/'.repeat(40);
    const ix = index();
    ix.admit(file(`${stem}one`));
    ix.admit(file(`${stem}two`));
    expect(refusal(() => ix.admit(dir(`${stem}one`)))).toMatch(/folder replaces a file of the same name/);
    expect(ix.admit(hard(`${stem}h`, `${stem}two`))).toHaveLength(41);
  });

  it('refuses a non-folder entry standing for the bundle folder itself', () => {
    expect(refusal(() => index().admit(file('./')))).toBe('bundle entry "./": only a folder may stand for the bundle folder itself');
  });

  it('refuses a symbolic link at a path an earlier entry implied as a folder', () => {
    const ix = index();
    ix.admit(file('a/b'));
    expect(refusal(() => ix.admit(link('a', 'x')))).toBe('bundle entry "a": symbolic link replaces another entry of the same name');
  });

  it('refuses a file replacing a folder, and a hard link replacing a folder', () => {
    const ix = index();
    ix.admit(dir('d/'));
    expect(refusal(() => ix.admit(file('d')))).toBe('bundle entry "d": file replaces a folder of the same name');
    ix.admit(file('f'));
    expect(refusal(() => ix.admit(hard('d', 'f')))).toBe('bundle entry "d": file replaces a folder of the same name');
  });

  it('allows a file or folder to be repeated (tar append semantics), but not to change kind', () => {
    const ix = index();
    ix.admit(file('x'));
    ix.admit(file('x'));
    ix.admit(dir('d/'));
    ix.admit(dir('d'));
    expect(ix.finish().entries).toBe(4);
    expect(refusal(() => ix.admit(dir('x/')))).toBe('bundle entry "x/": folder replaces a file of the same name');
  });

  it('refuses a hard link to itself', () => {
    const ix = index();
    ix.admit(file('h'));
    expect(refusal(() => ix.admit(hard('h', 'h')))).toBe('bundle entry "h": hard link points to itself');
  });

  it('refuses links with unusable targets', () => {
    expect(refusal(() => index().admit(link('l', '')))).toBe('bundle entry "l": symbolic link has an empty target');
  });

  it('refuses when the link table would take too much memory', () => {
    const ix = index();
    const target = 'x'.repeat(4000);
    expect(
      refusal(() => {
        for (let i = 0; i < MAX_LINK_METADATA_BYTES / 4000 + 1; i++) ix.admit(link(`l${i}`, target));
      }),
    ).toMatch(/symbolic links take more than \d+ bytes of names/);
  });

  it('refuses a table of contents announcing too many entries', () => {
    const ix = new BundleIndex('zip', { ...defaultBundleLimits, maxEntries: 10 }, 100);
    expect(() => ix.declareEntryCount(10)).not.toThrow();
    expect(refusal(() => ix.declareEntryCount(11))).toBe('bundle has 11 entries, more than the limit of 10 (bundle.maxEntries)');
  });

  it('refuses a stream that expands past the ratio even without file content', () => {
    const ix = new BundleIndex('tar', defaultBundleLimits, 1000);
    expect(() => ix.noteExpanded(200_000)).not.toThrow();
    expect(refusal(() => ix.noteExpanded(2_000_000))).toMatch(/bundle\.maxCompressionRatio/);
  });

  it('judges links against the final table, whatever order they came in', () => {
    const ix = index();
    ix.admit(link('a', 'd/l/..'));
    ix.admit(dir('d/'));
    ix.admit(link('d/l', '..'));
    expect(refusal(() => ix.finish())).toBe('bundle entry "a": symbolic link target "d/l/.." points outside the bundle folder');
  });

  it('uses zip rules for zip bundles', () => {
    const ix = new BundleIndex('zip', defaultBundleLimits, 100);
    expect(ix.admit(file('a\\b.txt'))).toEqual(['a', 'b.txt']);
  });
});
