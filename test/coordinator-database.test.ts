/**
 * The coordinator's database file as an operator meets its failures: a corrupt or empty
 * coordinator.db stops `serve` with one ERROR line that names the file and says what to do (never a
 * process that listens with no engine behind it), and `backup` / `restore` bring a data directory
 * back to an earlier state. Real processes and real SQLite files, damaged on disk.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CreateApplicationCommand, ListApplicationsCommand, RegisterOnPremisesInstanceCommand } from '@aws-sdk/client-codedeploy';
import { beforeAll, describe, expect, it } from 'vitest';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { codeDeployClient } from './harness/aws-cli.js';
import { eventually } from './harness/eventually.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** coordinator runs `fleetdeploy-coordinator args`; a run that does not end by itself is killed and reported as -1. */
function coordinator(args: string[], timeoutMs = 10_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [COORDINATOR_BIN, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const e = err as { code?: number; killed?: boolean } | null;
      resolve({ code: e ? (e.killed ? -1 : (e.code ?? -2)) : 0, stdout, stderr });
    });
  });
}

/** serveArgs runs serve on free ports. */
const serveArgs = (dataDir: string): string[] => ['serve', '--data-dir', dataDir, '--port', '0', '--agent-port', '0'];

/** expectOneErrorLine checks the run exited 1 having printed exactly one ERROR line (no stack) matching every pattern. */
function expectOneErrorLine(r: Run, ...patterns: RegExp[]): void {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ERROR: /);
  for (const p of patterns) expect(lines[0]).toMatch(p);
}

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'fd-coord-db-'));
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** pageLayout reads a SQLite file's page size (header bytes 16-17; 1 means 65536) and page count. */
function pageLayout(file: string): { pageSize: number; pages: number } {
  const header = Buffer.alloc(100);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, header, 0, 100, 0);
  fs.closeSync(fd);
  const raw = header.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  return { pageSize, pages: Math.floor(fs.statSync(file).size / pageSize) };
}

/** overwrite writes `bytes` at `offset` of `file`, as a failing disk or a stray write would. */
function overwrite(file: string, offset: number, bytes: Buffer): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, bytes, 0, bytes.length, offset);
  fs.closeSync(fd);
}

/** garbage is `length` bytes that are no SQLite structure (a fixed pattern, so a failure repeats). */
const garbage = (length: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 131 + 7) & 0xff));

/** overwriteTables overwrites every page of the named tables and indexes, leaving the rest of the file sound. */
function overwriteTables(file: string, names: string[]): void {
  const db = new Database(file, { readonly: true });
  const pages = db.prepare(`SELECT pageno FROM dbstat WHERE name IN (${names.map(() => '?').join(', ')})`).all(...names) as { pageno: number }[];
  db.close();
  const { pageSize } = pageLayout(file);
  expect(pages.length).toBeGreaterThan(0);
  for (const { pageno } of pages) overwrite(file, (pageno - 1) * pageSize, garbage(pageSize));
}

/** Ways a real coordinator.db gets damaged on disk. */
const damage = {
  /**
   * Only the pages of what the engine reads first at start (open commands, active deployments), the
   * schema intact: the file opens and migrates, and the first failing query is the engine's.
   */
  engineTables(file: string): void {
    overwriteTables(file, ['commands', 'open_commands', 'deployments', 'deployments_by_status']);
  },
  /** The middle third of the pages (tables the engine reads at start among them) overwritten. */
  middlePages(file: string): void {
    const { pageSize, pages } = pageLayout(file);
    const first = Math.floor(pages / 3);
    overwrite(file, first * pageSize, garbage((Math.floor((2 * pages) / 3) - first) * pageSize));
  },
  /** The header's first page overwritten: no longer a SQLite file. */
  header(file: string): void {
    overwrite(file, 0, garbage(pageLayout(file).pageSize));
  },
  /** Cut to half its size, as a copy that ran out of space. */
  truncated(file: string): void {
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2 / 4096) * 4096);
  },
};

const DB = 'coordinator.db';

describe('the coordinator database', () => {
  /** A data directory a real coordinator made and stopped cleanly; each test works on its own copy. */
  let pristine: string;
  beforeAll(async () => {
    const c = await startCoordinator();
    expect(await c.stop()).toBe(0);
    pristine = c.dataDir;
  });
  const copyOfDataDir = (): string => {
    const dir = path.join(tmp(), 'data');
    fs.cpSync(pristine, dir, { recursive: true });
    return dir;
  };

  describe('damaged', () => {
    it.each(Object.entries(damage))('(%s): serve exits 1 with one line naming the file, "corrupt" and restore, and listens on nothing', async (_how, spoil) => {
      const dataDir = copyOfDataDir();
      const file = path.join(dataDir, DB);
      spoil(file);
      const before = fs.readFileSync(file);
      const r = await coordinator(serveArgs(dataDir));
      expectOneErrorLine(r, new RegExp(`^ERROR: the database ${escape(file)} is corrupt \\(.+\\): restore a backup with fleetdeploy-coordinator restore --data-dir ${escape(dataDir)} BACKUP_FILE`));
      expect(r.stdout).toBe(''); // no listening line: no port was opened
      expect(fs.readFileSync(file).equals(before)).toBe(true); // refused, not repaired or rewritten
      expect(fs.existsSync(path.join(dataDir, 'coordinator.pid'))).toBe(false);
    });

    it('while the coordinator runs: /healthz answers 503 naming the file once the engine meets the damage', async () => {
      const dataDir = copyOfDataDir();
      const file = path.join(dataDir, DB);
      const c = await startCoordinator({ dataDir });
      const sdk = codeDeployClient(c);
      try {
        expect(await (await fetch(`${c.apiUrl}/healthz`)).json()).toMatchObject({ status: 'ok', ready: true });
        overwriteTables(file, ['deployments', 'deployments_by_status', 'active_deployments']); // the last one: the engine's lookups of active deployments go through it (migration 011)
        // Another process's write makes the coordinator drop its page cache, so it reads the damaged pages from disk.
        expect((await coordinator(['keys', 'create', '--role', 'deployer', '--data-dir', dataDir])).code).toBe(0);
        // A fleet change: the engine then reads the active deployments.
        await sdk.send(new RegisterOnPremisesInstanceCommand({ instanceName: 'web-1', iamUserArn: 'arn:aws:iam::000000000000:user/web-1' }));
        const health = await eventually(async () => {
          const r = await fetch(`${c.apiUrl}/healthz`);
          expect(r.status).toBe(503);
          return r.json();
        });
        expect(health).toMatchObject({ status: 'unavailable', reason: expect.stringMatching(new RegExp(`^the database ${escape(file)} is corrupt \\(database disk image is malformed\\): restore a backup with fleetdeploy-coordinator restore`)), ready: false });
      } finally {
        sdk.destroy();
        await c.stop();
      }
    });

    it('a start the engine fails after the ports listen ends the process instead of leaving it listening', async () => {
      const dataDir = copyOfDataDir();
      const db = new Database(path.join(dataDir, DB));
      // A row SQLite finds sound but the engine cannot read: its first query of the active deployments throws.
      // (JSON5, which SQLite's json functions accept, so the index on the bundle takes it, and JSON.parse does not.)
      db.prepare("INSERT INTO deployments (id, application, group_name, status, create_time, seq, doc) VALUES ('d-UNREADABLE', 'app', 'group', 'InProgress', 0, 1, '{status: 1}')").run();
      db.close();
      const r = await coordinator(serveArgs(dataDir));
      expect(r.code, r.stderr).toBe(1); // not killed by the timeout: nothing kept it alive
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^fleetdeploy-coordinator: unexpected internal error, please report it:\nSyntaxError/);
      expect(fs.existsSync(path.join(dataDir, 'coordinator.pid'))).toBe(false);
    });

    it.each([
      ['found as the file opens', damage.middlePages],
      // The open reads the schema only: these fail at the command's own query.
      ['found by the commands\' own queries', (file: string) => overwriteTables(file, ['access_keys', 'sqlite_autoindex_access_keys_1', 'instances', 'sqlite_autoindex_instances_1', 'enrolment_tokens', 'sqlite_autoindex_enrolment_tokens_1', 'enrolment_tokens_instance'])],
    ])('refuses keys and enrol-token on a corrupt database with the same line (damage %s)', async (_when, spoil) => {
      const dataDir = copyOfDataDir();
      spoil(path.join(dataDir, DB));
      for (const args of [['keys', 'list'], ['keys', 'create', '--role', 'deployer'], ['enrol-token', '--instance', 'web-1']]) {
        expectOneErrorLine(await coordinator([...args, '--data-dir', dataDir]), new RegExp(`the database ${escape(path.join(dataDir, DB))} is corrupt .*fleetdeploy-coordinator restore`));
      }
    });
  });

  describe('empty (0 bytes)', () => {
    it('is not started as a new coordinator: one line says so and how to go on, and the advice works', async () => {
      const dataDir = copyOfDataDir();
      const file = path.join(dataDir, DB);
      fs.truncateSync(file, 0);
      const r = await coordinator(serveArgs(dataDir));
      expectOneErrorLine(
        r,
        new RegExp(`^ERROR: the database ${escape(file)} is empty \\(0 bytes\\)`),
        new RegExp(`restore a backup with fleetdeploy-coordinator restore --data-dir ${escape(dataDir)} BACKUP_FILE`),
        new RegExp(`or, to start an empty coordinator on purpose, delete ${escape(file)} and ${escape(path.join(dataDir, 'admin-credentials'))}`),
      );
      expect(fs.statSync(file).size).toBe(0);
      for (const args of [['keys', 'create', '--role', 'deployer'], ['keys', 'list'], ['enrol-token', '--instance', 'web-1']]) {
        expectOneErrorLine(await coordinator([...args, '--data-dir', dataDir]), new RegExp(`the database ${escape(file)} is empty \\(0 bytes\\)`));
        expect(fs.statSync(file).size).toBe(0);
      }

      // Following the line's second way: the coordinator starts empty, with a new first admin key.
      fs.rmSync(file);
      fs.rmSync(path.join(dataDir, 'admin-credentials'));
      const c = await startCoordinator({ dataDir });
      const sdk = codeDeployClient(c);
      try {
        expect((await sdk.send(new ListApplicationsCommand({}))).applications).toEqual([]);
      } finally {
        sdk.destroy();
        await c.stop();
      }
    });
  });

  describe('backup and restore', () => {
    const appsOf = async (c: CoordinatorProcess): Promise<string[]> => {
      const sdk = codeDeployClient(c);
      try {
        return (await sdk.send(new ListApplicationsCommand({}))).applications ?? [];
      } finally {
        sdk.destroy();
      }
    };

    it('backs up a running coordinator while it writes; restore brings that state back in place of a corrupt file', async () => {
      const c = await startCoordinator();
      const dataDir = c.dataDir;
      const file = path.join(dataDir, DB);
      const backup = path.join(tmp(), 'coordinator-backup.db');
      const sdk = codeDeployClient(c);
      try {
        await sdk.send(new CreateApplicationCommand({ applicationName: 'before-backup' }));
        // Writes go on while the backup runs: it must be one consistent state, whichever of them it holds.
        let writing = true;
        const writes = (async () => {
          let n = 0;
          while (writing) await sdk.send(new CreateApplicationCommand({ applicationName: `during-${String(n++).padStart(4, '0')}` }));
          return n;
        })();
        await new Promise((r) => setTimeout(r, 200));
        const b = await coordinator(['backup', '--data-dir', dataDir, backup]);
        writing = false;
        const written = await writes;
        expect(b.code, b.stderr).toBe(0);
        expect(b.stdout).toMatch(new RegExp(`^backed up ${escape(file)} to ${escape(backup)} \\(\\d+ pages, \\d+ bytes; integrity checked\\)\\n$`));
        expect(b.stderr).toBe('');
        expect((fs.statSync(backup).mode & 0o777).toString(8)).toBe('600'); // it holds the access keys' secrets
        expect(fs.existsSync(`${backup}.partial`)).toBe(false);
        await sdk.send(new CreateApplicationCommand({ applicationName: 'after-backup' }));

        // While the coordinator holds the data directory, restore is refused and changes nothing: the
        // file is not replaced (its bytes do change: the coordinator's checkpoint thread writes the WAL into it).
        const live = fs.statSync(file).ino;
        const refused = await coordinator(['restore', '--data-dir', dataDir, backup]);
        expectOneErrorLine(refused, new RegExp(`^ERROR: cannot restore while a coordinator \\(pid ${c.child.pid}\\) is running on the data directory ${escape(dataDir)}: stop it first`));
        expect(fs.statSync(file).ino).toBe(live);
        expect((await sdk.send(new ListApplicationsCommand({}))).applications).toEqual(expect.arrayContaining(['before-backup', 'after-backup']));
        expect(written).toBeGreaterThan(0);
      } finally {
        sdk.destroy();
        expect(await c.stop()).toBe(0);
      }

      damage.middlePages(file);
      const corrupt = fs.readFileSync(file);
      expectOneErrorLine(await coordinator(serveArgs(dataDir)), /is corrupt/);

      const r = await coordinator(['restore', '--data-dir', dataDir, backup]);
      expect(r.code, r.stderr).toBe(0);
      const kept = /the replaced database is kept as (\S+):/.exec(r.stdout)?.[1];
      expect(r.stdout).toMatch(new RegExp(`^restored ${escape(file)} from ${escape(backup)} \\(integrity checked\\); the replaced database is kept as ${escape(file)}\\.replaced-\\S+: delete it once the coordinator serves as expected\\n$`));
      expect(fs.readFileSync(kept!).equals(corrupt)).toBe(true); // kept aside, not deleted
      expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');

      const restored = await startCoordinator({ dataDir });
      try {
        const apps = await appsOf(restored);
        expect(apps).toContain('before-backup');
        expect(apps).not.toContain('after-backup');
        // Consistent: the writes it holds are a prefix of those made, with no gap.
        const during = apps.filter((a) => a.startsWith('during-'));
        expect(during).toEqual(during.map((_, i) => `during-${String(i).padStart(4, '0')}`));
      } finally {
        expect(await restored.stop()).toBe(0);
      }
    });

    it('restores into a data directory whose database was removed (nothing to keep aside)', async () => {
      const dataDir = copyOfDataDir();
      const backup = path.join(tmp(), 'b.db');
      expect((await coordinator(['backup', '--data-dir', dataDir, backup])).code).toBe(0);
      fs.rmSync(path.join(dataDir, DB));
      const r = await coordinator(['restore', '--data-dir', dataDir, backup]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`restored ${path.join(dataDir, DB)} from ${backup} (integrity checked)\n`);
      const c = await startCoordinator({ dataDir });
      expect(await c.stop()).toBe(0);
    });

    it('moves a crashed coordinator\'s WAL files aside with the database they belong to', async () => {
      const dataDir = copyOfDataDir();
      const backup = path.join(tmp(), 'b.db');
      expect((await coordinator(['backup', '--data-dir', dataDir, backup])).code).toBe(0);
      // A coordinator killed with writes in its WAL leaves coordinator.db-wal beside the file.
      const c = await startCoordinator({ dataDir });
      const sdk = codeDeployClient(c);
      await sdk.send(new CreateApplicationCommand({ applicationName: 'only-in-the-wal' }));
      sdk.destroy();
      await c.stop('SIGKILL');
      const wal = path.join(dataDir, `${DB}-wal`);
      expect(fs.statSync(wal).size).toBeGreaterThan(0);

      const r = await coordinator(['restore', '--data-dir', dataDir, backup]);
      expect(r.code, r.stderr).toBe(0);
      const kept = /kept as (\S+):/.exec(r.stdout)![1]!;
      expect(fs.existsSync(wal)).toBe(false);
      expect(fs.existsSync(`${kept}-wal`)).toBe(true);
      const restored = await startCoordinator({ dataDir });
      try {
        expect(await appsOf(restored)).not.toContain('only-in-the-wal');
      } finally {
        expect(await restored.stop()).toBe(0);
      }
    });

    describe('backup refuses', () => {
      it('a data directory without a database', async () => {
        const dir = tmp();
        expectOneErrorLine(await coordinator(['backup', '--data-dir', dir, path.join(dir, 'b.db')]), new RegExp(`the data directory ${escape(dir)} has no coordinator database`));
        expect(fs.existsSync(path.join(dir, 'b.db'))).toBe(false);
      });

      it('a destination that exists, leaving it alone', async () => {
        const dataDir = copyOfDataDir();
        const dest = path.join(tmp(), 'b.db');
        fs.writeFileSync(dest, 'an older backup');
        expectOneErrorLine(await coordinator(['backup', '--data-dir', dataDir, dest]), new RegExp(`^ERROR: the backup file ${escape(dest)} exists already: choose another name, or delete it first`));
        expect(fs.readFileSync(dest, 'utf8')).toBe('an older backup');
      });

      it('a destination in a folder that does not exist', async () => {
        const dataDir = copyOfDataDir();
        const dest = path.join(tmp(), 'no-such-folder', 'b.db');
        expectOneErrorLine(await coordinator(['backup', '--data-dir', dataDir, dest]), new RegExp(`^ERROR: cannot write the backup file ${escape(dest)}: ENOENT`));
      });

      it.each(Object.entries(damage))('a corrupt database (%s), leaving no backup file', async (_how, spoil) => {
        const dataDir = copyOfDataDir();
        spoil(path.join(dataDir, DB));
        const dest = path.join(tmp(), 'b.db');
        expectOneErrorLine(await coordinator(['backup', '--data-dir', dataDir, dest]), new RegExp(`the database ${escape(path.join(dataDir, DB))} is corrupt`));
        expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
      });

      it('an empty database, leaving no backup file', async () => {
        const dataDir = copyOfDataDir();
        fs.truncateSync(path.join(dataDir, DB), 0);
        const dest = path.join(tmp(), 'b.db');
        expectOneErrorLine(await coordinator(['backup', '--data-dir', dataDir, dest]), new RegExp(`the database ${escape(path.join(dataDir, DB))} is empty \\(0 bytes\\)`));
        expect(fs.readdirSync(path.dirname(dest))).toEqual([]);
      });
    });

    describe('restore refuses, leaving the database as it was', () => {
      /** A data directory, a good backup of it, and its database's bytes before the attempt. */
      async function setUp(): Promise<{ dataDir: string; backup: string; check(): void }> {
        const dataDir = copyOfDataDir();
        const backup = path.join(tmp(), 'b.db');
        expect((await coordinator(['backup', '--data-dir', dataDir, backup])).code).toBe(0);
        const file = path.join(dataDir, DB);
        const before = fs.readFileSync(file);
        return {
          dataDir,
          backup,
          check() {
            expect(fs.readFileSync(file).equals(before)).toBe(true);
            expect(fs.readdirSync(dataDir).filter((f) => f.startsWith(`${DB}.`))).toEqual([]);
          },
        };
      }

      it('a backup file that does not exist', async () => {
        const { dataDir, check } = await setUp();
        const missing = path.join(tmp(), 'nope.db');
        expectOneErrorLine(await coordinator(['restore', '--data-dir', dataDir, missing]), new RegExp(`^ERROR: cannot read the backup file ${escape(missing)}: ENOENT`));
        check();
      });

      it('a backup path that is a folder', async () => {
        const { dataDir, check } = await setUp();
        const folder = tmp();
        expectOneErrorLine(await coordinator(['restore', '--data-dir', dataDir, folder]), new RegExp(`^ERROR: cannot read the backup file ${escape(folder)}: EISDIR \\(a folder, not a file\\)$`));
        check();
      });

      it('an empty backup file', async () => {
        const { dataDir, backup, check } = await setUp();
        fs.truncateSync(backup, 0);
        expectOneErrorLine(await coordinator(['restore', '--data-dir', dataDir, backup]), new RegExp(`^ERROR: the backup file ${escape(backup)} is empty \\(0 bytes\\): it holds no coordinator state; restore another backup`));
        check();
      });

      it.each(Object.entries(damage))('a backup file damaged (%s)', async (_how, spoil) => {
        const { dataDir, backup, check } = await setUp();
        spoil(backup);
        expectOneErrorLine(await coordinator(['restore', '--data-dir', dataDir, backup]), new RegExp(`^ERROR: the backup file ${escape(backup)} is corrupt \\(.+\\): restore another backup`));
        check();
      });

      it('a SQLite file that is not a coordinator\'s', async () => {
        const { dataDir, check } = await setUp();
        const other = path.join(tmp(), 'other.db');
        const db = new Database(other);
        db.exec('CREATE TABLE notes (body TEXT)');
        db.close();
        expectOneErrorLine(await coordinator(['restore', '--data-dir', dataDir, other]), new RegExp(`^ERROR: the backup file ${escape(other)} is not a fleetdeploy coordinator database \\(no applications table\\)`));
        check();
      });

      it('a backup from a newer coordinator', async () => {
        const { dataDir, backup, check } = await setUp();
        const db = new Database(backup);
        db.pragma('user_version = 99');
        db.close();
        expectOneErrorLine(await coordinator(['restore', '--data-dir', dataDir, backup]), new RegExp(`^ERROR: the backup file ${escape(backup)} is at schema version 99, newer than this coordinator knows \\(\\d+\\); restore it with a newer fleetdeploy-coordinator`));
        check();
      });

      it('a data directory that does not exist', async () => {
        const { backup } = await setUp();
        const missing = path.join(tmp(), 'not-made');
        expectOneErrorLine(await coordinator(['restore', '--data-dir', missing, backup]), new RegExp(`^ERROR: the data directory ${escape(missing)} does not exist: check --data-dir, or make it \\(mkdir -m 700 ${escape(missing)}\\) to restore onto a new machine`));
        expect(fs.existsSync(missing)).toBe(false);
      });

      it('a data directory that is a file', async () => {
        const { backup } = await setUp();
        const file = path.join(tmp(), 'a-file');
        fs.writeFileSync(file, 'not a folder');
        expectOneErrorLine(await coordinator(['restore', '--data-dir', file, backup]), new RegExp(`^ERROR: the data directory ${escape(file)} is not a directory: check --data-dir`));
        expect(fs.readFileSync(file, 'utf8')).toBe('not a folder');
      });
    });
  });
});
