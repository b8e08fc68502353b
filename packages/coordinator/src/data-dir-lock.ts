/**
 * One coordinator per data directory, as PostgreSQL keeps one postmaster per cluster: `serve` writes
 * `<data_dir>/coordinator.pid` (its pid and, on Linux, its start time) with an exclusive create, and
 * a second `serve` that finds the file with a live owner refuses to start instead of sharing the
 * database and overwriting endpoints.json. A file left by a killed coordinator does not block a
 * restart: its pid is gone, or (pid reused, as after a container restart) belongs to a process that
 * started at another time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config.js';

/** PID_FILE is the lock's name inside the data directory. */
export const PID_FILE = 'coordinator.pid';

/** DataDirBusyError says a live coordinator holds the lock: which pid, and the lock's file. */
export class DataDirBusyError extends ConfigError {
  constructor(
    readonly pid: number,
    readonly file: string,
    dataDir: string,
  ) {
    super(`another coordinator (pid ${pid}) is running on the data directory ${dataDir} (see ${file}): stop it first, or give this one another --data-dir`);
    this.name = 'DataDirBusyError';
  }
}

/** DataDirLock is a held lock; release removes the file if it is still ours. */
export interface DataDirLock {
  release(): void;
}

/** Owner is what the pid file records: who holds the lock. */
interface Owner {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22); absent off Linux. */
  startTime?: string;
}

/** ProcStat is what /proc/PID/stat tells about a process: its state letter and start time. */
interface ProcStat {
  state: string;
  startTime: string;
}

/** procStat reads a process's state and start time on Linux, or undefined where /proc is not there (or the process is gone). */
function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, startTime: fields[19]! };
  } catch {
    return undefined;
  }
}

/** isAlive says whether `owner` is a running process other than this one, and the same process that wrote the file. */
export function isAlive(owner: Owner, self: number = process.pid): boolean {
  if (owner.pid === self) return false; // a file from an earlier life of this pid (e.g. PID 1 in a container)
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // ESRCH: gone
  }
  const stat = procStat(owner.pid);
  if (stat === undefined) return true; // no /proc: the signal check is all we have
  if (stat.state === 'Z' || stat.state === 'X') return false; // killed, not yet reaped by its parent
  return owner.startTime === undefined || stat.startTime === owner.startTime;
}

/** parseOwner reads a pid file's text (`<pid>\n<start time>\n`); undefined when it is not one. */
export function parseOwner(text: string): Owner | undefined {
  const [pid, startTime] = text.split('\n').map((l) => l.trim());
  if (pid === undefined || !/^\d+$/.test(pid)) return undefined;
  return { pid: Number(pid), ...(startTime !== undefined && startTime !== '' ? { startTime } : {}) };
}

/** lockDataDir takes the data directory's lock or throws a ConfigError naming the coordinator that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, PID_FILE);
  const me: Owner = { pid: process.pid, ...withStartTime(procStat(process.pid)?.startTime) };
  const text = `${me.pid}\n${me.startTime ?? ''}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(file, text, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = parseOwner(readOrEmpty(file));
    if (owner !== undefined && isAlive(owner)) {
      throw new DataDirBusyError(owner.pid, file, dataDir);
    }
    if (attempt === 2) throw new ConfigError(`cannot take the lock ${file}: another coordinator is starting on the data directory ${dataDir}`);
    fs.rmSync(file, { force: true }); // stale: its coordinator was killed
  }
  return {
    release() {
      if (parseOwner(readOrEmpty(file))?.pid === me.pid) fs.rmSync(file, { force: true });
    },
  };
}

function withStartTime(startTime: string | undefined): { startTime?: string } {
  return startTime === undefined ? {} : { startTime };
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
