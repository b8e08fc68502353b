/**
 * The agent's structured log. Modules take a Logger and bind what they act on (deploymentId, event,
 * commandId) with child(); messages are constant lowercase text with data in fields. Script output
 * never goes here: it has its own per-deployment scripts.log.
 */

import fs from 'node:fs';
import path from 'node:path';
import { DeployError } from '@fleetdeploy/shared';
import type { LogFormat } from '@fleetdeploy/shared';
import type { Logger as Logger_ } from 'pino';

/** Logger is the part of pino's logger the agent uses, so tests and quiet runs can pass silentLogger. */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(bindings: object): Logger;
}

/** silentLogger drops everything; the default where no one asked for logs. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

/** LogLevel is the least severe level a logger writes. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * createLogger makes a pino logger writing JSON lines to standard error. pino is loaded only here,
 * so runs that log nothing do not pay for loading it.
 */
export async function createLogger(level: LogLevel, name = 'fleetdeploy-agent'): Promise<Logger> {
  const { pino } = await import('pino');
  return adapt(pino({ name, level }, pino.destination(2)));
}

/** DaemonLog is the daemon's logger and the hook that reopens its log file. */
export interface DaemonLog {
  log: Logger;
  /** reopen opens the log file again by its name (after logrotate moved it); a no-op without a file. */
  reopen(): void;
}

/**
 * createDaemonLogger makes the daemon's logger: JSON lines on standard error (or, with `pretty`,
 * pino-pretty's text for a person), and, when `file` is given (`<log_dir>/codedeploy-agent.log`), the
 * same events appended to it as JSON lines whatever the format, as Nomad's `log_file` adds to its
 * console log: the file is for machines. The folder is made if missing; a file that cannot be opened
 * is a DeployError naming it and why, before anything runs.
 */
export async function createDaemonLogger(level: LogLevel, file: string | undefined, name = 'fleetdeploy-agent', format: LogFormat = 'json'): Promise<DaemonLog> {
  const { pino } = await import('pino');
  const stderr = format === 'json' ? pino.destination(2) : await prettyStderr();
  if (file === undefined) return { log: adapt(pino({ name, level }, stderr)), reopen: () => undefined };
  checkWritable(file);
  const toFile = pino.destination({ dest: file, append: true, sync: true });
  const streams = pino.multistream([
    { level, stream: stderr },
    { level, stream: toFile },
  ]);
  return { log: adapt(pino({ name, level }, streams)), reopen: () => toFile.reopen() };
}

/** prettyStderr loads pino-pretty only when asked for; synchronous, so the last lines before an exit are written. */
async function prettyStderr(): Promise<NodeJS.WritableStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true });
}

/** checkWritable makes the log's folder and opens the file for appending once, to fail early and clearly. */
function checkWritable(file: string): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.closeSync(fs.openSync(file, 'a', 0o640));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new DeployError('UnknownError', `cannot write the agent log ${file} (log_dir): ${e.code ?? e.message}`);
  }
}

type PinoLogger = Logger_;

/** adapt narrows a pino logger to {@link Logger} (whose shape an async function can return). */
function adapt(p: PinoLogger): Logger {
  return {
    debug: (fields, message) => p.debug(fields, message),
    info: (fields, message) => p.info(fields, message),
    warn: (fields, message) => p.warn(fields, message),
    error: (fields, message) => p.error(fields, message),
    child: (bindings) => adapt(p.child(bindings)),
  };
}
