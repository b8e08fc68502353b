import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCleanup, performCleanup, predictCleanup } from './cleanup.js';
import { listTree, tempDir, writeTree } from '../testing/fixtures.js';

let work = '';
afterEach(() => work && fs.rmSync(work, { recursive: true, force: true }));

describe('parseCleanup', () => {
  it('reads one trimmed path per line', () => {
    expect(parseCleanup('/a\n /b \n\n')).toEqual(['/a', '/b']);
  });
  it('drops a last line without its newline, as an interrupted write (FE-08)', () => {
    expect(parseCleanup('/a\n/b\n/half')).toEqual(['/a', '/b']);
  });
  it('reads an empty file as nothing', () => {
    expect(parseCleanup('')).toEqual([]);
  });
});

describe('predictCleanup and performCleanup', () => {
  it('agree: files go, folders go only when emptied, missing paths are ignored (FE-11)', async () => {
    work = tempDir();
    writeTree(work, { 'd/a': 'a', 'd/script-made': 's', 'e/b': 'b' });
    const records = [`${work}/d`, `${work}/d/a`, `${work}/e`, `${work}/e/b`, `${work}/gone`];
    const predicted = predictCleanup(records);
    expect([...predicted].sort()).toEqual([`${work}/d/a`, `${work}/e`, `${work}/e/b`]);
    await performCleanup(records);
    expect(listTree(work)).toEqual(['d/', 'd/script-made']);
  });
});
