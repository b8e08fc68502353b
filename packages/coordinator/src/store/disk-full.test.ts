import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiskFullWatch, isDiskFull } from './disk-full.js';
import { fillDatabase, freeDatabase } from '../testing/full-database.js';

/** logLines collects a pino logger's lines. */
function logLines(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) });
  return { log: pino({ level: 'debug' }, sink), lines };
}

describe('isDiskFull', () => {
  let dir: string | undefined;
  afterEach(() => dir !== undefined && fs.rmSync(dir, { recursive: true, force: true }));

  it("tells SQLite's SQLITE_FULL from a real database, and ENOSPC and EDQUOT from the file system, also as a cause", () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-disk-full-'));
    const db = new Database(path.join(dir, 'x.db'));
    db.exec('CREATE TABLE t (v TEXT)');
    fillDatabase(db, ['t']);
    let full: unknown;
    try {
      db.prepare('INSERT INTO t VALUES (?)').run('x');
    } catch (err) {
      full = err;
    }
    expect((full as { code?: string }).code).toBe('SQLITE_FULL');
    expect(isDiskFull(full)).toBe(true);
    freeDatabase(db);
    db.prepare('INSERT INTO t VALUES (?)').run('x');
    db.close();

    expect(isDiskFull(Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error('disk quota exceeded'), { code: 'EDQUOT' }))).toBe(true);
    expect(isDiskFull(new Error('upload failed', { cause: Object.assign(new Error('write'), { code: 'ENOSPC' }) }))).toBe(true);
    expect(isDiskFull(Object.assign(new Error('locked'), { code: 'SQLITE_BUSY' }))).toBe(false);
    expect(isDiskFull(Object.assign(new Error('gone'), { code: 'ENOENT' }))).toBe(false);
    expect(isDiskFull('SQLITE_FULL')).toBe(false);
    expect(isDiskFull(undefined)).toBe(false);
  });
});

describe('the disk-full watch', () => {
  it('logs one error line when the disk becomes full and one info line when a write succeeds again, whatever happens in between', () => {
    const { log, lines } = logLines();
    let now = 1_000;
    const watch = createDiskFullWatch({ log, now: () => now, dataDir: '/var/lib/fleetdeploy' });
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

    watch.wrote('CreateApplication'); // nothing to end
    expect(watch.failed(full, 'command result')).toBe(true);
    now += 500;
    expect(watch.failed(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), 's3:PutObject')).toBe(true);
    expect(watch.failed(full, 'CreateApplication')).toBe(true);
    expect(watch.full()).toBe(true);
    now += 1_500;
    watch.wrote('command result');
    watch.wrote('CreateApplication');
    expect(watch.full()).toBe(false);
    // a second episode gets its own pair of lines
    expect(watch.failed(full, 'timeouts')).toBe(true);
    watch.wrote('timeouts');

    expect(lines.map((l) => ({ level: l.level, msg: l.msg, what: l.what, code: l.code, dataDir: l.dataDir, fullForMs: l.fullForMs, failedWrites: l.failedWrites }))).toEqual([
      { level: 50, msg: 'disk full: nothing can be stored until space is freed in the data directory', what: 'command result', code: 'SQLITE_FULL', dataDir: '/var/lib/fleetdeploy', fullForMs: undefined, failedWrites: undefined },
      { level: 30, msg: 'disk space is back: writes succeed again', what: 'command result', code: undefined, dataDir: undefined, fullForMs: 2_000, failedWrites: 3 },
      { level: 50, msg: 'disk full: nothing can be stored until space is freed in the data directory', what: 'timeouts', code: 'SQLITE_FULL', dataDir: '/var/lib/fleetdeploy', fullForMs: undefined, failedWrites: undefined },
      { level: 30, msg: 'disk space is back: writes succeed again', what: 'timeouts', code: undefined, dataDir: undefined, fullForMs: 0, failedWrites: 1 },
    ]);
  });

  it('answers false for any other failure and logs nothing for it', () => {
    const { log, lines } = logLines();
    const watch = createDiskFullWatch({ log, now: () => 0 });
    expect(watch.failed(Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }), 'command result')).toBe(false);
    expect(watch.full()).toBe(false);
    expect(lines).toEqual([]);
  });
});
