import { open, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileWindow } from './file-window.js';
import { makeWorkspace } from './test-support.js';
import type { Workspace } from './test-support.js';

let ws: Workspace;
let handle: FileHandle;
const bytes = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
beforeEach(async () => {
  ws = await makeWorkspace();
  await writeFile(ws.path('f'), bytes);
  handle = await open(ws.path('f'), 'r');
});
afterEach(async () => {
  await handle.close();
  await ws.cleanup();
});

describe('FileWindow', () => {
  it('reads a range, then serves ranges inside the window without reading again', async () => {
    const window = new FileWindow(handle, bytes.length, 16);
    expect(window.held(10, 4)).toBeUndefined();
    expect([...(await window.read(10, 4, 'x'))]).toEqual([10, 11, 12, 13]);
    expect([...(window.held(20, 6) ?? [])]).toEqual([20, 21, 22, 23, 24, 25]);
    expect(window.held(20, 7)).toBeUndefined(); // byte 26 is past the 16-byte window from 10
    expect([...(await window.read(95, 5, 'x'))]).toEqual([95, 96, 97, 98, 99]);
    expect(window.held(10, 4)).toBeUndefined();
  });

  it('refuses a range past the end of the file, naming what was read', async () => {
    const window = new FileWindow(handle, bytes.length, 16);
    await expect(window.read(98, 4, 'entry "a"')).rejects.toThrow('entry "a" ends past the end of the file (byte 102 of 100)');
  });

  it('refuses a range longer than the window', async () => {
    const window = new FileWindow(handle, bytes.length, 16);
    await expect(window.read(0, 17, 'entry "a"')).rejects.toThrow('entry "a": 17 bytes is more than the read window of 16');
  });

  it('notices a file cut after its size was taken', async () => {
    const window = new FileWindow(handle, 200, 16);
    await expect(window.read(96, 8, 'entry "a"')).rejects.toThrow('entry "a" ends past the end of the file (it was cut while being read)');
  });
});
