/**
 * A real SQLite database made full, for tests of what the coordinator does when its disk is. On a
 * full disk every commit fails, because every commit appends to the WAL; SQLite's own limit on the
 * file (`max_page_count`) fails only a write that needs a new page. So fillDatabase caps the file at
 * its size, uses up its free pages, and adds TEMP triggers (this connection only, nothing stored)
 * that make every insert, update and delete of the named tables also store a few pages: each such
 * write then fails with SQLite's real SQLITE_FULL, and freeDatabase lifts the cap again.
 */
import type Database from 'better-sqlite3';

const FILLER = 'test_disk_filler';

/** fillDatabase makes every write to `tables` fail with SQLITE_FULL until {@link freeDatabase}. */
export function fillDatabase(db: Database.Database, tables: readonly string[]): void {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.exec(`CREATE TABLE IF NOT EXISTS main.${FILLER} (b BLOB)`);
  for (const table of tables) {
    for (const op of ['INSERT', 'UPDATE', 'DELETE']) {
      db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS fill_${table}_${op.toLowerCase()} AFTER ${op} ON main.${table} BEGIN INSERT INTO main.${FILLER} VALUES (zeroblob(${4 * pageSize})); END`);
    }
  }
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  const fill = db.prepare(`INSERT INTO main.${FILLER} VALUES (zeroblob(?))`);
  // Free pages would absorb the triggers' rows: take them all, down to a row that no longer fits.
  for (let size = pageSize; size >= 1; ) {
    try {
      fill.run(size);
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_FULL') throw err;
      size = Math.floor(size / 2);
    }
  }
}

/** freeDatabase lifts the cap, drops the triggers and the filler: writes succeed again. */
export function freeDatabase(db: Database.Database): void {
  db.pragma('max_page_count = 1073741823');
  for (const { name } of db.prepare("SELECT name FROM temp.sqlite_master WHERE type = 'trigger' AND name LIKE 'fill\\_%' ESCAPE '\\'").all() as { name: string }[]) db.exec(`DROP TRIGGER temp.${name}`);
  db.exec(`DROP TABLE IF EXISTS main.${FILLER}`);
}
