import { lstat, mkdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import AdmZip from 'adm-zip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackBundle } from './unpack.js';
import { exists, listTree, makeWorkspace, modeOf, paxRecord, ustar, writeBundle } from './test-support.js';
import type { Workspace } from './test-support.js';
import { stripWrapperFolder, wrapperTempDir } from './wrapper.js';

let ws: Workspace;
beforeEach(async () => {
  ws = await makeWorkspace();
});
afterEach(async () => {
  await ws.cleanup();
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = ws.target;
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    if (rel.endsWith('/')) await mkdir(join(root, rel), { recursive: true });
    else await writeFile(join(root, rel), content);
  }
  return root;
}

describe('stripWrapperFolder', () => {
  it('lifts the contents of a single folder that holds appspec.yml', async () => {
    const root = await tree({ 'app/appspec.yml': 'version: 0.0', 'app/scripts/start.sh': 'x', 'app/empty/': '' });
    expect(await stripWrapperFolder(root)).toBe(true);
    expect(await listTree(root)).toEqual(['appspec.yml', 'empty/', 'scripts/', 'scripts/start.sh']);
    expect(await exists(wrapperTempDir(root))).toBe(false);
  });

  it('matches any name containing appspec, in any case', async () => {
    const root = await tree({ 'app/My-AppSpec.YAML': 'x' });
    expect(await stripWrapperFolder(root)).toBe(true);
    expect(await listTree(root)).toEqual(['My-AppSpec.YAML']);
  });

  it('keeps links and modes of what it lifts', async () => {
    const root = await tree({ 'app/appspec.yml': 'x', 'app/run.sh': 'x' });
    const { chmod } = await import('node:fs/promises');
    await chmod(join(root, 'app/run.sh'), 0o750);
    await symlink('run.sh', join(root, 'app/go'));
    await stripWrapperFolder(root);
    expect(await modeOf(join(root, 'run.sh'))).toBe(0o750);
    expect(await readlink(join(root, 'go'))).toBe('run.sh');
  });

  it('replaces a leftover temp folder', async () => {
    const root = await tree({ 'app/appspec.yml': 'x' });
    await mkdir(join(wrapperTempDir(root), 'junk'), { recursive: true });
    expect(await stripWrapperFolder(root)).toBe(true);
    expect(await listTree(root)).toEqual(['appspec.yml']);
  });

  it.each([
    ['no appspec in the folder', { 'app/readme.md': 'x' }],
    ['an appspec only deeper down', { 'app/sub/appspec.yml': 'x' }],
    ['two top-level entries', { 'app/appspec.yml': 'x', 'other.txt': 'x' }],
    ['a single file', { 'appspec.yml': 'x' }],
    ['nothing at all', {}],
  ])('leaves the tree alone with %s', async (_name, files) => {
    const root = await tree(files);
    await mkdir(root, { recursive: true });
    const before = await listTree(root);
    expect(await stripWrapperFolder(root)).toBe(false);
    expect(await listTree(root)).toEqual(before);
  });

  it('does not follow a single top-level link to a folder', async () => {
    const root = await tree({ 'real/appspec.yml': 'x' });
    await mkdir(join(ws.dir, 'elsewhere'));
    await writeFile(join(ws.dir, 'elsewhere/appspec.yml'), 'x');
    const { rm } = await import('node:fs/promises');
    await rm(join(root, 'real'), { recursive: true });
    await symlink(join(ws.dir, 'elsewhere'), join(root, 'link'));
    expect(await stripWrapperFolder(root)).toBe(false);
    expect((await lstat(join(root, 'link'))).isSymbolicLink()).toBe(true);
  });
});

describe('unpackBundle strips wrapper folders', () => {
  it('strips the commit folder of a GitHub-style tarball', async () => {
    const bundle = await writeBundle(
      ws.path('bundle.tar'),
      gzipSync(
        ustar([
          { name: 'pax_global_header', type: 'g', data: paxRecord('comment', 'a'.repeat(40)) },
          { name: 'owner-repo-abc1234/', type: '5' },
          { name: 'owner-repo-abc1234/appspec.yml', data: 'version: 0.0\n' },
          { name: 'owner-repo-abc1234/scripts/', type: '5' },
          { name: 'owner-repo-abc1234/scripts/start.sh', data: '#!/bin/sh\n', mode: 0o755 },
        ]),
      ),
    );
    expect(await unpackBundle({ bundlePath: bundle, bundleType: 'tgz', targetDir: ws.target })).toEqual({ entries: 4, bytes: 23 });
    expect(await listTree(ws.target)).toEqual(['appspec.yml', 'scripts/', 'scripts/start.sh']);
    expect(await modeOf(join(ws.target, 'scripts/start.sh'))).toBe(0o755);
  });

  it('strips the folder of a "compress this folder" zip', async () => {
    const zip = new AdmZip();
    zip.addFile('myapp/', Buffer.alloc(0));
    zip.addFile('myapp/appspec.yml', Buffer.from('version: 0.0\n'));
    zip.addFile('myapp/index.html', Buffer.from('<html/>'));
    zip.writeZip(ws.path('bundle.zip'));
    await unpackBundle({ bundlePath: ws.path('bundle.zip'), bundleType: 'zip', targetDir: ws.target });
    expect(await listTree(ws.target)).toEqual(['appspec.yml', 'index.html']);
  });

  it('keeps a single folder without an appspec', async () => {
    const bundle = await writeBundle(ws.path('bundle.tar'), ustar([{ name: 'site/index.html', data: 'x' }]));
    await unpackBundle({ bundlePath: bundle, bundleType: 'tar', targetDir: ws.target });
    expect(await listTree(ws.target)).toEqual(['site/', 'site/index.html']);
  });
});
