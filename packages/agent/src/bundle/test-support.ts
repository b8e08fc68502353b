/**
 * Helpers shared by the bundle tests: a throwaway workspace with a sentinel "outside" folder, a
 * hand-written ustar encoder (node-tar and GNU tar both refuse to write the malicious headers the
 * tests need), and a python runner for crafting zips the usual tools will not produce.
 */
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeployError } from '@fleetdeploy/shared';
import { expect } from 'vitest';
import { unpackBundle } from './unpack.js';
import type { BundleLimits } from './unpack.js';
import type { ZipInflating } from './zip-unpack.js';

/** Workspace is one test's temp folder: bundles go in `dir`, `target` is where they unpack. */
export interface Workspace {
  dir: string;
  target: string;
  /** A folder next to the target that an escaping entry would land in; must stay empty. */
  outside: string;
  path(name: string): string;
  cleanup(): Promise<void>;
}

/** makeWorkspace creates the folders; the target sits two levels down so `../../x` has room. */
export async function makeWorkspace(): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'fd-bundle-'));
  const outside = join(dir, 'outside');
  await mkdir(outside);
  await mkdir(join(dir, 'deploy', 'root'), { recursive: true });
  return {
    dir,
    target: join(dir, 'deploy', 'root', 'deployment-archive'),
    outside,
    path: (name) => join(dir, name),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** exists tells whether anything (even a dangling link) is at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** listTree lists every path below `root`, relative, sorted, folders with a trailing slash. */
export async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const rel = prefix + d.name;
      if (d.isDirectory()) {
        out.push(`${rel}/`);
        await walk(join(dir, d.name), `${rel}/`);
      } else out.push(rel);
    }
  };
  await walk(root, '');
  return out.sort();
}

/** modeOf returns the permission bits of `path` (not following links). */
export async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

/** sh runs a program and returns its stdout; tests use it for system tar, zip and python. */
export function sh(file: string, args: readonly string[], cwd?: string): string {
  return execFileSync(file, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** python runs a python3 script (crafting zips with zipfile); argv[1..] are `args`. */
export function python(script: string, ...args: string[]): string {
  return sh('python3', ['-c', script, ...args]);
}

/** TarEntrySpec is one hand-made tar member. */
export interface TarEntrySpec {
  name: string;
  /** ustar type flag: '0' file, '1' hard link, '2' symlink, '3' char device, '5' dir, '6' FIFO... */
  type?: string;
  mode?: number;
  data?: Buffer | string;
  linkname?: string;
  /** Declared size, when it must differ from the data's (never for valid archives). */
  size?: number;
  mtime?: number;
  uid?: number;
  gid?: number;
}

/**
 * ustar encodes members exactly as given, `..` and absolute names included, with the two zero
 * blocks that end an archive.
 */
export function ustar(entries: readonly TarEntrySpec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    const header = Buffer.alloc(512);
    header.write(e.name, 0, 100, 'utf8');
    const type = e.type ?? '0';
    const mode = e.mode ?? (type === '5' ? 0o755 : 0o644);
    octal(header, 100, 8, mode);
    octal(header, 108, 8, e.uid ?? 0);
    octal(header, 116, 8, e.gid ?? 0);
    octal(header, 124, 12, e.size ?? data.length);
    octal(header, 136, 12, e.mtime ?? 1_700_000_000);
    header.write(type, 156, 1, 'latin1');
    if (e.linkname !== undefined) header.write(e.linkname, 157, 100, 'utf8');
    header.write('ustar\u000000', 257, 8, 'latin1');
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'latin1');
}

/** paxRecord is one pax header record (`<len> key=value\n`, the length counting itself). */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (`${len}${body}`.length !== len) len = `${len}${body}`.length;
  return `${len}${body}`;
}

/** writeBundle writes bytes to `path` and returns it. */
export async function writeBundle(path: string, bytes: Buffer): Promise<string> {
  await writeFile(path, bytes);
  return path;
}

/** NodeInfo is what a tree comparison looks at for one path. */
export interface NodeInfo {
  kind: 'file' | 'dir' | 'link';
  mode?: number;
  link?: string;
  content?: string;
  mtime?: number;
}

/**
 * describeTree maps every path below `root` to its kind, mode, content or link text and (when
 * `mtimes`) its mtime in whole seconds, for comparing an unpacked bundle with its source.
 */
export async function describeTree(root: string, opts: { mtimes: boolean; maskMode?: number }): Promise<Record<string, NodeInfo>> {
  const { readFile, readlink } = await import('node:fs/promises');
  const out: Record<string, NodeInfo> = {};
  for (const rel of await listTree(root)) {
    const path = join(root, rel);
    const info = await lstat(path);
    const mtime = opts.mtimes ? Math.floor(info.mtimeMs / 1000) : undefined;
    const mode = info.mode & (opts.maskMode ?? 0o7777);
    if (info.isSymbolicLink()) out[rel] = { kind: 'link', link: await readlink(path), ...(mtime === undefined ? {} : { mtime }) };
    else if (info.isDirectory()) out[rel] = { kind: 'dir', mode, ...(mtime === undefined ? {} : { mtime }) };
    else out[rel] = { kind: 'file', mode, content: await readFile(path, 'utf8'), ...(mtime === undefined ? {} : { mtime }) };
  }
  return out;
}

/**
 * makeSourceTree writes the tree the round-trip tests pack: odd modes (including ones the umask
 * would strip), nested and empty folders, links within the tree (also a link through another link,
 * as pnpm lays out node_modules), a hard link and a name longer than ustar's 100 bytes.
 */
export async function makeSourceTree(root: string, opts: { setuid: boolean; hardLink: boolean }): Promise<void> {
  const { chmod, symlink, link, lutimes, utimes } = await import('node:fs/promises');
  const file = async (rel: string, content: string, mode = 0o644): Promise<void> => {
    const p = join(root, rel);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, content);
    await chmod(p, mode);
  };
  await file('a.txt', 'alpha\n');
  await file('bin/run.sh', '#!/bin/sh\necho run\n', 0o755);
  await file('bin/group.sh', '#!/bin/sh\necho group\n', 0o775);
  await file('secret.key', 'hush\n', 0o600);
  await file('dir/nested/deep/file.txt', 'deep\n');
  await file(`long/${'x'.repeat(120)}/${'y'.repeat(60)}.txt`, 'long name\n');
  await file('.pnpm/foo/node_modules/foo/cli.js', 'cli\n', 0o755);
  if (opts.setuid) await file('bin/suid', 'suid\n', 0o4755);
  await mkdir(join(root, 'empty'));
  await chmod(join(root, 'empty'), 0o700);
  await mkdir(join(root, 'shared'));
  await chmod(join(root, 'shared'), 0o775);
  await mkdir(join(root, 'node_modules/.bin'), { recursive: true });
  await symlink('a.txt', join(root, 'link'));
  await symlink('../a.txt', join(root, 'bin/up'));
  await symlink('dir/nested', join(root, 'dirlink'));
  await symlink('../.pnpm/foo/node_modules/foo', join(root, 'node_modules/foo'));
  await symlink('../foo/cli.js', join(root, 'node_modules/.bin/foo'));
  if (opts.hardLink) await link(join(root, 'a.txt'), join(root, 'hard.txt'));
  // Fixed, distinct times, folders last so writing into them does not move their mtime again.
  const when = new Date('2024-03-01T12:00:00Z');
  const paths = await listTree(root);
  for (const rel of paths.filter((p) => !p.endsWith('/'))) await lutimes(join(root, rel), when, when);
  for (const rel of paths.filter((p) => p.endsWith('/')).reverse()) await utimes(join(root, rel), when, when);
}

/**
 * expectRefused unpacks a bundle that must be refused and asserts the refusal: an UnknownError
 * DeployError whose message matches, no target folder, nothing written beside or outside it.
 */
export async function expectRefused(
  ws: Workspace,
  bundle: string,
  type: 'tar' | 'tgz' | 'zip',
  message: RegExp,
  limits?: BundleLimits,
  zipInflating?: ZipInflating,
): Promise<void> {
  const err: unknown = await unpackBundle({ bundlePath: bundle, bundleType: type, targetDir: ws.target, ...(limits ? { limits } : {}), ...(zipInflating ? { zipInflating } : {}) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isDeployError(err), String(err)).toBe(true);
  expect((err as Error & { code: string }).code).toBe('UnknownError');
  expect((err as Error).message).toMatch(message);
  expect(await exists(ws.target)).toBe(false);
  expect(await readdir(ws.outside)).toEqual([]);
  expect(await listTree(join(ws.dir, 'deploy'))).toEqual(['root/']);
}
