import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, lockDataDir, parseOwner, PID_FILE } from './data-dir-lock.js';

describe('the data directory lock', () => {
  it('counts a pid file as held only by a live process that started when the file says', () => {
    const parent = process.ppid;
    const startTime = fs.readFileSync(`/proc/${parent}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
    expect(isAlive({ pid: parent, startTime })).toBe(true);
    // The pid was reused: the process that holds it now started at another time.
    expect(isAlive({ pid: parent, startTime: String(Number(startTime) + 1) })).toBe(false);
    expect(isAlive({ pid: process.pid })).toBe(false);
    expect(isAlive({ pid: 2 ** 22 + 1 })).toBe(false);
  });

  it('reads what it writes, and nothing else', () => {
    expect(parseOwner('123\n456\n')).toEqual({ pid: 123, startTime: '456' });
    expect(parseOwner('123\n\n')).toEqual({ pid: 123 });
    expect(parseOwner('')).toBeUndefined();
  });

  it('replaces a stale file and removes its own on release', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-lock-'));
    fs.writeFileSync(path.join(dir, PID_FILE), `${2 ** 22 + 1}\n1\n`);
    const lock = lockDataDir(dir);
    expect(parseOwner(fs.readFileSync(path.join(dir, PID_FILE), 'utf8'))?.pid).toBe(process.pid);
    lock.release();
    expect(fs.existsSync(path.join(dir, PID_FILE))).toBe(false);
  });
});
