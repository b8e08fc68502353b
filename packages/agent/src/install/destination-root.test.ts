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

describe('Install with destination_root judges symbolic links where they are installed', () => {
  let work: string;
  let layout: ReturnType<typeof createLayout>;
  let hostRoot: string;
  let n = 0;
  beforeEach(() => {
    work = tempDir('fd-destroot-links-');
    layout = createLayout(path.join(work, 'root'));
    hostRoot = path.join(work, 'host-7');
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  /** Unpacks `files` plus the links `links` (path → target) and installs them under hostRoot (or, given null, without one). */
  const install = async (files: Record<string, string>, links: Record<string, string>, mappings: Array<{ source: string; destination: string }>, destinationRoot: string | null = hostRoot) => {
    const root = layout.deploymentRoot('g-1', `d-${++n}`);
    const archive = layout.archiveDir(root);
    writeTree(archive, files);
    for (const [at, target] of Object.entries(links)) {
      fs.mkdirSync(path.dirname(path.join(archive, at)), { recursive: true });
      fs.symlinkSync(target, path.join(archive, at));
    }
    await installRevision({
      layout,
      groupId: 'g-1',
      deploymentRoot: root,
      appSpec: appSpec({ files: mappings }),
      fileExistsBehavior: 'DISALLOW',
      ...(destinationRoot === null ? {} : { destinationRoot }),
    });
  };

  // app/sub/l -> ../../x resolves to x inside the bundle; installed from app/sub to /a it sits one level
  // below the root, so its two steps up leave it.
  const bundle = { 'x': 'X', 'app/sub/f.txt': 'F' };
  const links = { 'app/sub/l': '../../x' };

  it('refuses a link that is inside the bundle but climbs out of the root once installed nearer to it, before writing anything', async () => {
    await expect(install(bundle, links, [{ source: 'app/sub', destination: '/a' }])).rejects.toThrow(
      `the bundle's symbolic link app/sub/l -> ../../x would be installed at ${hostRoot}/a/l, from where it leads outside destination_root ${hostRoot}: its target climbs above the root`,
    );
    expect(fs.existsSync(hostRoot)).toBe(false);
    expect(fs.existsSync(layout.cleanupFile('g-1'))).toBe(false);
  });

  it('installs the same link where it stays inside the root, with its link text unchanged', async () => {
    await install(bundle, links, [{ source: 'app/sub', destination: '/srv/a' }]);
    expect(fs.readlinkSync(path.join(hostRoot, 'srv/a/l'))).toBe('../../x');
    expect(listTree(hostRoot)).toEqual(['srv/', 'srv/a/', 'srv/a/f.txt', 'srv/a/l']);
  });

  it('refuses a link installed as a single file source whose target leaves the root', async () => {
    await expect(install({ 'x': 'X' }, { 'app/l': '../x' }, [{ source: 'app/l', destination: '/' }])).rejects.toThrow(
      `the bundle's symbolic link app/l -> ../x would be installed at ${hostRoot}/l, from where it leads outside destination_root ${hostRoot}: its target climbs above the root`,
    );
    expect(fs.existsSync(hostRoot)).toBe(false);
  });

  it('refuses an absolute target that is not under the root, and keeps it as today without a root', async () => {
    const abs = { 'app/hostname': '/etc/hostname' };
    await expect(install({ 'app/f.txt': 'F' }, abs, [{ source: 'app', destination: '/srv' }])).rejects.toThrow(
      `the bundle's symbolic link app/hostname -> /etc/hostname would be installed at ${hostRoot}/srv/hostname, from where it leads outside destination_root ${hostRoot}: its target is absolute, and an absolute target is read from the host's /, not from destination_root`,
    );
    expect(fs.existsSync(hostRoot)).toBe(false);
    const dest = path.join(work, 'plain');
    await install({ 'app/f.txt': 'F' }, abs, [{ source: 'app', destination: dest }], null);
    expect(fs.readlinkSync(path.join(dest, 'hostname'))).toBe('/etc/hostname');
  });

  it('accepts an absolute target that names a path under the root', async () => {
    await install({ 'app/f.txt': 'F' }, { 'app/shared': `${hostRoot}/srv/f.txt` }, [{ source: 'app', destination: '/srv' }]);
    expect(fs.readlinkSync(path.join(hostRoot, 'srv/shared'))).toBe(`${hostRoot}/srv/f.txt`);
  });

  it('follows a symbolic link already on the host under the root, and refuses a link that leaves through it', async () => {
    fs.mkdirSync(path.join(hostRoot, 'srv'), { recursive: true });
    fs.symlinkSync('/etc', path.join(hostRoot, 'srv/shared'));
    await expect(install({ 'app/f.txt': 'F' }, { 'app/cfg': '../shared/passwd' }, [{ source: 'app', destination: '/srv/www' }])).rejects.toThrow(
      `the bundle's symbolic link app/cfg -> ../shared/passwd would be installed at ${hostRoot}/srv/www/cfg, from where it leads outside destination_root ${hostRoot}: it goes through the symbolic link ${hostRoot}/srv/shared -> /etc, which points outside the root`,
    );
    expect(listTree(hostRoot)).toEqual(['srv/', 'srv/shared']);
  });

  it('without a destination root installs a link that climbs out of where it lands, as the AWS agent does', async () => {
    const dest = path.join(work, 'plain');
    await install(bundle, links, [{ source: 'app/sub', destination: `${dest}/a` }], null);
    expect(fs.readlinkSync(path.join(dest, 'a/l'))).toBe('../../x');
  });
});
