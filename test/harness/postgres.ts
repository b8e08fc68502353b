/**
 * PostgreSQL for the tests: the throwaway server of scripts/lib/local-postgres.mjs (shared with the
 * benchmarks; Debian's `postgresql` 15, a unix socket in a temporary directory, trust authentication,
 * fsync off), and usePostgres to give a suite one. Suites using it go under
 * `describeWithTools(['postgres'], ...)`.
 */
import { afterAll, beforeAll } from 'vitest';
import { startPostgres } from '../../scripts/lib/local-postgres.mjs';
import type { PostgresServer } from '../../scripts/lib/local-postgres.mjs';

export { connectionUrl, PG_BIN, startPostgres } from '../../scripts/lib/local-postgres.mjs';
export type { PostgresServer } from '../../scripts/lib/local-postgres.mjs';

/**
 * usePostgres gives the enclosing suite a server, started before its tests and stopped after them
 * (its stop is the suite's first after-hook, so it runs after those the suite adds later); the
 * accessor returns it from inside a test or hook.
 */
export function usePostgres(): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) throw new Error('the PostgreSQL server is not started: use it inside a test or hook of the suite that called usePostgres');
    return server;
  };
}

