/**
 * Reading the daemons' log files: following one for a line (an agent's "connected to coordinator"),
 * and summing up why a daemon stopped in one line for the operator.
 */
import fs from 'node:fs';
import { sleep } from '../clock.js';

/**
 * followLog calls `onLine` with each complete line appended to `file` (from its start), polling
 * every `intervalMs`, until `onLine` returns true or `signal` aborts. A file that does not exist yet
 * is waited for.
 */
export async function followLog(file: string, onLine: (line: string) => boolean, signal: AbortSignal, intervalMs = 100): Promise<boolean> {
  let offset = 0;
  let partial = '';
  while (!signal.aborted) {
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      size = 0;
    }
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
 * failureSummary is the one line that best says why a daemon stopped, from the end of its log: an
 * `ERROR: ...` line it printed, else the last pino record at level error or above (its msg and
 * err.message), else an uncaught exception's first line, else the last line that is neither a log
 * record nor part of a stack. Undefined when there is none (a daemon killed while all was well).
 */
export function failureSummary(file: string, maxBytes = 64 * 1024): string | undefined {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r');
    try {
      const len = Math.min(size, maxBytes);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const newestFirst = [...lines].reverse();
  const printed = newestFirst.find((l) => l.startsWith('ERROR:'));
  if (printed !== undefined) return printed.slice('ERROR:'.length).trim();
  for (const line of newestFirst) {
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
  // An uncaught exception: Node prints the error's first line, a stack, then "Node.js vNN".
  const thrown = lines.find((l) => /^(\w*Error|Error)( \[\w+\])?: /.test(l));
  if (thrown !== undefined) return thrown.slice(0, 300);
  return newestFirst.find((l) => !l.startsWith('{') && !l.startsWith('at ') && !l.startsWith('Node.js v'))?.slice(0, 300);
}
