/**
 * Backing up and restoring a data directory's database.
 *
 * backup uses SQLite's online backup API: one step copies every page inside one read transaction,
 * which in WAL mode blocks no writer, so the copy is one consistent state even while the
 * coordinator writes (with small steps, each write by the coordinator would restart the copy). The
 * copy is written beside its destination as `.partial`, checked whole (integrity_check), made a
 * self-contained file (rollback journal, no -wal), and only then linked to its name, so a failed
 * backup never leaves a file that looks like one.
 *
 * restore replaces coordinator.db with a backup only while no coordinator holds the data directory,
 * checks the copy it is about to install (integrity, a coordinator's schema, not from a newer
 * coordinator), and keeps the replaced file, with its -wal and -shm, aside under a dated name: a
 * -wal left beside the restored file would be replayed into it.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../config.js';
import { DataDirBusyError, lockDataDir } from '../data-dir-lock.js';
import { checkIntegrity, corruptDatabase, isDatabaseCorruption, refuseEmptyDatabase } from './database-file.js';
import { DATABASE_FILE } from './sqlite-store.js';
import { migrations } from './migrations/index.js';

/** ALL_PAGES asks the backup API to copy every remaining page in one step (it takes at most 2^31 - 1). */
const ALL_PAGES = 0x7fffffff;

/** The files SQLite keeps beside a database in WAL mode, and the rollback journal of one that is not. */
const COMPANIONS = ['-wal', '-shm', '-journal'] as const;

/** BackupResult is what a backup copied. */
export interface BackupResult {
  /** file is the database that was backed up. */
  file: string;
  pages: number;
  bytes: number;
}

/** backupDatabase copies `<dataDir>/coordinator.db` to `dest` (which must not exist) and checks the copy. */
export async function backupDatabase(dataDir: string, dest: string): Promise<BackupResult> {
  const file = path.join(dataDir, DATABASE_FILE);
  refuseEmptyDatabase(file, dataDir);
  if (fs.existsSync(dest)) throw new ConfigError(`the backup file ${dest} exists already: choose another name, or delete it first`);
  const partial = `${dest}.partial`;
  try {
    fs.writeFileSync(partial, '', { mode: 0o600 }); // the backup holds the access keys' secrets
    fs.chmodSync(partial, 0o600);
  } catch (err) {
    throw new ConfigError(`cannot write the backup file ${dest}: ${errnoText(err)}`);
  }
  try {
    const pages = await copyOnline(file, dataDir, partial);
    const problem = sealCopy(partial);
    if (problem !== undefined) throw corruptDatabase(file, dataDir, `its copy fails ${problem}`);
    fsyncFile(partial);
    try {
      fs.linkSync(partial, dest); // never replaces a file that appeared meanwhile
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConfigError(`the backup file ${dest} exists already: choose another name, or delete it first`);
      throw new ConfigError(`cannot write the backup file ${dest}: ${errnoText(err)}`);
    }
    fsyncDir(path.dirname(dest));
    return { file, pages, bytes: fs.statSync(dest).size };
  } finally {
    removeWithCompanions(partial);
  }
}

/** copyOnline runs the online backup of `file` into `dest` and answers the number of pages copied. */
async function copyOnline(file: string, dataDir: string, dest: string): Promise<number> {
  // Read-write, as the running coordinator's connection is: a read-only one cannot open a WAL file whose -shm is missing.
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const { totalPages } = await db.backup(dest, { progress: () => ALL_PAGES });
    return totalPages;
  } catch (err) {
    throw isDatabaseCorruption(err) ? corruptDatabase(file, dataDir, (err as Error).message) : err;
  } finally {
    db.close();
  }
}

/** sealCopy checks a fresh copy whole and, when it is sound, turns it into one self-contained file; it answers the problem found, if any. */
function sealCopy(copy: string): string | undefined {
  const db = new Database(copy, { fileMustExist: true });
  try {
    const problem = checkIntegrity(db, true);
    if (problem === undefined) db.pragma('journal_mode = DELETE');
    return problem;
  } finally {
    db.close();
  }
}

/** RestoreResult says what was restored and where the replaced database went (undefined when there was none). */
export interface RestoreResult {
  file: string;
  keptAs?: string;
}

/** restoreDatabase replaces `<dataDir>/coordinator.db` with the backup `source`; it refuses while a coordinator runs there. */
export function restoreDatabase(dataDir: string, source: string, now: Date = new Date()): RestoreResult {
  if (!isDirectory(dataDir)) {
    const what = fs.existsSync(dataDir) ? 'is not a directory' : 'does not exist';
    throw new ConfigError(`the data directory ${dataDir} ${what}: check --data-dir, or make it (mkdir -m 700 ${dataDir}) to restore onto a new machine`);
  }
  let lock: ReturnType<typeof lockDataDir>;
  try {
    lock = lockDataDir(dataDir); // held throughout: no serve starts on a half-restored directory
  } catch (err) {
    if (!(err instanceof DataDirBusyError)) throw err;
    throw new ConfigError(`cannot restore while a coordinator (pid ${err.pid}) is running on the data directory ${dataDir}: stop it first (it has the database open; see ${err.file})`);
  }
  try {
    return replaceDatabase(dataDir, source, now);
  } finally {
    lock.release();
  }
}

function replaceDatabase(dataDir: string, source: string, now: Date): RestoreResult {
  const file = path.join(dataDir, DATABASE_FILE);
  let size: number;
  try {
    const stat = fs.statSync(source);
    if (!stat.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    size = stat.size;
  } catch (err) {
    throw new ConfigError(`cannot read the backup file ${source}: ${errnoText(err)}`);
  }
  if (size === 0) throw new ConfigError(`the backup file ${source} is empty (0 bytes): it holds no coordinator state; restore another backup`);

  const incoming = `${file}.restoring`;
  removeWithCompanions(incoming); // left by a restore that was killed
  try {
    fs.copyFileSync(source, incoming);
    fs.chmodSync(incoming, 0o600);
    checkBackup(incoming, source);
    fsyncFile(incoming);
  } catch (err) {
    removeWithCompanions(incoming);
    throw err;
  }

  // The database and whatever SQLite left beside it (a removed database's -wal too) go aside together.
  const present = ['', ...COMPANIONS].filter((suffix) => fs.existsSync(file + suffix));
  const aside = `${file}.replaced-${now.toISOString().replace(/[-:]/g, '')}`;
  for (const suffix of present) fs.renameSync(file + suffix, aside + suffix);
  fs.renameSync(incoming, file);
  fsyncDir(dataDir);
  return present.length === 0 ? { file } : { file, keptAs: aside + present[0]! };
}

/** checkBackup refuses a copy that is damaged, not a coordinator's database, or from a newer coordinator; errors name `source`. */
function checkBackup(copy: string, source: string): void {
  const db = new Database(copy, { fileMustExist: true });
  try {
    const problem = checkIntegrity(db, true);
    if (problem !== undefined) throw corruptBackup(source, problem);
    const coordinators = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'applications'").get() !== undefined;
    if (!coordinators) throw new ConfigError(`the backup file ${source} is not a fleetdeploy coordinator database (no applications table): restore a file fleetdeploy-coordinator backup made`);
    const version = db.pragma('user_version', { simple: true }) as number;
    const latest = migrations[migrations.length - 1]!.version;
    if (version > latest) throw new ConfigError(`the backup file ${source} is at schema version ${version}, newer than this coordinator knows (${latest}); restore it with a newer fleetdeploy-coordinator`);
  } catch (err) {
    throw isDatabaseCorruption(err) ? corruptBackup(source, (err as Error).message) : err;
  } finally {
    db.close();
  }
}

function corruptBackup(source: string, detail: string): ConfigError {
  return new ConfigError(`the backup file ${source} is corrupt (${detail.replace(/\s+/g, ' ')}): restore another backup`);
}

function removeWithCompanions(file: string): void {
  for (const suffix of ['', ...COMPANIONS]) fs.rmSync(file + suffix, { force: true });
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** fsyncFile makes a file's bytes durable before it is renamed or linked into place. */
function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncDir makes a rename or link in `dir` durable. */
function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** errnoText is an I/O error as one short phrase: its code, explained where the code alone is cryptic. */
function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'ENOENT (no such file or folder)';
  if (code === 'EISDIR') return 'EISDIR (a folder, not a file)';
  return code ?? (err as Error).message;
}
