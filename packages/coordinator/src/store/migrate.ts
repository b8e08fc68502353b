/**
 * Brings a SQLite file's schema up to date. The applied version is SQLite's `user_version`; each
 * migration runs in its own transaction with the version bump, so a crash leaves a file at a
 * well-defined version.
 */
import type Database from 'better-sqlite3';
import type { Migration } from './migrations/index.js';

/** migrate applies the migrations newer than the file's version; it refuses a file from a newer coordinator. */
export function migrate(db: Database.Database, all: readonly Migration[]): { from: number; to: number } {
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = all.length === 0 ? 0 : all[all.length - 1]!.version;
  if (from > latest) {
    throw new Error(`the data directory's database is at schema version ${from}, newer than this coordinator knows (${latest}); run a newer fleetdeploy-coordinator`);
  }
  for (const m of all) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return { from, to: Math.max(from, latest) };
}
