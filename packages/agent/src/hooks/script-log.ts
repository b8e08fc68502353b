/**
 * The per-deployment script log, in the AWS agent's exact formats: operators grep `scripts.log` and
 * the shared deployments log, and existing tooling parses their prefixes.
 */
import { join } from 'node:path';
import { AppendFile } from './append-file.js';
import { LogTail } from './log-tail.js';

/** DEPLOYMENTS_LOG_ROTATION is the AWS agent's: 64 MiB per file, 8 files. */
export const DEPLOYMENTS_LOG_ROTATION = { maxBytes: 64 * 1024 * 1024, files: 8 };

/**
 * ScriptLog records what hook scripts do: every message goes to `<deploymentRoot>/logs/scripts.log`
 * as `YYYY-MM-DD HH:MM:SS <message>` (local time), optionally to the agent-wide deployments log as
 * `[YYYY-MM-DD HH:MM:SS.mmm] [<deployment-id>]<message stripped>`, and into the diagnostics tail.
 * Files are created on the first message, so an event without scripts leaves none behind.
 */
export class ScriptLog {
  private readonly scripts: AppendFile;
  private readonly deployments: AppendFile | null;
  private readonly tail = new LogTail();

  /**
   * @param deploymentRoot `<root_dir>/<DGID>/<deployment-id>`; the log goes to its `logs/scripts.log`.
   * @param deploymentsLogPath the `codedeploy-agent-deployments.log` path, or null when disabled.
   * @param now the clock, injectable so tests can pin the timestamps.
   */
  constructor(
    deploymentRoot: string,
    private readonly deploymentId: string,
    deploymentsLogPath: string | null,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.scripts = new AppendFile(join(deploymentRoot, 'logs', 'scripts.log'));
    this.deployments = deploymentsLogPath === null ? null : new AppendFile(deploymentsLogPath, DEPLOYMENTS_LOG_ROTATION);
  }

  /** scriptsLogPath is where this deployment's `scripts.log` lives (whether or not it exists yet). */
  get scriptsLogPath(): string {
    return this.scripts.path;
  }

  /**
   * startEvent begins a lifecycle event: the diagnostics tail starts empty, as the agent keeps one per
   * event, and `LifecycleEvent - <event>` is logged.
   */
  startEvent(event: string): void {
    this.tail.clear();
    this.append(`LifecycleEvent - ${event}\n`);
  }

  /** script logs `Script - <location>` before a script runs. */
  script(location: string): void {
    this.append(`Script - ${location}\n`);
  }

  /** output logs one line a script printed, with its newline if it had one, tagged by stream. */
  output(stream: 'stdout' | 'stderr', line: string): void {
    this.append(`[${stream}]${line}`);
  }

  /** append logs one message verbatim (it carries its own newline) to every destination. */
  append(message: string): void {
    const at = this.now();
    this.tail.append(message);
    this.scripts.write(`${scriptsLogTime(at)} ${message}`);
    this.deployments?.write(`[${deploymentsLogTime(at)}] [${this.deploymentId}]${rubyStrip(message)}\n`);
  }

  /** logTail is the current diagnostics tail of the event, as a failure reports it. */
  logTail(): string {
    return this.tail.text();
  }

  /** flush waits until everything logged so far is on disk; rejects with the first write error. */
  async flush(): Promise<void> {
    const results = await Promise.allSettled([this.scripts.flush(), this.deployments?.flush()]);
    throwFirstRejection(results);
  }

  /** close flushes and closes the files; a later message reopens them in append mode. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([this.scripts.close(), this.deployments?.close()]);
    throwFirstRejection(results);
  }
}

function throwFirstRejection(results: PromiseSettledResult<unknown>[]): void {
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** scriptsLogTime is Ruby's `Time.now.to_s` without the zone: `YYYY-MM-DD HH:MM:SS`, local time. */
function scriptsLogTime(d: Date): string {
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** deploymentsLogTime is the deployments log's `YYYY-MM-DD HH:MM:SS.mmm`, local time. */
function deploymentsLogTime(d: Date): string {
  return `${scriptsLogTime(d)}.${pad(d.getMilliseconds(), 3)}`;
}

/**
 * rubyStrip removes what Ruby's String#strip removes (ASCII whitespace and NUL), not the wider
 * Unicode set of String.prototype.trim, so the deployments log matches the agent's byte for byte.
 */
function rubyStrip(s: string): string {
  return s.replace(/^[\0\t\n\v\f\r ]+/, '').replace(/[\0\t\n\v\f\r ]+$/, '');
}
