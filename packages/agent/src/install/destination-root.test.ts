import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostPath } from './destination-root.js';
import { installRevision } from './install.js';
import { createLayout } from '../layout.js';
import { appSpec, listTree, permission, tempDir, writeTree } from '../testing/fixtures.js';

describe('hostPath', () => {
  it('is the resolved path without a destination root, and that path under the root with one', () => {
    expect(hostPath('/var/www/')).toBe('/var/www');
    expect(hostPath('/var/www', '/sim/host-7')).toBe('/sim/host-7/var/www');
    expect(hostPath('/var/../etc/app', '/sim/host-7')).toBe('/sim/host-7/etc/app');
    expect(hostPath('/', '/sim/host-7')).toBe('/sim/host-7');
  });
});

describe('Install with destination_root', () => {
  let work: string;
  beforeEach(() => {
    work = tempDir('fd-destroot-');
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it('copies files and applies permissions under the root, and records those paths for cleanup', async () => {
    const layout = createLayout(path.join(work, 'root'));
    const hostRoot = path.join(work, 'host-7');
    const install = async (deploymentId: string, files: Record<string, string>) => {
      const root = layout.deploymentRoot('g-1', deploymentId);
      writeTree(layout.archiveDir(root), files);
      await installRevision({
        layout,
        groupId: 'g-1',
        deploymentRoot: root,
        appSpec: appSpec({ files: [{ source: 'app', destination: '/srv/www' }], permissions: [permission('/srv/www', { mode: '640', types: ['file'] })] }),
        fileExistsBehavior: 'DISALLOW',
        destinationRoot: hostRoot,
      });
    };
    await install('d-1', { 'app/a.html': 'A', 'app/b.html': 'B' });
    expect(listTree(hostRoot)).toEqual(['srv/', 'srv/www/', 'srv/www/a.html', 'srv/www/b.html']);
    expect(fs.statSync(path.join(hostRoot, 'srv/www/a.html')).mode & 0o777).toBe(0o640);
    expect(fs.readFileSync(layout.cleanupFile('g-1'), 'utf8')).toContain(`${hostRoot}/srv/www/a.html\n`);
    // The next deployment's cleanup removes what the first placed under the root, and nothing outside it.
    await install('d-2', { 'app/a.html': 'A2' });
    expect(listTree(hostRoot)).toEqual(['srv/', 'srv/www/', 'srv/www/a.html']);
    expect(fs.existsSync('/srv/www/a.html') && fs.readFileSync('/srv/www/a.html', 'utf8') === 'A2').toBe(false);
  });
});
