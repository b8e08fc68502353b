/**
 * Packing a revision folder into a bundle file, as `aws deploy push` does: the folder must hold its
 * AppSpec at the top; every file goes in with its path relative to the folder and its mode (so hook
 * scripts stay executable). Archives are streamed to a file in the temp dir, never held in memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import yazl from 'yazl';
import { CliError, CliErrorCode } from '../cli-error.js';
import type { BundleType } from './s3-location.js';

/** APPSPEC_NAMES are the names the agent looks for at the top of a bundle, in order. */
export const APPSPEC_NAMES = ['appspec.yml', 'appspec.yaml'] as const;

/** PackedBundle is a bundle file the caller uploads and then removes. */
export interface PackedBundle {
  readonly file: string;
  readonly size: number;
  readonly bundleType: BundleType;
  readonly entries: number;
  /** remove deletes the file and its temporary folder. */
  remove(): void;
}

/** PackOptions choose what goes in. */
export interface PackOptions {
  /** Leave out files and folders whose names start with a dot (aws deploy push --ignore-hidden-files). */
  ignoreHidden?: boolean;
}

/**
 * checkBundleFolder throws BAD_BUNDLE unless `dir` is a folder with an AppSpec file at its top;
 * returns the AppSpec's name.
 */
export function checkBundleFolder(dir: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new CliError(CliErrorCode.BAD_BUNDLE, `${dir} does not exist: give the folder that holds your appspec.yml`);
  }
  if (!stat.isDirectory()) throw new CliError(CliErrorCode.BAD_BUNDLE, `${dir} is not a folder: give the folder that holds your appspec.yml`);
  const found = APPSPEC_NAMES.find((n) => fs.existsSync(path.join(dir, n)));
  if (found === undefined) throw new CliError(CliErrorCode.BAD_BUNDLE, `${dir} has no appspec.yml: put the AppSpec file at the top of the revision folder`);
  return found;
}

/** Entry is one path of the folder, relative to it with forward slashes. */
interface Entry {
  readonly rel: string;
  readonly abs: string;
  readonly stat: fs.Stats;
}

/** listEntries walks `dir` in name order; symbolic links are followed for zip (which has no links) and kept for tar. */
function listEntries(dir: string, opts: PackOptions): Entry[] {
  const out: Entry[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const name of fs.readdirSync(abs).sort()) {
      if (opts.ignoreHidden && name.startsWith('.')) continue;
      const childAbs = path.join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const stat = fs.lstatSync(childAbs);
      out.push({ rel: childRel, abs: childAbs, stat });
      if (stat.isDirectory()) walk(childAbs, childRel);
    }
  };
  walk(dir, '');
  return out;
}

/** packBundle checks the folder and writes it as a zip, tgz or tar file in a new temp folder. */
export async function packBundle(dir: string, bundleType: BundleType, opts: PackOptions = {}): Promise<PackedBundle> {
  checkBundleFolder(dir);
  const entries = listEntries(dir, opts);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetdeploy-push-'));
  const file = path.join(tmp, `bundle.${bundleType}`);
  const remove = (): void => fs.rmSync(tmp, { recursive: true, force: true });
  try {
    if (bundleType === 'zip') await writeZip(file, entries);
    else await tar.create({ file, cwd: dir, gzip: bundleType === 'tgz', portable: true, noDirRecurse: true }, entries.map((e) => e.rel));
  } catch (err) {
    remove();
    throw new CliError(CliErrorCode.BAD_BUNDLE, `cannot pack ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return { file, size: fs.statSync(file).size, bundleType, entries: entries.length, remove };
}

async function writeZip(file: string, entries: readonly Entry[]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    if (e.stat.isDirectory()) {
      zip.addEmptyDirectory(e.rel, { mode: e.stat.mode, mtime: e.stat.mtime });
    } else if (e.stat.isFile() || e.stat.isSymbolicLink()) {
      const target = fs.statSync(e.abs); // zip keeps no links: store what the link points at
      if (target.isDirectory()) throw new Error(`${e.rel} is a link to a folder, which a zip bundle cannot hold; use --bundle-type tgz`);
      zip.addFile(e.abs, e.rel, { mode: target.mode, mtime: target.mtime });
    }
  }
  zip.end();
  await pipeline(zip.outputStream, fs.createWriteStream(file));
}
