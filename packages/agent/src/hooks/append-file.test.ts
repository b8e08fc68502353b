import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendFile } from './append-file.js';
import { tempDir } from '../testing/fixtures.js';

let work: string;
beforeEach(() => {
  work = tempDir('fd-append-');
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

describe('AppendFile', () => {
  it('creates its folder on the first write and appends across close and reopen', async () => {
    const file = new AppendFile(path.join(work, 'a/b/log'));
    expect(fs.existsSync(path.join(work, 'a'))).toBe(false);
    file.write('one\n');
    await file.close();
    file.write('two\n');
    await file.close();
    expect(fs.readFileSync(path.join(work, 'a/b/log'), 'utf8')).toBe('one\ntwo\n');
  });

  it('rotates at the size limit, keeping the newest files only', async () => {
    const p = path.join(work, 'deployments.log');
    const file = new AppendFile(p, { maxBytes: 10, files: 3 });
    for (const line of ['aaaaaaaaa\n', 'bbbbbbbbb\n', 'ccccccccc\n', 'ddddddddd\n']) file.write(line);
    await file.close();
    expect(fs.readFileSync(p, 'utf8')).toBe('ddddddddd\n');
    expect(fs.readFileSync(`${p}.0`, 'utf8')).toBe('ccccccccc\n');
    expect(fs.readFileSync(`${p}.1`, 'utf8')).toBe('bbbbbbbbb\n');
    expect(fs.existsSync(`${p}.2`)).toBe(false);
  });

  it('rotates a file that was already full when opened', async () => {
    const p = path.join(work, 'full.log');
    fs.writeFileSync(p, 'x'.repeat(20));
    const file = new AppendFile(p, { maxBytes: 10, files: 2 });
    file.write('new\n');
    await file.close();
    expect(fs.readFileSync(p, 'utf8')).toBe('new\n');
    expect(fs.readFileSync(`${p}.0`, 'utf8')).toBe('x'.repeat(20));
  });

  it('reports a write it could not make on flush, without throwing from write', async () => {
    fs.writeFileSync(path.join(work, 'file'), '');
    const file = new AppendFile(path.join(work, 'file/inside.log'));
    expect(() => file.write('x')).not.toThrow();
    await expect(file.flush()).rejects.toThrow(/ENOTDIR|EEXIST/);
  });
});
