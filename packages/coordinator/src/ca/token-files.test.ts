import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tokenFiles } from './token-files.js';

let root: string;
let dir: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-token-files-'));
  dir = path.join(root, 'enrolment');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('tokenFiles', () => {
  it('makes the folder 0700 on the first write and each file 0600', () => {
    const files = tokenFiles(dir);
    files.write('web-1', 'a\n');
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(dir, 'web-1.token'), 'utf8')).toBe('a\n');
    expect(fs.statSync(files.path('web-1')).mode & 0o777).toBe(0o600);
  });

  it('replaces an older token, and makes the folder again when it was removed after the first write', () => {
    const files = tokenFiles(dir);
    files.write('web-1', 'old\n');
    files.write('web-1', 'new\n');
    expect(fs.readFileSync(files.path('web-1'), 'utf8')).toBe('new\n');
    fs.rmSync(dir, { recursive: true });
    files.write('web-2', 'b\n');
    expect(fs.readFileSync(files.path('web-2'), 'utf8')).toBe('b\n');
  });

  it('replaces a symlink planted at the name instead of writing through it', () => {
    const files = tokenFiles(dir);
    files.write('web-1', 'a\n');
    const victim = path.join(root, 'victim');
    fs.writeFileSync(victim, 'keep\n');
    fs.rmSync(files.path('web-1'));
    fs.symlinkSync(victim, files.path('web-1'));
    files.write('web-1', 'token\n');
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep\n');
    expect(fs.lstatSync(files.path('web-1')).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(files.path('web-1'), 'utf8')).toBe('token\n');
  });

  it('removes a file, and is quiet when there is none', () => {
    const files = tokenFiles(dir);
    files.write('web-1', 'a\n');
    files.remove('web-1');
    expect(fs.existsSync(files.path('web-1'))).toBe(false);
    expect(() => files.remove('web-1')).not.toThrow();
    expect(() => tokenFiles(path.join(root, 'never-made')).remove('web-1')).not.toThrow();
  });

  it('refuses, naming the path, when a folder stands at the name', () => {
    const files = tokenFiles(dir);
    fs.mkdirSync(files.path('web-1'), { recursive: true });
    expect(() => files.write('web-1', 'a\n')).toThrow(/web-1\.token/);
  });
});
