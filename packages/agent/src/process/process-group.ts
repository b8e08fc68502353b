/**
 * Signalling and watching a whole process group, which is how a hook script and everything it started
 * are stopped together.
 */
import { readdir, readFile } from 'node:fs/promises';

/**
 * signalProcessGroup sends `signal` to every process of group `pgid`. It returns false when the group
 * no longer exists (ESRCH) and rethrows anything else, such as EPERM.
 */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * processGroupAlive tells whether group `pgid` still has a live (non-zombie) member. `kill(-pgid, 0)`
 * alone is not enough: an orphaned grandchild whose reaper never reaps it (PID 1 in many containers)
 * stays a zombie in the group forever, and would make every timeout wait for the full kill grace.
 * Where /proc cannot be read we fall back to what kill(2) says.
 */
export async function processGroupAlive(pgid: number): Promise<boolean> {
  if (!signalProcessGroupZero(pgid)) return false;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  for (const pid of pids) {
    const stat = await readStat(pid);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X') return true;
  }
  return false;
}

function signalProcessGroupZero(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // EPERM means the group exists but belongs to someone else: it is still alive.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** readStat reads the state and process group of one /proc entry; null if it vanished meanwhile. */
async function readStat(pid: string): Promise<{ state: string; pgrp: number } | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain ") ", so parse after the last one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  return state === undefined || !Number.isInteger(pgrp) ? null : { state, pgrp };
}
