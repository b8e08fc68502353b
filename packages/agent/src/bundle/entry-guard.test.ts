import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, MAX_LINK_HOPS, MAX_PATH_BYTES, checkEntryPath, checkLinkText, resolveLink } from './entry-guard.js';

describe('checkEntryPath', () => {
  it.each([
    ['a.txt', ['a.txt']],
    ['./a/b/', ['a', 'b']],
    ['a//b/./c', ['a', 'b', 'c']],
    ['.', []],
    ['./', []],
    ['a\\b', ['a\\b']],
    ['..foo/bar..', ['..foo', 'bar..']],
  ])('accepts tar name %j as %j', (raw, segments) => {
    expect(checkEntryPath(raw, 'tar')).toEqual({ ok: true, segments });
  });

  it('treats backslashes as separators in zip names only', () => {
    expect(checkEntryPath('a\\b\\c.txt', 'zip')).toEqual({ ok: true, segments: ['a', 'b', 'c.txt'] });
    expect(checkEntryPath('a\\b\\c.txt', 'tar')).toEqual({ ok: true, segments: ['a\\b\\c.txt'] });
  });

  it.each([
    ['../x', 'path leaves the bundle folder'],
    ['a/../../x', 'path leaves the bundle folder'],
    ['..', 'path leaves the bundle folder'],
    ['a/..', "path contains a '..' segment"],
    ['a/../b', "path contains a '..' segment"],
    ['/etc/passwd', 'path is absolute'],
    ['\\evil', 'path is absolute'],
    ['C:evil', 'path starts with a drive letter'],
    ['c:/evil', 'path starts with a drive letter'],
    ['a\\..\\..\\x', 'path leaves the bundle folder'],
    ['a\u0000b', 'path contains a NUL byte'],
    ['x'.repeat(MAX_PATH_BYTES + 1), `path is longer than ${MAX_PATH_BYTES} bytes`],
    // 1,366 characters of 3 bytes each: short in characters, too long in bytes.
    ['\u20ac'.repeat(1366), `path is longer than ${MAX_PATH_BYTES} bytes`],
    [Array.from({ length: MAX_DEPTH + 1 }, () => 'd').join('/'), `path is nested deeper than ${MAX_DEPTH} folders`],
  ])('refuses tar name %j: %s', (raw, reason) => {
    expect(checkEntryPath(raw, 'tar')).toEqual({ ok: false, reason });
  });

  it('accepts names with dots that are not a .. segment, and the longest name in bytes', () => {
    expect(checkEntryPath('a/b..c/...d/.e', 'tar')).toEqual({ ok: true, segments: ['a', 'b..c', '...d', '.e'] });
    expect(checkEntryPath('\u20ac'.repeat(1365), 'tar')).toMatchObject({ ok: true });
  });

  it('refuses zip names that only escape once backslashes are separators', () => {
    expect(checkEntryPath('..\\..\\x', 'zip')).toEqual({ ok: false, reason: 'path leaves the bundle folder' });
    expect(checkEntryPath('C:\\x', 'zip')).toEqual({ ok: false, reason: 'path starts with a drive letter' });
  });

  it('never accepts a name that resolves outside the bundle folder (property)', () => {
    const part = fc.constantFrom('a', 'b', '..', '.', '', '\\', 'c:', '..\\..', '/');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), fc.constantFrom<'tar' | 'zip'>('tar', 'zip'), (parts, format) => {
        const raw = parts.join('/');
        const checked = checkEntryPath(raw, format);
        if (!checked.ok) return;
        const resolved = posix.resolve('/bundle', ...checked.segments);
        expect(resolved === '/bundle' || resolved.startsWith('/bundle/')).toBe(true);
        expect(checked.segments.every((s) => s !== '' && s !== '.' && s !== '..')).toBe(true);
        if (format === 'zip') expect(checked.segments.some((s) => s.includes('\\'))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('checkLinkText', () => {
  it('accepts relative targets, even ones with ..', () => {
    expect(checkLinkText('../lib/x.so')).toBeUndefined();
  });

  it.each([
    ['', 'symbolic link has an empty target'],
    ['/etc/passwd', 'symbolic link target "/etc/passwd" is absolute'],
    ['a\u0000', 'symbolic link target contains a NUL byte'],
    ['x'.repeat(MAX_PATH_BYTES), `symbolic link target is longer than ${MAX_PATH_BYTES - 1} bytes`],
  ])('refuses %j', (target, reason) => {
    expect(checkLinkText(target)).toBe(reason);
  });
});

describe('resolveLink', () => {
  const none = new Map<string, string>();

  it('resolves relative to the link folder', () => {
    expect(resolveLink(['a', 'b', 'l'], '../c', none)).toEqual({ ok: true, segments: ['a', 'c'] });
    expect(resolveLink(['l'], './x/./y', none)).toEqual({ ok: true, segments: ['x', 'y'] });
    expect(resolveLink(['a', 'l'], '..', none)).toEqual({ ok: true, segments: [] });
  });

  it('refuses a target above the bundle folder, even one that comes back in', () => {
    expect(resolveLink(['l'], '..', none)).toMatchObject({ ok: false, reason: expect.stringContaining('points outside') });
    expect(resolveLink(['a', 'l'], '../../deployment-archive/x', none)).toMatchObject({ ok: false });
  });

  it('follows links met on the way (a -> d/l/.. with d/l -> ..)', () => {
    const links = new Map([
      ['d/l', '..'],
      ['a', 'd/l/..'],
    ]);
    expect(resolveLink(['d', 'l'], '..', links)).toEqual({ ok: true, segments: [] });
    expect(resolveLink(['a'], 'd/l/..', links)).toMatchObject({ ok: false, reason: 'symbolic link target "d/l/.." points outside the bundle folder' });
  });

  it('follows a link that is the last component', () => {
    const links = new Map([['out', '../x']]);
    expect(resolveLink(['sub', 'l'], '../out', links)).toMatchObject({ ok: false });
  });

  it('refuses through a link with an absolute target', () => {
    const links = new Map([['abs', '/etc']]);
    expect(resolveLink(['l'], 'abs/passwd', links)).toMatchObject({ ok: false });
    expect(resolveLink(['l'], '/x', none)).toMatchObject({ ok: false, reason: 'symbolic link target "/x" is absolute' });
  });

  it('refuses circular chains', () => {
    const links = new Map([
      ['a', 'b'],
      ['b', 'a'],
    ]);
    expect(resolveLink(['a'], 'b', links)).toEqual({ ok: false, reason: `symbolic link chain is circular or longer than ${MAX_LINK_HOPS} links` });
  });

  it('agrees with the kernel: an accepted link never resolves outside (property, real symlinks)', () => {
    const base = mkdtempSync(join(tmpdir(), 'fd-links-'));
    const linkPaths = ['l1', 'a/l2', 'a/c/l3', 'b/l4'];
    const component = fc.constantFrom('..', '.', 'a', 'b', 'c', 'l1', 'l2', 'l3', 'l4', 'r');
    const target = fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
    let run = 0;
    let compared = 0;
    try {
      fc.assert(
        fc.property(fc.tuple(...linkPaths.map(() => fc.option(target, { nil: undefined }))), (targets) => {
          const root = join(base, `r${run++}`, 'r');
          mkdirSync(join(root, 'a', 'c'), { recursive: true });
          mkdirSync(join(root, 'b'));
          const links = new Map<string, string>();
          linkPaths.forEach((p, i) => {
            const t = targets[i];
            if (t === undefined) return;
            links.set(p, t);
            symlinkSync(t, join(root, p));
          });
          for (const [p, t] of links) {
            const resolved = resolveLink(p.split('/'), t, links);
            if (!resolved.ok) continue;
            let real: string;
            try {
              // The native realpath is the kernel's; Node's JS one resolves '..' in link text lexically.
              real = realpathSync.native(join(root, p));
            } catch {
              continue; // dangling or looping: the kernel finds nothing at all
            }
            expect(real === root || real.startsWith(`${root}/`), `${p} -> ${t} reached ${real}`).toBe(true);
            expect(real).toBe(join(root, ...resolved.segments));
            compared += 1;
          }
        }),
        { numRuns: 600 },
      );
      expect(compared).toBeGreaterThan(50); // the property is not vacuous
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
