/**
 * Replacing a small state file so that a crash leaves either the old content or the new, never half
 * of one: write a temporary file beside it, optionally flush it to disk, then rename it over.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * writeFileAtomic replaces `file` with `data`. `durable` also fsyncs before the rename, for records
 * that must survive a power cut (results owed to the coordinator, crash markers).
 */
export function writeFileAtomic(file: string, data: string, durable = false): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    if (durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
