/** Types of local-postgres.mjs (a throwaway PostgreSQL server for tests and benchmarks). */

/** PG_BIN is where Debian 12 installs PostgreSQL 15's server programs. */
export declare const PG_BIN: string;

/** PostgresServer is a running throwaway server. */
export interface PostgresServer {
  /** url is a connection string to its `postgres` database, over the unix socket. */
  url: string;
  /** socketDir is the directory holding the server's socket. */
  socketDir: string;
  /** freshDatabase creates an empty database and returns its connection string. */
  freshDatabase(): Promise<string>;
  /** shutDown stops the server (immediate shutdown, as a crash would) and keeps its files, for startAgain. */
  shutDown(): Promise<void>;
  /** startAgain starts the server shut down by shutDown, at the same socket, with the same databases. */
  startAgain(): Promise<void>;
  /** stop ends the server (immediate shutdown) and removes its directory. */
  stop(): Promise<void>;
}

/** PostgresOptions size the server (defaults: 50 connections, 16MB shared buffers). */
export interface PostgresOptions {
  maxConnections?: number;
  sharedBuffers?: string;
  /** Further server settings, passed as `-c name=value`. */
  settings?: Record<string, string | number>;
}

/** connectionUrl is the URL of `database` on the server whose socket is in `socketDir`. */
export declare function connectionUrl(socketDir: string, database: string): string;

/** startPostgres initialises and starts a server; call stop() when done. */
export declare function startPostgres(options?: PostgresOptions): Promise<PostgresServer>;
