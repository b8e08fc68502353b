import { lstat, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultBundleLimits, stagingDir, unpackBundle } from './unpack.js';
import type { BundleLimits } from './unpack.js';
import { describeTree, exists, listTree, makeSourceTree, makeWorkspace, modeOf, paxRecord, sh, ustar, writeBundle, expectRefused as expectRefusedIn } from './test-support.js';
import type { TarEntrySpec, Workspace } from './test-support.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function tarBundle(entries: TarEntrySpec[], gzip = false): Promise<string> {
  const raw = ustar(entries);
  return writeBundle(ws.path('bundle.tar'), gzip ? gzipSync(raw) : raw);
}

function expectRefused(bundle: string, type: 'tar' | 'tgz', message: RegExp, limits?: BundleLimits): Promise<void> {
  return expectRefusedIn(ws, bundle, type, message, limits);
}

describe('tar and tgz round trip', () => {
  for (const [type, flags] of [
    ['tar', ['-cf']],
    ['tgz', ['-czf']],
    ['tar', ['--format=pax', '-cf']],
  ] as const) {
    it(`${type} ${flags.join(' ')} keeps content, modes, links, empty and nested folders and mtimes`, async () => {
      const src = ws.path('src');
      await mkdir(src);
      await makeSourceTree(src, { setuid: true, hardLink: true });
      const bundle = ws.path('bundle.tar');
      sh('tar', [...flags, bundle, '-C', src, '.']);

      const result = await unpackBundle({ bundlePath: bundle, bundleType: type, targetDir: ws.target });

      expect(await describeTree(ws.target, { mtimes: true })).toEqual(await describeTree(src, { mtimes: true }));
      expect(await modeOf(join(ws.target, 'bin/group.sh'))).toBe(0o775);
      expect(await modeOf(join(ws.target, 'bin/suid'))).toBe(0o4755);
      expect(await modeOf(join(ws.target, 'empty'))).toBe(0o700);
      expect((await stat(join(ws.target, 'hard.txt'))).ino).toBe((await stat(join(ws.target, 'a.txt'))).ino);
      expect(await readFile(join(ws.target, 'node_modules/.bin/foo'), 'utf8')).toBe('cli\n');
      const files = (await listTree(src)).length;
      expect(result.entries).toBe(files + 1); // plus the "./" entry
      expect(result.bytes).toBeGreaterThan(0);
    });
  }

  it.runIf(process.getuid?.() === 0)('keeps owners when run as root, links included, and link mtimes', async () => {
    const bundle = await tarBundle([
      { name: 'f.txt', data: 'x', uid: 1234, gid: 2345 },
      { name: 'l', type: '2', linkname: 'f.txt', uid: 3456, gid: 4567, mtime: 1_600_000_000 },
    ]);
    await unpackBundle({ bundlePath: bundle, bundleType: 'tar', targetDir: ws.target });
    expect(await stat(join(ws.target, 'f.txt'))).toMatchObject({ uid: 1234, gid: 2345 });
    const link = await lstat(join(ws.target, 'l'));
    expect(link).toMatchObject({ uid: 3456, gid: 4567 });
    expect(Math.floor(link.mtimeMs / 1000)).toBe(1_600_000_000);
  });

  it('replaces whatever was in the target folder before', async () => {
    await mkdir(join(ws.target, 'stale'), { recursive: true });
    await writeFile(join(ws.target, 'stale/old.txt'), 'old');
    const bundle = await tarBundle([{ name: 'new.txt', data: 'new' }]);
    await unpackBundle({ bundlePath: bundle, bundleType: 'tar', targetDir: ws.target });
    expect(await listTree(ws.target)).toEqual(['new.txt']);
  });

  it('counts entries and file bytes, and accepts a gzip tar declared as plain tar (tar -x detects it)', async () => {
    const bundle = await tarBundle(
      [
        { name: 'd/', type: '5' },
        { name: 'd/one', data: 'abc' },
        { name: 'two', data: 'defgh' },
      ],
      true,
    );
    expect(await unpackBundle({ bundlePath: bundle, bundleType: 'tar', targetDir: ws.target })).toEqual({ entries: 3, bytes: 8 });
  });

  it('creates folders a bundle only implies', async () => {
    const bundle = await tarBundle([{ name: 'x/y/z.txt', data: 'z' }, { name: 'x/y/l', type: '2', linkname: 'z.txt' }]);
    await unpackBundle({ bundlePath: bundle, bundleType: 'tar', targetDir: ws.target });
    expect(await listTree(ws.target)).toEqual(['x/', 'x/y/', 'x/y/l', 'x/y/z.txt']);
    expect(await readFile(join(ws.target, 'x/y/l'), 'utf8')).toBe('z');
  });
});

describe('tar entries that would land outside the bundle are refused before anything is written', () => {
  it('refuses ../../escaped.txt', async () => {
    const bundle = await tarBundle([{ name: 'ok.txt', data: 'fine' }, { name: '../../escaped.txt', data: 'pwned' }]);
    await expectRefused(bundle, 'tar', /^bundle entry "\.\.\/\.\.\/escaped\.txt": path leaves the bundle folder$/);
  });

  it('refuses a path that climbs out after going down', async () => {
    const bundle = await tarBundle([{ name: 'a/../../escaped.txt', data: 'pwned' }], true);
    await expectRefused(bundle, 'tgz', /"a\/\.\.\/\.\.\/escaped\.txt": path leaves the bundle folder/);
  });

  it("refuses a '..' even when it stays inside", async () => {
    const bundle = await tarBundle([{ name: 'a/../b.txt', data: 'x' }]);
    await expectRefused(bundle, 'tar', /"a\/\.\.\/b\.txt": path contains a '\.\.' segment/);
  });

  it('refuses an absolute path', async () => {
    const abs = join(ws.outside, 'abs.txt');
    const bundle = await tarBundle([{ name: abs, data: 'pwned' }]);
    await expectRefused(bundle, 'tar', /path is absolute/);
  });

  it('refuses Windows roots that node-tar would strip', async () => {
    await expectRefused(await tarBundle([{ name: 'C:evil.txt', data: 'x' }]), 'tar', /path starts with a drive letter/);
    await expectRefused(await tarBundle([{ name: '\\evil.txt', data: 'x' }]), 'tar', /path is absolute/);
    await expectRefused(await tarBundle([{ name: 'a\\..\\..\\evil.txt', data: 'x' }]), 'tar', /path leaves the bundle folder/);
  });

  it('refuses a symbolic link that points outside', async () => {
    const bundle = await tarBundle([{ name: 'evil', type: '2', linkname: '../../../outside' }]);
    await expectRefused(bundle, 'tar', /^bundle entry "evil": symbolic link target "\.\.\/\.\.\/\.\.\/outside" points outside the bundle folder$/);
  });

  it('refuses an absolute symbolic link', async () => {
    const bundle = await tarBundle([{ name: 'passwd', type: '2', linkname: '/etc/passwd' }]);
    await expectRefused(bundle, 'tar', /"passwd": symbolic link target "\/etc\/passwd" is absolute/);
  });

  it('refuses a file written through a symbolic link that points outside', async () => {
    const bundle = await tarBundle([
      { name: 'evil', type: '2', linkname: '../../../outside' },
      { name: 'evil/pwned.txt', data: 'pwned' },
    ]);
    await expectRefused(bundle, 'tar', /"evil\/pwned\.txt": path goes through the symbolic link "evil"/);
  });

  it('refuses writing through a symbolic link even when it points inside', async () => {
    const bundle = await tarBundle([
      { name: 'real/', type: '5' },
      { name: 'alias', type: '2', linkname: 'real' },
      { name: 'alias/file.txt', data: 'x' },
    ]);
    await expectRefused(bundle, 'tar', /"alias\/file\.txt": path goes through the symbolic link "alias"/);
  });

  it('refuses a link that escapes through another link (a -> d/l/.. with d/l -> ..)', async () => {
    const bundle = await tarBundle([
      { name: 'd/', type: '5' },
      { name: 'd/l', type: '2', linkname: '..' },
      { name: 'a', type: '2', linkname: 'd/l/..' },
    ]);
    await expectRefused(bundle, 'tar', /"a": symbolic link target "d\/l\/\.\." points outside the bundle folder/);
  });

  it('refuses a file that replaces a symbolic link, and a link that replaces a file', async () => {
    await expectRefused(
      await tarBundle([
        { name: 'x', type: '2', linkname: 'y' },
        { name: 'x', data: 'over' },
      ]),
      'tar',
      /"x": replaces a symbolic link of the same name/,
    );
    await expectRefused(
      await tarBundle([
        { name: 'x', data: 'file' },
        { name: 'x', type: '2', linkname: 'y' },
      ]),
      'tar',
      /"x": symbolic link replaces another entry of the same name/,
    );
  });

  it('refuses hard links whose target is outside, absolute, missing or a link', async () => {
    await expectRefused(await tarBundle([{ name: 'h', type: '1', linkname: '../../etc/passwd' }]), 'tar', /"h": hard link target "\.\.\/\.\.\/etc\/passwd": path leaves the bundle folder/);
    await expectRefused(await tarBundle([{ name: 'h', type: '1', linkname: '/etc/passwd' }]), 'tar', /"h": hard link target "\/etc\/passwd": path is absolute/);
    await expectRefused(await tarBundle([{ name: 'h', type: '1', linkname: 'nope' }]), 'tar', /"h": hard link target "nope" is not a file earlier in the bundle/);
    await expectRefused(
      await tarBundle([
        { name: 'l', type: '2', linkname: 'a' },
        { name: 'h', type: '1', linkname: 'l' },
      ]),
      'tar',
      /"h": hard link target "l" is not a file earlier in the bundle/,
    );
  });

  it('refuses device and FIFO entries', async () => {
    await expectRefused(await tarBundle([{ name: 'sda', type: '4' }]), 'tar', /"sda": BlockDevice entries are not allowed in a bundle/);
    await expectRefused(await tarBundle([{ name: 'null', type: '3' }]), 'tar', /"null": CharacterDevice entries are not allowed in a bundle/);
    await expectRefused(await tarBundle([{ name: 'pipe', type: '6' }]), 'tar', /"pipe": FIFO entries are not allowed in a bundle/);
  });

  it('refuses entry types node-tar would silently skip', async () => {
    await expectRefused(await tarBundle([{ name: 'sparse', type: 'S', data: 'x' }]), 'tar', /"sparse": unsupported entry type SparseFile/);
  });

  it('refuses an entry below a regular file', async () => {
    const bundle = await tarBundle([{ name: 'a', data: 'file' }, { name: 'a/b', data: 'x' }]);
    await expectRefused(bundle, 'tar', /"a\/b": path goes through "a", which is a file/);
  });
});

describe('tar bundle limits', () => {
  it('refuses more entries than bundle.maxEntries', async () => {
    const bundle = await tarBundle(Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: 'x' })));
    await expectRefused(bundle, 'tar', /^bundle has 4 entries, more than the limit of 3 \(bundle\.maxEntries\)$/, { ...defaultBundleLimits, maxEntries: 3 });
  });

  it('refuses more content than bundle.maxTotalBytes', async () => {
    const bundle = await tarBundle([{ name: 'big', data: Buffer.alloc(2000, 1) }], true);
    await expectRefused(bundle, 'tgz', /^bundle unpacks to at least 2000 bytes, more than the limit of 1000 \(bundle\.maxTotalBytes\)$/, {
      ...defaultBundleLimits,
      maxTotalBytes: 1000,
    });
  });

  it('refuses a tgz that expands past bundle.maxCompressionRatio', async () => {
    const bundle = await tarBundle([{ name: 'zeros', data: Buffer.alloc(20 * 1024 * 1024) }], true);
    await expectRefused(bundle, 'tgz', /^bundle expands \d+\.\d times \(\d+ bytes from \d+\), more than the limit of 200 \(bundle\.maxCompressionRatio\)$/);
  });

  it('refuses a tgz bomb made of headers, not file content', async () => {
    const entries = Array.from({ length: 3000 }, (_, i) => ({ name: `e/${String(i).padStart(90, '0')}`, type: '5' }));
    const bundle = await tarBundle(entries, true);
    await expectRefused(bundle, 'tgz', /bundle\.maxCompressionRatio/, { ...defaultBundleLimits, maxCompressionRatio: 20 });
  });
});

describe('corrupt tar bundles', () => {
  it('names the bundle and the problem for a file that is not a tar', async () => {
    const bundle = await writeBundle(ws.path('bundle.tar'), Buffer.from('this is not a tar archive at all, just text'.repeat(30)));
    await expectRefused(bundle, 'tar', /^bundle\.tar is not a valid tar archive: /);
  });

  it('rejects an empty file', async () => {
    await expectRefused(await writeBundle(ws.path('bundle.tar'), Buffer.alloc(0)), 'tar', /^bundle\.tar is not a valid tar archive: .*Unrecognized archive format/);
  });

  it('rejects a truncated tgz', async () => {
    const whole = gzipSync(ustar([{ name: 'f', data: Buffer.alloc(100_000, 7) }]));
    const bundle = await writeBundle(ws.path('bundle.tar'), whole.subarray(0, Math.floor(whole.length / 2)));
    await expectRefused(bundle, 'tgz', /^bundle\.tar is not a valid tgz archive: /);
  });

  it('rejects a truncated tar', async () => {
    const whole = ustar([{ name: 'f', data: Buffer.alloc(100_000, 7) }]);
    await expectRefused(await writeBundle(ws.path('bundle.tar'), whole.subarray(0, 5000)), 'tar', /^bundle\.tar is not a valid tar archive: .*Truncated input/);
  });

  it('rejects a gzip stream with bad data', async () => {
    const bad = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]), Buffer.alloc(200, 0xff)]);
    await expectRefused(await writeBundle(ws.path('bundle.tar'), bad), 'tgz', /^bundle\.tar is not a valid tgz archive: /);
  });

  it('rejects a tar compressed twice', async () => {
    const bundle = await writeBundle(ws.path('bundle.tar'), gzipSync(gzipSync(ustar([{ name: 'f', data: 'x' }]))));
    await expectRefused(bundle, 'tgz', /^bundle\.tar is not a valid tgz archive: the tar data inside is gzip-compressed a second time$/);
  });

  it('names compressions CodeDeploy does not use', async () => {
    const zstd = await writeBundle(ws.path('bundle.tar'), Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]));
    await expectRefused(zstd, 'tar', /^bundle\.tar is not a valid tar archive: zstd compression is not supported$/);
    const bz = await writeBundle(ws.path('bundle.tar'), Buffer.from('BZh91AY&SY'));
    await expectRefused(bz, 'tar', /bzip2 compression is not supported/);
    const xz = await writeBundle(ws.path('bundle.tar'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0, 0]));
    await expectRefused(xz, 'tar', /xz compression is not supported/);
  });

  it('names the bundle when writing fails (a name longer than the file system allows), and removes the target', async () => {
    const bundle = await tarBundle([
      { name: 'first.txt', data: 'written first' },
      { name: 'PaxHeader', type: 'x', data: paxRecord('path', `dir/${'n'.repeat(300)}`) },
      { name: 'placeholder', data: 'x' },
    ]);
    await expectRefused(bundle, 'tar', /^could not unpack bundle\.tar: .*ENAMETOOLONG/);
  });

  it('reports a missing bundle file', async () => {
    await expectRefused(ws.path('nope.tar'), 'tar', /^cannot read bundle nope\.tar: ENOENT/);
  });

  it('reports a bundle path that is a folder', async () => {
    await mkdir(ws.path('folder.tar'));
    await expectRefused(ws.path('folder.tar'), 'tar', /^cannot read bundle folder\.tar: not a regular file$/);
  });
});

describe('the staging folder of a tar or tgz', () => {
  it('is renamed to the target once the bundle is judged, wrapper folder stripped', async () => {
    const bundle = await tarBundle([{ name: 'app/appspec.yml', data: Buffer.from('version: 0.0\n') }, { name: 'app/a.txt', data: Buffer.from('a') }], true);
    await unpackBundle({ bundlePath: bundle, bundleType: 'tgz', targetDir: ws.target });
    expect(await listTree(ws.target)).toEqual(['a.txt', 'appspec.yml']);
    expect(await listTree(join(ws.dir, 'deploy', 'root'))).toEqual(['deployment-archive/', 'deployment-archive/a.txt', 'deployment-archive/appspec.yml']);
  });

  it('replaces a stale staging folder left by a killed agent', async () => {
    await mkdir(stagingDir(ws.target));
    await writeFile(join(stagingDir(ws.target), 'stale.txt'), 'stale');
    const bundle = await tarBundle([{ name: 'a.txt', data: Buffer.from('fresh') }], true);
    await unpackBundle({ bundlePath: bundle, bundleType: 'tgz', targetDir: ws.target });
    expect(await listTree(ws.target)).toEqual(['a.txt']);
    expect(await exists(stagingDir(ws.target))).toBe(false);
  });

  it('is removed with everything written before a link out at the end is judged', async () => {
    const bundle = await tarBundle([{ name: 'a.txt', data: 'a' }, { name: 'l', type: '2', linkname: '../../../outside' }]);
    await expectRefused(bundle, 'tar', /bundle entry "l": /);
  });
});
