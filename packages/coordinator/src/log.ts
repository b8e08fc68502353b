/** createLogger makes the coordinator's pino logger: JSON lines on standard error, stdout stays for what users read. */
import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'coordinator' } }, pino.destination({ fd: 2, sync: false }));
}
