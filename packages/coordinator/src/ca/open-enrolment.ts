/**
 * openEnrolment assembles enrolment from a configuration and an open store: the CA (made at first
 * start or the operator's), the certificate tables and the configured lifetimes. The daemon and
 * `fleetdeploy-coordinator enrol-token` (a second process on the same data directory) both use it.
 */
import os from 'node:os';
import type { CoordinatorConfig } from '../config.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import type { AsyncStore } from '../store/async-store.js';
import { openAuthority } from './authority.js';
import type { Authority, CaFiles } from './authority.js';
import { sqliteCertificateStores } from './certificate-store.js';
import { createEnrolment } from './enrolment.js';
import type { Enrolment, EnrolmentDeps } from './enrolment.js';

/** EnrolmentStores are where enrolment keeps its state: the store and its certificate tables. */
export type EnrolmentStores = Pick<EnrolmentDeps, 'store' | 'certificates'>;

/**
 * sqliteEnrolmentStores are enrolment's stores on an open SQLite store, given the one
 * asyncSqliteStore over it (there is one per connection: it serializes the transactions).
 */
export function sqliteEnrolmentStores(store: SqliteStore, asyncStore: AsyncStore): EnrolmentStores {
  return { store: asyncStore, certificates: sqliteCertificateStores(store.db) };
}

/** AuthorityOpener loads the CA (the data directory's on SQLite, the database's on PostgreSQL: storage/storage.ts). */
export type AuthorityOpener = (dataDir: string, files: CaFiles, now: number) => Promise<Authority>;

/** openEnrolment loads (or creates) the CA with `openCa` and returns the enrolment service over `stores`. */
export async function openEnrolment(config: CoordinatorConfig, stores: EnrolmentStores, now: () => number, openCa: AuthorityOpener = openAuthority): Promise<Enrolment> {
  const authority = await openCa(config.dataDir, { ...(config.caCertFile !== undefined ? { certFile: config.caCertFile } : {}), ...(config.caKeyFile !== undefined ? { keyFile: config.caKeyFile } : {}) }, now());
  return createEnrolment({
    ...stores,
    authority,
    now,
    dataDir: config.dataDir,
    validityMs: config.certificateValiditySeconds * 1000,
    tokenTtlMs: config.enrolmentTokenTtlSeconds * 1000,
  });
}

/**
 * serverNames are the names the agents' server certificate carries: the listen address (unless it
 * is a wildcard), loopback, and this host's name, so agents may dial any of them.
 */
export function serverNames(host: string): string[] {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  return [...new Set([...(wildcard ? [] : [host]), '127.0.0.1', '::1', 'localhost', os.hostname()])];
}
