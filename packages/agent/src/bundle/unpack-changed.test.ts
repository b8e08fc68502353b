/**
 * A zip that changes between the scan and the extraction (a Local File revision edited in place,
 * say) must still never write outside, and must leave no target folder behind. The scan is pointed
 * at a different, harmless file to simulate the change. (A tar is read once, so it cannot change
 * between two passes; tar-reader.test.ts checks that each header reaches the writer before its body.)
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeployError } from '@fleetdeploy/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exists, listTree, makeWorkspace, python } from './test-support.js';
import type { Workspace } from './test-support.js';
import * as zipUnpack from './zip-unpack.js';
import { unpackBundle } from './unpack.js';

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

async function expectFailure(bundle: string, message: RegExp): Promise<void> {
  const err: unknown = await unpackBundle({ bundlePath: bundle, bundleType: 'zip', targetDir: ws.target }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isDeployError(err), String(err)).toBe(true);
  expect((err as Error).message).toMatch(message);
  expect(await exists(ws.target)).toBe(false);
  expect(await readdir(ws.outside)).toEqual([]);
  expect(await listTree(join(ws.dir, 'deploy'))).toEqual(['root/']);
}

describe('a zip changed after its scan', () => {
  it('zip: an escaping entry that appears is refused before it is written, and earlier files are removed', async () => {
    const actual = await vi.importActual<typeof zipUnpack>('./zip-unpack.js');
    const make = (path: string, names: string[]): void => {
      python('import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for n in sys.argv[2:]: z.writestr(n, "x")', path, ...names);
    };
    make(ws.path('good.zip'), ['a.txt']);
    make(ws.path('bundle.zip'), ['a.txt', '../../escaped.txt']);
    vi.mocked(zipUnpack.scanZip).mockImplementationOnce((_p, label, index) => actual.scanZip(ws.path('good.zip'), label, index));
    await expectFailure(ws.path('bundle.zip'), /^bundle entry "\.\.\/\.\.\/escaped\.txt": path leaves the bundle folder$/);
  });
});
