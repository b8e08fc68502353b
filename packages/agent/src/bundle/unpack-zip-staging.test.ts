/**
 * A zip is judged from its central directory, read once, and written into a staging folder that
 * becomes the target only once the whole bundle is judged, as a tar is. (Earlier versions read the
 * central directory twice, writing straight into the target, and compared the two passes.)
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exists, expectRefused, listTree, makeWorkspace, python } from './test-support.js';
import type { Workspace } from './test-support.js';
import * as zipUnpack from './zip-unpack.js';
import { stagingDir, unpackBundle } from './unpack.js';

vi.mock('./zip-unpack.js', async (importOriginal) => {
  const actual = await importOriginal<typeof zipUnpack>();
  return { ...actual, extractZip: vi.fn(actual.extractZip) };
});

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

/** zipOf writes a zip with python's zipfile; `patch` runs afterwards on its bytes in `b`. */
function zipOf(entries: Array<[string, string]>, patch = ''): string {
  const path = ws.path('bundle.zip');
  python(
    `import json, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    for n, d in json.loads(sys.argv[2]): z.writestr(n, d)\nb = bytearray(open(sys.argv[1], "rb").read())\n${patch}\nopen(sys.argv[1], "wb").write(b)`,
    path,
    JSON.stringify(entries),
  );
  return path;
}

describe('zip bundles are written into a staging folder', () => {
  it('writes every entry beside the target and renames the folder once the bundle is judged', async () => {
    const actual = await vi.importActual<typeof zipUnpack>('./zip-unpack.js');
    const seen: Array<{ dir: string; targetExisted: boolean; written: string[] }> = [];
    vi.mocked(zipUnpack.extractZip).mockImplementationOnce(async (bundle, label, dir, index, attrs) => {
      await actual.extractZip(bundle, label, dir, index, attrs);
      seen.push({ dir, targetExisted: await exists(ws.target), written: await listTree(dir) });
    });
    await unpackBundle({ bundlePath: zipOf([['a.txt', 'one'], ['d/b.txt', 'two']]), bundleType: 'zip', targetDir: ws.target });
    expect(seen).toEqual([{ dir: stagingDir(ws.target), targetExisted: false, written: ['a.txt', 'd/', 'd/b.txt'] }]);
    expect(await listTree(ws.target)).toEqual(['a.txt', 'd/', 'd/b.txt']);
    expect(await exists(stagingDir(ws.target))).toBe(false);
  });

  it('removes the staging folder when a link judged at the end points outside, leaving no target', async () => {
    const link = 'zi = zipfile.ZipInfo("l")\nzi.external_attr = 0o120777 << 16\nzi.create_system = 3\n';
    const path = ws.path('bundle.zip');
    python(`import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w") as z:\n    z.writestr("a.txt", "one")\n    ${link.split('\n').join('\n    ')}z.writestr(zi, "../../outside")`, path);
    await expectRefused(ws, path, 'zip', /^bundle entry "l": symbolic link target "\.\.\/\.\.\/outside" points outside the bundle folder$/);
  });

  it('names entries by the judged central directory, whatever their local headers say', async () => {
    // The local header of the one entry is rewritten to name "../../escaped.txt" (same length).
    const patch = 'at = b.find(b"dir/escaped00.txt")\nb[at:at + 17] = b"../../escaped.txt"';
    const bundle = zipOf([['dir/escaped00.txt', 'data']], patch);
    expect((await readFile(bundle)).includes('../../escaped.txt')).toBe(true);
    await unpackBundle({ bundlePath: bundle, bundleType: 'zip', targetDir: ws.target });
    expect(await listTree(ws.target)).toEqual(['dir/', 'dir/escaped00.txt']);
    expect(await readFile(join(ws.target, 'dir/escaped00.txt'), 'utf8')).toBe('data');
    expect(await readdir(ws.outside)).toEqual([]);
  });
});
