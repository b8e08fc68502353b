import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import yauzl from 'yauzl';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBundleFolder, packBundle } from './pack-bundle.js';

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function folder(): string {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-pack-'));
  fs.mkdirSync(path.join(dir, 'hooks'));
  fs.mkdirSync(path.join(dir, 'empty'));
  fs.writeFileSync(path.join(dir, 'appspec.yml'), 'version: 0.0\nos: linux\n');
  fs.writeFileSync(path.join(dir, 'hooks/start.sh'), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, '.env'), 'secret');
  return dir;
}

function zipEntries(file: string): Promise<Array<{ name: string; mode: number }>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out: Array<{ name: string; mode: number }> = [];
      zip.on('entry', (e: yauzl.Entry) => {
        out.push({ name: e.fileName, mode: (e.externalFileAttributes >>> 16) & 0o777 });
        zip.readEntry();
      });
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  });
}

describe('packBundle', () => {
  it('zips every entry with its relative path and mode, hidden files left out on request', async () => {
    const packed = await packBundle(folder(), 'zip', { ignoreHidden: true });
    try {
      expect(await zipEntries(packed.file)).toEqual([
        { name: 'appspec.yml', mode: 0o644 },
        { name: 'empty/', mode: 0o755 },
        { name: 'hooks/', mode: 0o755 },
        { name: 'hooks/start.sh', mode: 0o755 },
      ]);
    } finally {
      packed.remove();
    }
    expect(fs.existsSync(packed.file)).toBe(false);
  });

  it('writes a gzipped tar with the same entries', async () => {
    const packed = await packBundle(folder(), 'tgz');
    const names: string[] = [];
    await tar.list({ file: packed.file, onReadEntry: (e) => void names.push(`${e.path} ${(e.mode ?? 0).toString(8)}`) });
    packed.remove();
    expect(names).toEqual(['.env 644', 'appspec.yml 644', 'empty/ 755', 'hooks/ 755', 'hooks/start.sh 755']);
  });

  it('refuses a folder without an AppSpec, and a missing folder', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-pack-'));
    expect(() => checkBundleFolder(dir)).toThrow(/has no appspec\.yml/);
    expect(() => checkBundleFolder(path.join(dir, 'nope'))).toThrow(/does not exist/);
    fs.writeFileSync(path.join(dir, 'appspec.yaml'), '');
    expect(checkBundleFolder(dir)).toBe('appspec.yaml');
  });
});
