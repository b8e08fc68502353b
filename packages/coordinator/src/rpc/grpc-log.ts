/**
 * grpc-js writes its own log lines straight to standard error (`E No address added out of total 1
 * resolved` before a port-in-use error we explain ourselves). routeGrpcLogs sends them to the
 * coordinator's logger at debug level instead, so an operator sees only our messages unless they
 * ask for more with --log-level debug.
 */
import { format } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';

/** routeGrpcLogs makes `log` (at debug) the process-wide grpc-js logger. */
export function routeGrpcLogs(log: Logger): void {
  const toDebug = (severity: string) => (message?: unknown, ...rest: unknown[]) => log.debug({ part: 'grpc', severity }, format(message, ...rest));
  grpc.setLogger({ error: toDebug('error'), info: toDebug('info'), debug: toDebug('debug') });
}
