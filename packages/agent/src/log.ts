/**
 * The agent's structured log. Modules take a Logger and bind what they act on (deploymentId, event,
 * commandId) with child(); messages are constant lowercase text with data in fields. Script output
 * never goes here: it has its own per-deployment scripts.log.
 */

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
