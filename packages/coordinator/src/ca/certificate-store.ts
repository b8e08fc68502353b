/**
 * Enrolment tokens and issued certificates in SQLite (tables from migration 004-certificates).
 * Synchronous (better-sqlite3); callers that need several statements to commit together wrap them in
 * the store's transaction.
 */
import type Database from 'better-sqlite3';
import type { AsyncStore } from '../store/async-store.js';
import type { AsyncCertificateStore } from '../store/pg/pg-side-stores.js';
import { promised } from '../store/promised.js';

/** TokenRecord is one enrolment token as stored (its secret only as a hash). */
export interface TokenRecord {
  tokenId: string;
  instanceName: string;
  secretSha256: string;
  createdAt: number;
  expiresAt: number;
  usedAt?: number;
}

/** CertificateRecord is one issued client certificate. */
export interface CertificateRecord {
  serial: string;
  instanceName: string;
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  revokedAt?: number;
  revokeReason?: string;
}

/** CertificateStore reads and writes tokens and certificates. */
export interface CertificateStore {
  putToken(token: TokenRecord): void;
  getToken(tokenId: string): TokenRecord | undefined;
  /** useToken marks an unused token used; false when it was already used (or is unknown). */
  useToken(tokenId: string, at: number): boolean;
  /** retireTokens marks every unused token of `instanceName` used, so none can enrol it again; returns how many. */
  retireTokens(instanceName: string, at: number): number;
  putCertificate(cert: CertificateRecord): void;
  getCertificate(serial: string): CertificateRecord | undefined;
  /** revokeInstance revokes every unrevoked certificate of `instanceName` except `keep`; returns how many. */
  revokeInstance(instanceName: string, at: number, reason: string, keep?: string): number;
  listCertificates(instanceName: string): CertificateRecord[];
}

type TokenRow = { token_id: string; instance_name: string; secret_sha256: string; created_at: number; expires_at: number; used_at: number | null };
type CertRow = { serial: string; instance_name: string; not_before: number; not_after: number; issued_at: number; revoked_at: number | null; revoke_reason: string | null };

/** createCertificateStore prepares the statements over an open, migrated database. */
export function createCertificateStore(db: Database.Database): CertificateStore {
  const insertToken = db.prepare('INSERT INTO enrolment_tokens (token_id, instance_name, secret_sha256, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?)');
  const selectToken = db.prepare('SELECT * FROM enrolment_tokens WHERE token_id = ?');
  const markUsed = db.prepare('UPDATE enrolment_tokens SET used_at = ? WHERE token_id = ? AND used_at IS NULL');
  const retire = db.prepare('UPDATE enrolment_tokens SET used_at = ? WHERE instance_name = ? AND used_at IS NULL');
  const insertCert = db.prepare('INSERT INTO certificates (serial, instance_name, not_before, not_after, issued_at, revoked_at, revoke_reason) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const selectCert = db.prepare('SELECT * FROM certificates WHERE serial = ?');
  const revoke = db.prepare('UPDATE certificates SET revoked_at = ?, revoke_reason = ? WHERE instance_name = ? AND revoked_at IS NULL AND serial != ?');
  const listCerts = db.prepare('SELECT * FROM certificates WHERE instance_name = ? ORDER BY issued_at');
  const token = (r: TokenRow): TokenRecord => ({
    tokenId: r.token_id,
    instanceName: r.instance_name,
    secretSha256: r.secret_sha256,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    ...(r.used_at === null ? {} : { usedAt: r.used_at }),
  });
  const cert = (r: CertRow): CertificateRecord => ({
    serial: r.serial,
    instanceName: r.instance_name,
    notBefore: r.not_before,
    notAfter: r.not_after,
    issuedAt: r.issued_at,
    ...(r.revoked_at === null ? {} : { revokedAt: r.revoked_at }),
    ...(r.revoke_reason === null ? {} : { revokeReason: r.revoke_reason }),
  });
  return {
    putToken: (t) => void insertToken.run(t.tokenId, t.instanceName, t.secretSha256, t.createdAt, t.expiresAt, t.usedAt ?? null),
    getToken(id) {
      const row = selectToken.get(id) as TokenRow | undefined;
      return row === undefined ? undefined : token(row);
    },
    useToken: (id, at) => markUsed.run(at, id).changes === 1,
    retireTokens: (name, at) => retire.run(at, name).changes,
    putCertificate: (c) => void insertCert.run(c.serial, c.instanceName, c.notBefore, c.notAfter, c.issuedAt, c.revokedAt ?? null, c.revokeReason ?? null),
    getCertificate(serial) {
      const row = selectCert.get(serial) as CertRow | undefined;
      return row === undefined ? undefined : cert(row);
    },
    revokeInstance: (name, at, reason, keep = '') => revoke.run(at, reason, name, keep).changes,
    listCertificates: (name) => (listCerts.all(name) as CertRow[]).map(cert),
  };
}

/**
 * CertificateStoreOpener opens the certificate store through an AsyncStore or one of its
 * transactions' handles, so that what is written through a handle commits or rolls back with that
 * transaction (enrolment's token use and certificate record, a deregistration's revocations).
 */
export type CertificateStoreOpener = (db: AsyncStore) => AsyncCertificateStore;

/**
 * sqliteCertificateStores is the opener on the coordinator's SQLite database: every handle of
 * asyncSqliteStore runs on its one connection, so one store serves them all, in a transaction or not.
 */
export function sqliteCertificateStores(db: Database.Database): CertificateStoreOpener {
  const store = promised(createCertificateStore(db));
  return () => store;
}
