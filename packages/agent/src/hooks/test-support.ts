/**
 * Helpers shared by the hook tests: throwaway archive directories, scripts written into them, a
 * pinned clock, and process liveness that treats zombies as dead (PID 1 here may never reap them).
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ScriptLog } from './script-log.js';

/** Sandbox is one test's deployment root with its archive directory. */
export interface Sandbox {
  root: string;
  archiveDir: string;
  log: ScriptLog;
  /** Writes a script into the archive with the given mode (default 0755). */
  script(location: string, body: string, mode?: number): Promise<string>;
  scriptsLog(): Promise<string>;
  cleanup(): Promise<void>;
}

/** makeSandbox creates a fresh deployment root in the temp directory. */
export async function makeSandbox(now: () => Date = () => new Date()): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'fd-hooks-'));
  const archiveDir = join(root, 'deployment-archive');
  await mkdir(archiveDir);
  const log = new ScriptLog(root, 'd-TEST12345', null, now);
  return {
    root,
    archiveDir,
    log,
    async script(location, body, mode = 0o755) {
      const path = join(archiveDir, location);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, body);
      await chmod(path, mode);
      return path;
    },
    scriptsLog: () => readFile(join(root, 'logs', 'scripts.log'), 'utf8'),
    async cleanup() {
      await log.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** isRunning tells whether `pid` is a live process; a zombie counts as gone. */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** readPid reads a pid a script recorded. */
export async function readPid(path: string): Promise<number> {
  return Number((await readFile(path, 'utf8')).trim());
}

/** killQuietly stops a leftover test process, if it still exists. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** TIMESTAMP matches the scripts.log prefix `YYYY-MM-DD HH:MM:SS `. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} /;
