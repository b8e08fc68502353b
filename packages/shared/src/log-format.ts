/**
 * How the daemons write their logs on standard error: `json` (pino's JSON lines, for log shippers
 * and grep) or `pretty` (pino-pretty's coloured one-line-per-event text, for a person at a terminal).
 * pino-pretty is loaded only when `pretty` is asked for.
 */

/** LogFormat is a daemon's log format. */
export type LogFormat = 'json' | 'pretty';

/** LOG_FORMATS lists the formats, the default first. */
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** isLogFormat tells whether a setting's value names a format. */
export function isLogFormat(value: unknown): value is LogFormat {
  return typeof value === 'string' && (LOG_FORMATS as readonly string[]).includes(value);
}
