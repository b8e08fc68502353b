import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { replacing, replacingAsync } from './replacing.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-replacing-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const createExclusive = (p: string, text: string) => () => fs.writeFileSync(p, text, { flag: 'wx' });

describe('replacing', () => {
  it('creates a new path with one call', () => {
    const p = path.join(dir, 'a');
    let calls = 0;
    replacing(p, () => {
      calls += 1;
      createExclusive(p, 'new')();
    });
    expect(calls).toBe(1);
    expect(fs.readFileSync(p, 'utf8')).toBe('new');
  });

  it('unlinks what is in the way and creates again, returning what create returns', () => {
    const p = path.join(dir, 'a');
    fs.writeFileSync(p, 'old');
    const fd = replacing(p, () => fs.openSync(p, 'wx'));
    fs.writeSync(fd, 'new');
    fs.closeSync(fd);
    expect(fs.readFileSync(p, 'utf8')).toBe('new');
  });

  it('replaces a symbolic link instead of writing through it', () => {
    const target = path.join(dir, 'target');
    const p = path.join(dir, 'link');
    fs.writeFileSync(target, 'keep');
    fs.symlinkSync(target, p);
    replacing(p, createExclusive(p, 'new'));
    expect(fs.lstatSync(p).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(target, 'utf8')).toBe('keep');
  });

  it('passes on an error other than EEXIST without unlinking anything', () => {
    const p = path.join(dir, 'missing', 'a');
    expect(() => replacing(p, createExclusive(p, 'x'))).toThrow(/ENOENT/);
  });

  it('gives up when the path is taken again after the unlink', () => {
    const p = path.join(dir, 'a');
    fs.writeFileSync(p, 'old');
    expect(() => replacing(p, () => {
      if (!fs.existsSync(p)) fs.writeFileSync(p, 'raced');
      createExclusive(p, 'new')();
    })).toThrow(/EEXIST/);
    expect(fs.readFileSync(p, 'utf8')).toBe('raced');
  });
});

describe('replacingAsync', () => {
  it('unlinks what is in the way once and awaits the second create', async () => {
    const p = path.join(dir, 'a');
    fs.writeFileSync(p, 'old');
    const handle = await replacingAsync(p, () => fs.promises.open(p, 'wx'));
    await handle.writeFile('new');
    await handle.close();
    expect(fs.readFileSync(p, 'utf8')).toBe('new');
  });

  it('passes on an error other than EEXIST', async () => {
    const p = path.join(dir, 'missing', 'a');
    await expect(replacingAsync(p, () => fs.promises.open(p, 'wx'))).rejects.toThrow(/ENOENT/);
  });
});
