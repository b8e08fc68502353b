import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installRevision } from './install.js';
import { createLayout } from '../layout.js';
import type { Layout } from '../layout.js';
import { appSpec, listTree, permission, tempDir, writeTree } from '../testing/fixtures.js';
import type { ServerAppSpec } from '@fleetdeploy/shared';
import { itWithTools } from '../../../../test/harness/system-tools.js';

let work: string;
let layout: Layout;
let dest: string;
let n = 0;

beforeEach(() => {
  work = tempDir('fd-install-');
  layout = createLayout(path.join(work, 'root'));
  dest = path.join(work, 'dest');
  fs.mkdirSync(dest);
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

/** Unpacks `files` as a new deployment of `group` and installs it with `spec`. */
async function deploy(files: Record<string, string>, spec: ServerAppSpec, opts: { group?: string; feb?: string } = {}) {
  const group = opts.group ?? 'g-1';
  const root = layout.deploymentRoot(group, `d-${++n}`);
  writeTree(layout.archiveDir(root), files);
  const summary = await installRevision({ layout, groupId: group, deploymentRoot: root, appSpec: spec, fileExistsBehavior: opts.feb ?? 'DISALLOW' });
  return { root, summary };
}

const cleanupOf = (group = 'g-1') => fs.readFileSync(layout.cleanupFile(group), 'utf8');
const read = (rel: string) => fs.readFileSync(path.join(dest, rel), 'utf8');

describe('files section', () => {
  it('copies a file source into its destination folder and records folder then file (FI-01)', async () => {
    await deploy({ 'app/a.txt': 'A' }, appSpec({ files: [{ source: 'app/a.txt', destination: `${dest}/srv` }] }));
    expect(read('srv/a.txt')).toBe('A');
    expect(cleanupOf()).toBe(`${dest}/srv\n${dest}/srv/a.txt\n`);
  });

  it('merges a folder source into the destination without re-creating the folder (FI-02)', async () => {
    await deploy({ 'web/x': 'x', 'web/y': 'y' }, appSpec({ files: [{ source: 'web', destination: `${dest}/www` }] }));
    expect(listTree(dest)).toEqual(['www/', 'www/x', 'www/y']);
  });

  it('copies the whole bundle, appspec included, for source / (FI-03)', async () => {
    await deploy({ 'appspec.yml': 'v', 'scripts/s.sh': '#!/bin/sh' }, appSpec({ files: [{ source: '/', destination: `${dest}/all` }] }));
    expect(listTree(dest)).toEqual(['all/', 'all/appspec.yml', 'all/scripts/', 'all/scripts/s.sh']);
  });

  it('creates missing ancestors top-down and records each (FI-04)', async () => {
    await deploy({ 'f.txt': 'f' }, appSpec({ files: [{ source: 'f.txt', destination: `${dest}/a/b/c` }] }));
    expect(cleanupOf()).toBe(`${dest}/a\n${dest}/a/b\n${dest}/a/b/c\n${dest}/a/b/c/f.txt\n`);
  });

  it('refuses two sources for one destination file and installs nothing (FI-05)', async () => {
    const spec = appSpec({ files: [{ source: 'x/same.txt', destination: `${dest}/d` }, { source: 'y/same.txt', destination: `${dest}/d` }] });
    await expect(deploy({ 'x/same.txt': '1', 'y/same.txt': '2' }, spec)).rejects.toThrow(/two source files named .*x\/same.txt and .*y\/same.txt for the same destination/);
    expect(listTree(dest)).toEqual([]);
  });

  it('creates a destination shared by two entries once (FI-06)', async () => {
    const spec = appSpec({ files: [{ source: 'a.txt', destination: `${dest}/d` }, { source: 'b.txt', destination: `${dest}/d` }] });
    await deploy({ 'a.txt': 'a', 'b.txt': 'b' }, spec);
    expect(cleanupOf().split('\n').filter((l) => l === `${dest}/d`)).toHaveLength(1);
  });

  it('reproduces and records empty folders (FI-07)', async () => {
    await deploy({ 'app/logs/': '' }, appSpec({ files: [{ source: 'app', destination: `${dest}/app` }] }));
    expect(fs.statSync(`${dest}/app/logs`).isDirectory()).toBe(true);
    expect(cleanupOf()).toContain(`${dest}/app/logs\n`);
  });

  it('recreates file and dangling symlinks as links and follows folder symlinks (FI-08)', async () => {
    const files = { 'app/v1.txt': 'one', 'app/dir/inner.txt': 'in' };
    const root = layout.deploymentRoot('g-1', 'd-links');
    const archive = layout.archiveDir(root);
    writeTree(archive, files);
    fs.symlinkSync('v1.txt', `${archive}/app/latest.txt`);
    fs.symlinkSync('nowhere', `${archive}/app/dangling`);
    fs.symlinkSync('dir', `${archive}/app/current`);
    await installRevision({ layout, groupId: 'g-1', deploymentRoot: root, appSpec: appSpec({ files: [{ source: 'app', destination: `${dest}/app` }] }), fileExistsBehavior: 'DISALLOW' });
    expect(fs.readlinkSync(`${dest}/app/latest.txt`)).toBe('v1.txt');
    expect(fs.readlinkSync(`${dest}/app/dangling`)).toBe('nowhere');
    expect(fs.lstatSync(`${dest}/app/current`).isDirectory()).toBe(true);
    expect(fs.readFileSync(`${dest}/app/current/inner.txt`, 'utf8')).toBe('in');
  });

  it('refuses a bundle whose folder symlink makes a loop', async () => {
    const root = layout.deploymentRoot('g-1', 'd-loop');
    const archive = layout.archiveDir(root);
    writeTree(archive, { 'app/a.txt': 'a' });
    fs.symlinkSync('..', `${archive}/app/up`);
    await expect(installRevision({ layout, groupId: 'g-1', deploymentRoot: root, appSpec: appSpec({ files: [{ source: 'app', destination: `${dest}/app` }] }), fileExistsBehavior: 'DISALLOW' })).rejects.toThrow(/directory loop/);
    expect(listTree(dest)).toEqual([]);
  });

  it('keeps mode and modification time of copied files (FI-09)', async () => {
    const root = layout.deploymentRoot('g-1', 'd-mode');
    const archive = layout.archiveDir(root);
    writeTree(archive, { 'bin/run': '#!/bin/sh\n' });
    fs.chmodSync(`${archive}/bin/run`, 0o751);
    const mtime = new Date('2020-02-02T02:02:02Z');
    fs.utimesSync(`${archive}/bin/run`, mtime, mtime);
    await installRevision({ layout, groupId: 'g-1', deploymentRoot: root, appSpec: appSpec({ files: [{ source: 'bin', destination: `${dest}/bin` }] }), fileExistsBehavior: 'DISALLOW' });
    const st = fs.statSync(`${dest}/bin/run`);
    expect(st.mode & 0o7777).toBe(0o751);
    expect(st.mtime.getTime()).toBe(mtime.getTime());
  });

  it('keeps sub-millisecond modification times, as cp -a does', async () => {
    const root = layout.deploymentRoot('g-1', 'd-mtime');
    const archive = layout.archiveDir(root);
    writeTree(archive, { 'a.txt': 'a' });
    // 1.5 ms past a whole second: a Date would keep 1 ms of it, seconds as a number keep it all.
    fs.utimesSync(`${archive}/a.txt`, 1_600_000_000.0015, 1_600_000_000.0015);
    await installRevision({ layout, groupId: 'g-1', deploymentRoot: root, appSpec: appSpec({ files: [{ source: 'a.txt', destination: `${dest}/d` }] }), fileExistsBehavior: 'DISALLOW' });
    const installed = fs.statSync(`${dest}/d/a.txt`, { bigint: true });
    const source = fs.statSync(`${archive}/a.txt`, { bigint: true });
    // Within a microsecond (a double holds today's seconds to about a quarter of one).
    const apart = installed.mtimeNs > source.mtimeNs ? installed.mtimeNs - source.mtimeNs : source.mtimeNs - installed.mtimeNs;
    expect(apart).toBeLessThanOrEqual(1000n);
  });

  it('refuses a source missing from the bundle before anything changes (FI-10, divergence: the AWS agent fails mid-install)', async () => {
    await deploy({ 'a.txt': 'a' }, appSpec({ files: [{ source: 'a.txt', destination: `${dest}/d` }] }));
    await expect(deploy({ 'a.txt': 'a' }, appSpec({ files: [{ source: 'missing.txt', destination: `${dest}/d` }] }))).rejects.toThrow(/files\[0\]\.source: missing.txt does not exist in the bundle/);
    expect(read('d/a.txt')).toBe('a');
  });

  it('refuses a bundle folder that lands on an existing file before anything changes (FI-11, divergence: found at plan time)', async () => {
    writeTree(dest, { 'srv/conf': 'a file' });
    await expect(deploy({ 'app/conf/x': 'x' }, appSpec({ files: [{ source: 'app', destination: `${dest}/srv` }] }))).rejects.toThrow(`cannot create the directory ${dest}/srv/conf: a file already exists at that path`);
    expect(read('srv/conf')).toBe('a file');
  });

  it('refuses a file and a folder planned at one path', async () => {
    const spec = appSpec({ files: [{ source: 'x/d', destination: `${dest}` }, { source: 'y', destination: `${dest}` }] });
    await expect(deploy({ 'x/d': 'file', 'y/d/inner': 'i' }, spec)).rejects.toThrow(/mkdir command more than once/);
    const spec2 = appSpec({ files: [{ source: 'y', destination: `${dest}` }, { source: 'x/d', destination: `${dest}` }] });
    await expect(deploy({ 'x/d': 'file', 'y/d/inner': 'i' }, spec2)).rejects.toThrow(/where a directory is also to be created/);
    expect(listTree(dest)).toEqual([]);
  });
});

describe('file-exists behaviour and cleanup', () => {
  const files = { 'app/conf.txt': 'NEW', 'app/other.txt': 'other' };
  const spec = () => appSpec({ files: [{ source: 'app', destination: `${dest}/app` }] });

  it('redeploys its own files to the same group without conflict (FE-01)', async () => {
    await deploy(files, spec());
    await deploy(files, spec());
    expect(read('app/conf.txt')).toBe('NEW');
  });

  it('DISALLOW fails on a file no deployment installed and leaves the previous revision in place (FE-02, improvement)', async () => {
    await deploy({ 'app/old.txt': 'old' }, spec());
    const before = cleanupOf();
    writeTree(dest, { 'app/conf.txt': 'MANUAL' });
    await expect(deploy(files, spec())).rejects.toThrow(`The deployment failed because a specified file already exists at this location: ${dest}/app/conf.txt`);
    expect(read('app/old.txt')).toBe('old');
    expect(read('app/conf.txt')).toBe('MANUAL');
    expect(fs.existsSync(`${dest}/app/other.txt`)).toBe(false);
    expect(cleanupOf()).toBe(before);
  });

  it('OVERWRITE replaces the file and owns it from then on (FE-03)', async () => {
    writeTree(dest, { 'app/conf.txt': 'MANUAL' });
    await deploy(files, spec(), { feb: 'OVERWRITE' });
    expect(read('app/conf.txt')).toBe('NEW');
    expect(cleanupOf()).toContain(`${dest}/app/conf.txt\n`);
    await deploy({ 'app/other.txt': 'other' }, spec());
    expect(fs.existsSync(`${dest}/app/conf.txt`)).toBe(false);
  });

  it('RETAIN keeps the file, never records it, and a later DISALLOW still conflicts (FE-04)', async () => {
    writeTree(dest, { 'app/conf.txt': 'MANUAL' });
    await deploy(files, spec(), { feb: 'retain' });
    expect(read('app/conf.txt')).toBe('MANUAL');
    expect(cleanupOf()).not.toContain('conf.txt');
    await expect(deploy(files, spec())).rejects.toThrow(/already exists at this location: .*conf.txt/);
  });

  it("the AppSpec's file_exists_behavior wins over the deployment's (FE-05)", async () => {
    writeTree(dest, { 'app/conf.txt': 'MANUAL' });
    await deploy(files, appSpec({ files: [{ source: 'app', destination: `${dest}/app` }], fileExistsBehavior: 'OVERWRITE' }), { feb: 'RETAIN' });
    expect(read('app/conf.txt')).toBe('NEW');
  });

  it('an invalid deployment behaviour matters only when a file conflicts (FE-06)', async () => {
    await deploy(files, spec(), { feb: 'BOGUS', group: 'g-x' });
    await expect(deploy(files, spec(), { feb: 'BOGUS', group: 'g-y' })).rejects.toThrow('invalid option was specified for fileExistsBehavior: BOGUS');
  });

  it("another group's files conflict under DISALLOW (FE-07)", async () => {
    await deploy(files, spec(), { group: 'g-a' });
    await expect(deploy(files, spec(), { group: 'g-b' })).rejects.toThrow(/already exists/);
  });

  it('keeps a recorded folder that a script filled, removes what was recorded (FE-09)', async () => {
    await deploy({ 'app/a.txt': 'a' }, spec());
    writeTree(dest, { 'app/made-by-script.log': 'x' });
    await deploy({ 'other/b.txt': 'b' }, appSpec({ files: [{ source: 'other', destination: `${dest}/other` }] }));
    expect(listTree(`${dest}/app`)).toEqual(['made-by-script.log']);
  });

  it('removes a recorded symlink to a folder without touching the folder (FE-10)', async () => {
    writeTree(dest, { 'keep/inside.txt': 'keep' });
    fs.mkdirSync(layout.instructionsDir, { recursive: true });
    fs.symlinkSync(`${dest}/keep`, `${dest}/link`);
    fs.writeFileSync(layout.cleanupFile('g-1'), `${dest}/link\n${dest}/gone-already\n`);
    await deploy({ 'a.txt': 'a' }, appSpec({ files: [{ source: 'a.txt', destination: dest }] }));
    expect(fs.existsSync(`${dest}/link`)).toBe(false);
    expect(read('keep/inside.txt')).toBe('keep');
  });

  it('cleans up across three successive deployments', async () => {
    await deploy({ 'app/a.txt': 'a', 'app/sub/s.txt': 's' }, spec());
    await deploy({ 'app/b.txt': 'b' }, spec());
    expect(listTree(dest)).toEqual(['app/', 'app/b.txt']);
    await deploy({ 'app/c.txt': 'c', 'app/sub/t.txt': 't' }, spec());
    expect(listTree(dest)).toEqual(['app/', 'app/c.txt', 'app/sub/', 'app/sub/t.txt']);
  });

  it('OVERWRITE of a symlink replaces the link instead of writing through it', async () => {
    writeTree(work, { 'victim.txt': 'precious' });
    fs.mkdirSync(`${dest}/app`);
    fs.symlinkSync(`${work}/victim.txt`, `${dest}/app/conf.txt`);
    await deploy(files, spec(), { feb: 'OVERWRITE' });
    expect(fs.readFileSync(`${work}/victim.txt`, 'utf8')).toBe('precious');
    expect(fs.lstatSync(`${dest}/app/conf.txt`).isSymbolicLink()).toBe(false);
    expect(read('app/conf.txt')).toBe('NEW');
  });

  it('refuses to OVERWRITE a folder with a file (divergence: the AWS agent copies into the folder)', async () => {
    fs.mkdirSync(`${dest}/app/conf.txt`, { recursive: true });
    await expect(deploy(files, spec(), { feb: 'OVERWRITE' })).rejects.toThrow(`cannot overwrite the directory ${dest}/app/conf.txt`);
  });

  it('writes install.json and the last-successful-install marker', async () => {
    const { root } = await deploy({ 'a.txt': 'a' }, appSpec({ files: [{ source: 'a.txt', destination: dest }] }));
    expect(JSON.parse(fs.readFileSync(layout.installJson('g-1'), 'utf8'))).toEqual({
      instructions: [{ type: 'copy', source: `${layout.archiveDir(root)}/a.txt`, destination: `${dest}/a.txt` }],
    });
    expect(fs.readFileSync(layout.lastSuccessfulInstallMarker('g-1'), 'utf8')).toBe(root);
  });
});

describe('permissions', () => {
  const bundle = { 'app/conf/a.conf': 'a', 'app/conf/b.conf': 'b', 'app/conf/keep.txt': 'k', 'app/bin/run': 'r', 'app/sub/deep/x.txt': 'x', 'app/top.txt': 't' };
  const files = [{ source: 'app', destination: `${'DEST'}/app` }];
  const withDest = () => files.map((f) => ({ ...f, destination: f.destination.replace('DEST', dest) }));
  const mode = (rel: string) => (fs.statSync(path.join(dest, rel)).mode & 0o7777).toString(8);

  it('applies pattern, except and type like the AWS agent, never to the object folder itself', async () => {
    await deploy(bundle, appSpec({
      files: withDest(),
      permissions: [
        permission(`${dest}/app/conf`, { pattern: '*.conf', except: ['b.conf'], mode: '600', types: ['file'] }),
        permission(`${dest}/app/bin`, { mode: '755', types: ['file'] }),
        permission(`${dest}/app`, { mode: '750', types: ['directory'] }),
      ],
    }));
    expect([mode('app'), mode('app/bin'), mode('app/conf'), mode('app/sub/deep')]).toEqual(['755', '750', '750', '750']);
    expect([mode('app/conf/a.conf'), mode('app/conf/b.conf'), mode('app/conf/keep.txt'), mode('app/bin/run')]).toEqual(['600', '644', '644', '755']);
  });

  it('matches a simple pattern only among immediate children, with ** at any depth (PE-02, PE-03)', async () => {
    await deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app`, { pattern: '*.txt', mode: '640', types: ['file'] })] }));
    expect([mode('app/top.txt'), mode('app/sub/deep/x.txt')]).toEqual(['640', '644']);
  });

  it('never matches an except entry that contains a slash (PE-04)', async () => {
    await deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app`, { except: ['sub/deep'], mode: '700', types: ['directory'] })] }));
    expect(mode('app/sub/deep')).toBe('700');
  });

  it('leaves pre-existing files alone', async () => {
    writeTree(dest, { 'app/manual.txt': 'm' });
    await deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app`, { mode: '600', types: ['file'] })] }));
    expect([mode('app/manual.txt'), mode('app/top.txt')]).toEqual(['644', '600']);
  });

  it('refuses a pattern on a file object (PE-05)', async () => {
    await expect(deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app/top.txt`, { pattern: '*.txt', types: ['file'] })] }))).rejects.toThrow(/invalid pattern \(\*\.txt\)/);
  });

  it('refuses an except list on a file object', async () => {
    await expect(deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app/top.txt`, { except: ['x'], types: ['file'] })] }))).rejects.toThrow(/except parameter for a pattern/);
  });

  it('refuses a path given permissions twice (PE-06)', async () => {
    await expect(deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app/top.txt`, { mode: '600' }), permission(`${dest}/app`, { mode: '644' })] }))).rejects.toThrow(`permissions setting for (${dest}/app/top.txt) is specified more than once`);
    expect(listTree(dest)).toEqual([]);
  });

  it('ignores an object that is neither installed nor present (PE-07)', async () => {
    await deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/nowhere`, { mode: '600' })] }));
    expect(mode('app/top.txt')).toBe('644');
  });

  itWithTools(['setfacl'], 'orders chmod, setfacl, semanage and chown per object in install.json (PE-08)', async () => {
    const spec = appSpec({ files: [{ source: 'app/top.txt', destination: dest }], permissions: [permission(`${dest}/top.txt`, { mode: '640', acls: ['user:root:rw-'], owner: 'root', types: ['file'] })] });
    await deploy(bundle, spec);
    const types = JSON.parse(fs.readFileSync(layout.installJson('g-1'), 'utf8')).instructions.map((i: { type: string }) => i.type);
    expect(types).toEqual(['copy', 'chmod', 'setfacl', 'chown']);
  });

  it('refuses a default ACL entry on a file (PE-09)', async () => {
    await expect(deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app/top.txt`, { acls: ['default:user:root:rw-'], types: ['file'] })] }))).rejects.toThrow(/-d parameter has been specified/);
  });

  it('fails on an unknown owner after copying, and the next install removes what was copied (PE-10)', async () => {
    await expect(deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app`, { owner: 'nosuchuser-fd', types: ['file'] })] }))).rejects.toThrow('the user nosuchuser-fd does not exist on this host');
    expect(cleanupOf()).toContain(`${dest}/app/top.txt\n`);
    await deploy({ 'z.txt': 'z' }, appSpec({ files: [{ source: 'z.txt', destination: `${dest}/z` }] }));
    expect(listTree(dest)).toEqual(['z/', 'z/z.txt']);
  });

  it('sets owner and group by name', async () => {
    await deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app/top.txt`, { owner: 'nobody', group: 'nogroup', types: ['file'] })] }));
    const st = fs.statSync(`${dest}/app/top.txt`);
    expect(st.uid).toBe(65534);
    expect(st.gid).toBe(65534);
  });

  it('fails clearly on an unknown group', async () => {
    await expect(deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app/top.txt`, { group: 'nosuchgroup-fd', types: ['file'] })] }))).rejects.toThrow('the group nosuchgroup-fd does not exist on this host');
  });

  itWithTools(['setfacl', 'getfacl'], 'applies ACL entries through setfacl with base entries from the mode', async () => {
    await deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app/top.txt`, { mode: '640', acls: ['user:nobody:rw-'], types: ['file'] })] }));
    const { execFileSync } = await import('node:child_process');
    const acl = execFileSync('getfacl', ['-c', `${dest}/app/top.txt`], { encoding: 'utf8' });
    expect(acl).toMatch(/^user:nobody:rw-\s+#effective:r--$/m);
    expect(acl).toMatch(/^user::rw-$/m);
    expect(acl).toMatch(/^other::---$/m);
  });

  itWithTools(['setfacl', 'getfacl'], 'keeps the mode the AppSpec asked for when a named ACL entry grants more, as the AWS agent does (the mask is the group bits)', async () => {
    const { execFileSync } = await import('node:child_process');
    await deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app/top.txt`, { mode: '640', acls: ['user:nobody:rwx'], types: ['file'] })] }));
    expect(mode('app/top.txt')).toBe('640');
    const acl = execFileSync('getfacl', ['-c', `${dest}/app/top.txt`], { encoding: 'utf8' });
    expect(acl).toMatch(/^user:nobody:rwx\s+#effective:r--$/m);
    expect(acl).toMatch(/^mask::r--$/m);
  });

  itWithTools(['setfacl', 'getfacl'], 'gives a directory the default mask of its default group entry', async () => {
    const { execFileSync } = await import('node:child_process');
    await deploy(bundle, appSpec({ files: withDest(), permissions: [permission(`${dest}/app`, { mode: '750', acls: ['default:user:nobody:rwx'], types: ['directory'] })] }));
    const acl = execFileSync('getfacl', ['-c', `${dest}/app/sub`], { encoding: 'utf8' });
    expect(acl).toMatch(/^default:user:nobody:rwx\s+#effective:r-x$/m);
    expect(acl).toMatch(/^default:mask::r-x$/m);
    expect(mode('app/sub')).toBe('750');
  });
});

describe('permission tools that the host lacks', () => {
  const tools = { setfacl: '/nonexistent/setfacl', semanage: '/nonexistent/semanage', restorecon: '/nonexistent/restorecon', chcon: '/nonexistent/chcon', getent: 'getent' };
  async function installWith(perm: ReturnType<typeof permission>, toolsUsed = tools) {
    const root = layout.deploymentRoot('g-1', `d-${++n}`);
    writeTree(layout.archiveDir(root), { 'a.txt': 'a' });
    return installRevision({ layout, groupId: 'g-1', deploymentRoot: root, appSpec: appSpec({ files: [{ source: 'a.txt', destination: dest }], permissions: [perm] }), fileExistsBehavior: 'DISALLOW', tools: toolsUsed });
  }

  it('names setfacl and its package when ACLs are asked for and setfacl is missing', async () => {
    await expect(installWith(permission(`${dest}/a.txt`, { acls: ['user:nobody:r--'], types: ['file'] }))).rejects.toThrow(`Install failed setting the ACL of ${dest}/a.txt: /nonexistent/setfacl is not installed on this host (install the acl package)`);
  });

  it('names semanage and chcon when an SELinux context is asked for and neither is installed', async () => {
    await expect(installWith(permission(`${dest}/a.txt`, { context: { type: 'httpd_sys_content_t' }, types: ['file'] }))).rejects.toThrow(`Install failed labelling ${dest}/a.txt: neither /nonexistent/semanage (policycoreutils) nor /nonexistent/chcon (coreutils) is installed on this host`);
  });

  it('falls back to chcon without semanage and says so when SELinux is off', async () => {
    const selinuxOn = fs.existsSync('/sys/fs/selinux/enforce');
    const result = installWith(permission(`${dest}/a.txt`, { context: { type: 'httpd_sys_content_t', range: 's0' }, types: ['file'] }), { ...tools, chcon: 'chcon' });
    if (selinuxOn) await expect(result).resolves.toBeDefined();
    else await expect(result).rejects.toThrow(/\/nonexistent\/semanage is not installed and chcon failed \(is SELinux enabled on this host\?\)/);
  });
});

describe('special mode bits', () => {
  it('keeps setuid and setgid bits of a copied file, which chown would clear', async () => {
    const root = layout.deploymentRoot('g-1', 'd-setuid');
    const archive = layout.archiveDir(root);
    writeTree(archive, { 'bin/tool': 'x' });
    fs.chmodSync(`${archive}/bin/tool`, 0o6755);
    await installRevision({ layout, groupId: 'g-1', deploymentRoot: root, appSpec: appSpec({ files: [{ source: 'bin', destination: `${dest}/bin` }] }), fileExistsBehavior: 'DISALLOW' });
    expect(fs.statSync(`${dest}/bin/tool`).mode & 0o7777).toBe(0o6755);
  });
});

describe('ownership of copies (as root)', () => {
  it.runIf(process.getuid?.() === 0)("keeps the source's owner, and a setgid folder's group does not replace it", async () => {
    const root = layout.deploymentRoot('g-1', 'd-owner');
    const archive = layout.archiveDir(root);
    writeTree(archive, { 'app/mine.txt': 'm', 'app/theirs.txt': 't' });
    fs.chownSync(`${archive}/app/theirs.txt`, 65534, 65534);
    fs.mkdirSync(`${dest}/shared`);
    fs.chownSync(`${dest}/shared`, 0, 65534);
    fs.chmodSync(`${dest}/shared`, 0o2775);
    await installRevision({ layout, groupId: 'g-1', deploymentRoot: root, appSpec: appSpec({ files: [{ source: 'app', destination: `${dest}/shared` }] }), fileExistsBehavior: 'DISALLOW' });
    expect(fs.statSync(`${dest}/shared/theirs.txt`)).toMatchObject({ uid: 65534, gid: 65534 });
    expect(fs.statSync(`${dest}/shared/mine.txt`)).toMatchObject({ uid: 0, gid: 0 });
  });
});
