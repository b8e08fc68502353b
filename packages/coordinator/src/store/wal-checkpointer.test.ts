import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWalCheckpointer } from './wal-checkpointer.js';
import { tmpfsProblem } from '../testing/tmpfs.js';
import type { WalCheckpointer } from './wal-checkpointer.js';

let dir: string;
let db: Database.Database;
let checkpointer: WalCheckpointer | undefined;
const warnings: Array<Record<string, unknown>> = [];
const log = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => (warnings.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-wal-'));
  db = new Database(path.join(dir, 'x.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE t (v TEXT)');
  warnings.length = 0;
});
afterEach(async () => {
  await checkpointer?.stop();
  checkpointer = undefined;
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const autocheckpoint = (): number => db.pragma('wal_autocheckpoint', { simple: true }) as number;
/** Writes ~2 MB in small commits: with the automatic checkpoint raised, it all stays in the WAL until someone checkpoints. */
const write = (): void => {
  const insert = db.prepare('INSERT INTO t VALUES (?)');
  for (let i = 0; i < 500; i++) insert.run('x'.repeat(4000));
};
const until = async (ok: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 10_000;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('startWalCheckpointer', () => {
  it("checkpoints the WAL into the database file from its thread, with the main connection's automatic checkpoint raised", async () => {
    checkpointer = startWalCheckpointer({ db, file: path.join(dir, 'x.db'), log, intervalMs: 20, fallbackPages: 100_000 });
    expect(autocheckpoint()).toBe(100_000);
    const before = fs.statSync(path.join(dir, 'x.db')).size;
    write();
    // Only a checkpoint copies pages from the WAL into the database file.
    await until(() => fs.statSync(path.join(dir, 'x.db')).size > before + 1_500_000, 'the database file to take the WAL in');
    await until(() => checkpointer!.checkpoints() > 0, 'the thread to report it');
    expect(warnings).toEqual([]);
  });

  it('stops its thread and puts the default automatic checkpoint back', async () => {
    checkpointer = startWalCheckpointer({ db, file: path.join(dir, 'x.db'), log, intervalMs: 20 });
    await until(() => checkpointer!.checkpoints() > 0, 'a first checkpoint');
    await checkpointer.stop();
    const count = checkpointer.checkpoints();
    expect(autocheckpoint()).toBe(1000);
    await new Promise((r) => setTimeout(r, 100));
    expect(checkpointer.checkpoints()).toBe(count);
    expect(warnings).toEqual([]);
  });

  it('a thread that cannot open the file is logged once, and the commits checkpoint again', async () => {
    checkpointer = startWalCheckpointer({ db, file: path.join(dir, 'missing.db'), log, intervalMs: 20 });
    await until(() => warnings.length > 0, 'the warning');
    await new Promise((r) => setTimeout(r, 100));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.reason)).toMatch(/could not open .*missing\.db/);
    expect(autocheckpoint()).toBe(1000);
  });
});

const problem = tmpfsProblem();

describe('startWalCheckpointer on a disk that fills (a real tmpfs)', () => {
  if (problem !== undefined) {
    console.warn(`skipped the full-disk checkpoint test: ${problem}; run as root`);
    it.skip(problem, () => undefined);
    return;
  }
  it('logs one warning while its checkpoints fail, lets the commits checkpoint meanwhile, and takes over again once there is room', async () => {
    const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-wal-tmpfs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mount]);
    const small = new Database(path.join(mount, 'x.db'));
    let thread: WalCheckpointer | undefined;
    try {
      small.pragma('journal_mode = WAL');
      small.exec('CREATE TABLE t (v TEXT)');
      const lines: Array<Record<string, unknown>> = [];
      const infoLog = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));
      thread = startWalCheckpointer({ db: small, file: path.join(mount, 'x.db'), log: infoLog, intervalMs: 20, fallbackPages: 100_000 });
      // The WAL takes the whole tmpfs: a checkpoint then has no room to grow the database file into.
      const insert = small.prepare('INSERT INTO t VALUES (?)');
      let full = false;
      while (!full) {
        try {
          small.transaction(() => {
            for (let i = 0; i < 20; i++) insert.run('x'.repeat(4000));
          })();
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
          full = true;
        }
      }
      await until(() => lines.some((l) => l.level === 40), 'the warning');
      expect(small.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
      execFileSync('mount', ['-o', 'remount,size=16m', mount]);
      await until(() => lines.some((l) => l.level === 30), 'the recovery line');
      expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
      expect(String(lines.find((l) => l.level === 40)!.reason)).toMatch(/full/i);
      expect(small.pragma('wal_autocheckpoint', { simple: true })).toBe(100_000);
    } finally {
      await thread?.stop();
      small.close();
      execFileSync('umount', [mount]);
      fs.rmSync(mount, { recursive: true, force: true });
    }
  });
});
