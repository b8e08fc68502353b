/**
 * Reading the daemons' log files: following one for a line (an agent's "connected to coordinator"),
 * and summing up why a daemon stopped in one line for the operator.
 */
import fs from 'node:fs';
import { sleep } from '../clock.js';

/**
 * followLog calls `onLine` with each complete line appended to `file` after byte `from` (a reused
 * log's earlier runs are skipped), polling every `intervalMs`, until `onLine` returns true (then it
 * resolves true) or `signal` aborts (false). A file that does not exist yet is waited for.
 */
export async function followLog(file: string, onLine: (line: string) => boolean, signal: AbortSignal, from = 0, intervalMs = 100): Promise<boolean> {
  let offset = from;
  let partial = '';
  while (!signal.aborted) {
    const size = logSize(file);
    if (size > offset) {
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        offset += n;
        const text = partial + buf.subarray(0, n).toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (onLine(line)) return true;
      } finally {
        fs.closeSync(fd);
      }
    }
    await sleep(intervalMs, signal);
  }
  return false;
}

/** logSize is a log file's current size, 0 when it does not exist yet. */
export function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * asLogRecord is a daemon's standard-output line as it goes into its log file: the daemons log pino
 * JSON on standard error into the same file, so a plain line (the coordinator's `listening` line) is
 * wrapped as an info record of the same shape — one format per log. A JSON line passes unchanged.
 */
export function asLogRecord(line: string, service: string, at: number): string {
  if (pinoMessage(line) !== undefined) return line;
  return JSON.stringify({ level: 30, time: at, service, stream: 'stdout', msg: line });
}

/** pinoMessage is a pino JSON line's `msg`, or undefined for any other line. */
export function pinoMessage(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const rec = JSON.parse(line) as { msg?: unknown };
    return typeof rec.msg === 'string' ? rec.msg : undefined;
  } catch {
    return undefined;
  }
}

/**
 * failureSummary is the one line that best says why a daemon stopped, from the end of its log
 * (never before byte `from`, where this run's output starts): the newest of an `ERROR: ...` line
 * it printed, a pino record at level error or above (its msg and err.message) and an uncaught
 * exception's first line; else the last line that is neither a log record nor part of a stack.
 * Undefined when there is none (a daemon killed while all was well).
 */
export function failureSummary(file: string, from = 0, maxBytes = 64 * 1024): string | undefined {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r');
    try {
      const start = Math.max(from, size - maxBytes, 0);
      const len = Math.max(size - start, 0);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, start);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const newestFirst = [...lines].reverse();
  for (const line of newestFirst) {
    if (line.startsWith('ERROR:')) return line.slice('ERROR:'.length).trim();
    // An uncaught exception: Node prints the error's first line, a stack, then "Node.js vNN".
    if (/^(\w*Error|Error)( \[\w+\])?: /.test(line)) return line.slice(0, 300);
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
      if (typeof rec.level === 'number' && rec.level >= 50) {
        const detail = typeof rec.err?.message === 'string' ? `: ${rec.err.message}` : '';
        return `${String(rec.msg)}${detail}`;
      }
    } catch {
      // not a log record; keep looking
    }
  }
  return newestFirst.find((l) => !l.startsWith('{') && !l.startsWith('at ') && !l.startsWith('Node.js v'))?.slice(0, 300);
}
