/**
 * createLogger makes the coordinator's pino logger on standard error (stdout stays for what users
 * read): JSON lines, or with `pretty` pino-pretty's text for a person, loaded only then.
 */
import pino from 'pino';
import type { Logger } from 'pino';
import type { LogFormat } from '@fleetdeploy/shared';

export type { Logger };

export async function createLogger(level: string, format: LogFormat = 'json'): Promise<Logger> {
  const options = { level, base: { service: 'coordinator' } };
  if (format === 'json') return pino(options, pino.destination({ fd: 2, sync: false }));
  const { default: pretty } = await import('pino-pretty');
  return pino(options, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true }));
}
