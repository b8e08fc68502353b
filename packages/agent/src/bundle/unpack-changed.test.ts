/**
 * A bundle that changes between the scan and the extraction (a Local File revision edited in
 * place, say) must still never write outside, and must leave no target folder behind. The scan is
 * pointed at a different, harmless file to simulate the change.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isDeployError } from '@fleetdeploy/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exists, listTree, makeWorkspace, python, ustar, writeBundle } from './test-support.js';
import type { Workspace } from './test-support.js';
import * as tarUnpack from './tar-unpack.js';
import * as zipUnpack from './zip-unpack.js';
import { unpackBundle } from './unpack.js';

vi.mock('./tar-unpack.js', async (importOriginal) => {
  const actual = await importOriginal<typeof tarUnpack>();
  return { ...actual, scanTar: vi.fn(actual.scanTar) };
});
vi.mock('./zip-unpack.js', async (importOriginal) => {
  const actual = await importOriginal<typeof zipUnpack>();
  return { ...actual, scanZip: vi.fn(actual.scanZip) };
});

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function expectFailure(bundle: string, type: 'tar' | 'zip', message: RegExp): Promise<void> {
  const err: unknown = await unpackBundle({ bundlePath: bundle, bundleType: type, targetDir: ws.target, extractor: 'node' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isDeployError(err), String(err)).toBe(true);
  expect((err as Error).message).toMatch(message);
  expect(await exists(ws.target)).toBe(false);
  expect(await readdir(ws.outside)).toEqual([]);
  expect(await listTree(join(ws.dir, 'deploy'))).toEqual(['root/']);
}

/**
 * Makes the next scan judge `good` (writing its scanned copy as usual) and then replaces that copy
 * with `changedTar`, as if something rewrote it between the scan and the extraction.
 */
function tamperAfterScan(actual: typeof tarUnpack, good: string, changedTar: Buffer): void {
  vi.mocked(tarUnpack.scanTar).mockImplementationOnce(async (_p, label, type, index, copy) => {
    await actual.scanTar(good, label, type, index, copy);
    await writeFile(copy!, changedTar);
  });
}

describe('a tar bundle changed after the scan', () => {
  it.each(['auto', 'node'] as const)('is extracted exactly as scanned: the scan\'s own copy is what gets written (%s extraction)', async (extractor) => {
    const actual = await vi.importActual<typeof tarUnpack>('./tar-unpack.js');
    const good = await writeBundle(ws.path('good.tar'), ustar([{ name: 'a.txt', data: 'a' }]));
    const evil = await writeBundle(ws.path('bundle.tar'), ustar([{ name: 'a.txt', data: 'a' }, { name: '../../escaped.txt', data: 'pwned' }]));
    vi.mocked(tarUnpack.scanTar).mockImplementationOnce((_p, label, type, index, copy) => actual.scanTar(good, label, type, index, copy));
    await unpackBundle({ bundlePath: evil, bundleType: 'tar', targetDir: ws.target, extractor });
    expect(await listTree(ws.target)).toEqual(['a.txt']);
    expect(await readdir(ws.outside)).toEqual([]);
  });
});

describe('a scanned copy tampered with before the JavaScript extraction, or a zip changed after its scan', () => {
  it('tar: an escaping entry that appears is refused before it is written, and earlier files are removed', async () => {
    const actual = await vi.importActual<typeof tarUnpack>('./tar-unpack.js');
    const good = await writeBundle(ws.path('good.tar'), ustar([{ name: 'a.txt', data: 'a' }]));
    const changedTar = ustar([{ name: 'a.txt', data: 'a' }, { name: '../../escaped.txt', data: 'pwned' }]);
    const evil = await writeBundle(ws.path('bundle.tar'), changedTar);
    tamperAfterScan(actual, good, changedTar);
    await expectFailure(evil, 'tar', /^bundle entry "\.\.\/\.\.\/escaped\.txt": path leaves the bundle folder$/);
  });

  it('tar: a harmless extra entry is still caught by the digest', async () => {
    const actual = await vi.importActual<typeof tarUnpack>('./tar-unpack.js');
    const good = await writeBundle(ws.path('good.tar'), ustar([{ name: 'a.txt', data: 'a' }]));
    const changedTar = ustar([{ name: 'a.txt', data: 'a' }, { name: 'b.txt', data: 'b' }]);
    const changed = await writeBundle(ws.path('bundle.tar'), changedTar);
    tamperAfterScan(actual, good, changedTar);
    await expectFailure(changed, 'tar', /^bundle\.tar changed while it was being unpacked$/);
  });

  it('tar: an entry below a file that appears is refused before it is written', async () => {
    const actual = await vi.importActual<typeof tarUnpack>('./tar-unpack.js');
    const good = await writeBundle(ws.path('good.tar'), ustar([{ name: 'd', data: 'file' }]));
    const changedTar = ustar([{ name: 'd', data: 'file' }, { name: 'd/x', data: 'x' }]);
    const changed = await writeBundle(ws.path('bundle.tar'), changedTar);
    tamperAfterScan(actual, good, changedTar);
    await expectFailure(changed, 'tar', /"d\/x": path goes through "d", which is a file/);
  });

  it('tar: a bomb that appears is stopped in the middle of an entry, and the partial file removed', async () => {
    const actual = await vi.importActual<typeof tarUnpack>('./tar-unpack.js');
    const good = await writeBundle(ws.path('good.tar'), gzipSync(ustar([{ name: 'zeros', data: 'x' }])));
    const changedTar = ustar([{ name: 'zeros', data: Buffer.alloc(30 * 1024 * 1024) }]);
    const bomb = await writeBundle(ws.path('bundle.tar'), gzipSync(changedTar));
    tamperAfterScan(actual, good, changedTar);
    await expectFailure(bomb, 'tar', /bundle\.maxCompressionRatio/);
  });

  it('zip: an escaping entry that appears is refused before it is written, and earlier files are removed', async () => {
    const actual = await vi.importActual<typeof zipUnpack>('./zip-unpack.js');
    const make = (path: string, names: string[]): void => {
      python('import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for n in sys.argv[2:]: z.writestr(n, "x")', path, ...names);
    };
    make(ws.path('good.zip'), ['a.txt']);
    make(ws.path('bundle.zip'), ['a.txt', '../../escaped.txt']);
    vi.mocked(zipUnpack.scanZip).mockImplementationOnce((_p, label, index) => actual.scanZip(ws.path('good.zip'), label, index));
    await expectFailure(ws.path('bundle.zip'), 'zip', /^bundle entry "\.\.\/\.\.\/escaped\.txt": path leaves the bundle folder$/);
  });
});
