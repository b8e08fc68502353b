/**
 * Enrolment: one-time tokens traded for client certificates, renewal, revocation, and the check
 * that a stream's verified client certificate still stands for an instance.
 *
 *   mint:   registered instance → token row (secret hashed) → fde1.<id>.<secret>.<CA fingerprint>
 *   enrol:  parse → right CA? → row, secret, unused, unexpired? → instance registered? → CSR signed by
 *           its key? → sign → one transaction: use the token, revoke the instance's older
 *           certificates, record the new serial → certificate
 *   renew:  (over mutual TLS) the caller's instance only → sign → record
 *   check:  serial recorded, same instance as the CN, not revoked, not expired
 *
 * Expected refusals are {@link EnrolmentError}s with a code; the RPC layer maps codes to gRPC statuses.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AsyncStore } from '../store/async-store.js';
import type { AsyncCertificateStore } from '../store/pg/pg-side-stores.js';
import type { Authority } from './authority.js';
import { CsrError, normalSerial, verifyCsr } from './authority.js';
import type { CertificateRecord, CertificateStoreOpener } from './certificate-store.js';
import { tokenFiles } from './token-files.js';
import { formatToken, newToken, parseToken, secretHash, secretMatches } from './tokens.js';

/** EnrolmentErrorCode names each way enrolment, renewal or a certificate check is refused. */
export const EnrolmentErrorCode = {
  TOKEN_MALFORMED: 'TOKEN_MALFORMED',
  TOKEN_UNKNOWN: 'TOKEN_UNKNOWN',
  TOKEN_USED: 'TOKEN_USED',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_OTHER_CA: 'TOKEN_OTHER_CA',
  INSTANCE_NOT_REGISTERED: 'INSTANCE_NOT_REGISTERED',
  CSR_INVALID: 'CSR_INVALID',
  CERTIFICATE_UNKNOWN: 'CERTIFICATE_UNKNOWN',
  CERTIFICATE_REVOKED: 'CERTIFICATE_REVOKED',
  CERTIFICATE_EXPIRED: 'CERTIFICATE_EXPIRED',
  CERTIFICATE_MISMATCH: 'CERTIFICATE_MISMATCH',
} as const;
export type EnrolmentErrorCode = (typeof EnrolmentErrorCode)[keyof typeof EnrolmentErrorCode];

/** EnrolmentError is an expected refusal; branch on `code`. */
export class EnrolmentError extends Error {
  constructor(
    readonly code: EnrolmentErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EnrolmentError';
  }
}

/** ENROLMENT_DIR holds `<instance>.token` files that RegisterOnPremisesInstance writes (0600). */
export const ENROLMENT_DIR = 'enrolment';

/** IssuedIdentity is what enrolment and renewal hand back to the agent. */
export interface IssuedIdentity {
  instanceName: string;
  certificatePem: string;
  caPem: string;
  serial: string;
  notAfter: number;
}

/** PeerIdentity is what the TLS layer verified about a client certificate. */
export interface PeerIdentity {
  /** Hex, as Node's getPeerCertificate() reports it. */
  serialNumber: string;
  commonName: string;
}

/** Enrolment is the service; build it with {@link createEnrolment}. */
export interface Enrolment {
  readonly authority: Authority;
  /** mintToken makes a token for a registered instance, valid for `ttlMs` (default the configured TTL). */
  mintToken(instanceName: string, ttlMs?: number): Promise<string>;
  /** writeTokenFile mints a token and writes it to `<dataDir>/enrolment/<name>.token` (0600); returns it. */
  writeTokenFile(instanceName: string): Promise<string>;
  enrol(token: string, csrPem: string): Promise<IssuedIdentity>;
  renew(instanceName: string, csrPem: string): Promise<IssuedIdentity>;
  /** check resolves to the certificate's record if it still stands for its instance, else rejects. */
  check(peer: PeerIdentity): Promise<CertificateRecord>;
  /** instanceDeregistered revokes the instance's certificates and retires its unused tokens. */
  instanceDeregistered(instanceName: string): Promise<void>;
}

/** EnrolmentDeps are passed in by the composition root (or `enrol-token`). */
export interface EnrolmentDeps {
  store: AsyncStore;
  /** The tokens and certificates, opened through `store` or one of its transactions' handles. */
  certificates: CertificateStoreOpener;
  authority: Authority;
  now: () => number;
  dataDir: string;
  /** How long issued client certificates are valid. */
  validityMs: number;
  /** How long a token is valid unless the caller says otherwise. */
  tokenTtlMs: number;
}

/** createEnrolment builds the service. */
export function createEnrolment(deps: EnrolmentDeps): Enrolment {
  const { store, certificates, authority, now } = deps;
  const files = tokenFiles(path.join(deps.dataDir, ENROLMENT_DIR));

  /** requireRegistered reads the instance through `db`: the store, or a transaction's handle. */
  const requireRegistered = async (db: AsyncStore, name: string): Promise<void> => {
    const instance = await db.getInstance(name);
    if (instance === undefined || instance.deregisterTime !== undefined) {
      throw new EnrolmentError(EnrolmentErrorCode.INSTANCE_NOT_REGISTERED, `no registered on-premises instance is named ${name}; register it first (aws deploy register-on-premises-instance)`);
    }
  };

  const verified = async (csrPem: string) => {
    try {
      return await verifyCsr(csrPem);
    } catch (err) {
      if (err instanceof CsrError) throw new EnrolmentError(EnrolmentErrorCode.CSR_INVALID, err.message);
      throw err;
    }
  };

  /**
   * issue signs the CSR, then records the certificate in one transaction with `commit`'s writes.
   * The body makes only calls through the transaction's handle (on SQLite it never yields), and
   * PostgreSQL may run it again after a conflict, so `commit` has no other effects.
   */
  const issue = async (instanceName: string, csrPem: string, commit: (certs: AsyncCertificateStore, serial: string) => Promise<void>): Promise<IssuedIdentity> => {
    const csr = await verified(csrPem);
    const at = now();
    const cert = await authority.issueClient(instanceName, csr, at, deps.validityMs);
    await store.transaction(async (tx) => {
      const certs = certificates(tx);
      await commit(certs, cert.serial);
      await requireRegistered(tx, instanceName);
      await certs.putCertificate({ serial: cert.serial, instanceName, notBefore: cert.notBefore, notAfter: cert.notAfter, issuedAt: at });
    });
    return { instanceName, certificatePem: cert.pem, caPem: authority.certPem, serial: cert.serial, notAfter: cert.notAfter };
  };

  const mintToken = async (instanceName: string, ttlMs = deps.tokenTtlMs): Promise<string> => {
    await requireRegistered(store, instanceName);
    const token = newToken(authority.fingerprint);
    const at = now();
    await certificates(store).putToken({ tokenId: token.id, instanceName, secretSha256: secretHash(token.secret), createdAt: at, expiresAt: at + ttlMs });
    return formatToken(token);
  };

  return {
    authority,
    mintToken,
    async writeTokenFile(instanceName) {
      const token = await mintToken(instanceName);
      files.write(instanceName, `${token}\n`);
      return token;
    },

    async enrol(text, csrPem) {
      const token = parseToken(text);
      if (token === undefined) throw new EnrolmentError(EnrolmentErrorCode.TOKEN_MALFORMED, 'not an enrolment token (expected fde1.<id>.<secret>.<fingerprint>)');
      if (token.fingerprint !== authority.fingerprint) throw new EnrolmentError(EnrolmentErrorCode.TOKEN_OTHER_CA, "the token was made for another coordinator's CA");
      const record = await certificates(store).getToken(token.id);
      // An unknown id and a wrong secret read the same, so the answer tells a guesser nothing.
      if (record === undefined || !secretMatches(token.secret, record.secretSha256)) throw new EnrolmentError(EnrolmentErrorCode.TOKEN_UNKNOWN, 'unknown enrolment token');
      const check = (): void => {
        if (record.usedAt !== undefined) throw new EnrolmentError(EnrolmentErrorCode.TOKEN_USED, 'the enrolment token was already used; make a new one (fleetdeploy-coordinator enrol-token)');
        if (now() >= record.expiresAt) throw new EnrolmentError(EnrolmentErrorCode.TOKEN_EXPIRED, `the enrolment token expired at ${new Date(record.expiresAt).toISOString()}; make a new one (fleetdeploy-coordinator enrol-token)`);
      };
      check();
      await requireRegistered(store, record.instanceName);
      const issued = await issue(record.instanceName, csrPem, async (certs, serial) => {
        check();
        // Used in the transaction that records the certificate, by one conditional statement (on
        // PostgreSQL too): of two agents racing with one token, on one coordinator or two, one gets a certificate.
        if (!(await certs.useToken(token.id, now()))) throw new EnrolmentError(EnrolmentErrorCode.TOKEN_USED, 'the enrolment token was already used; make a new one (fleetdeploy-coordinator enrol-token)');
        // A new enrolment means a new host for this name: the old one's certificates stop counting.
        await certs.revokeInstance(record.instanceName, now(), 're-enrolled', serial);
      });
      try {
        if (fs.readFileSync(files.path(record.instanceName), 'utf8').trim() === text.trim()) files.remove(record.instanceName);
      } catch {
        // no token file, or another token's: nothing to tidy
      }
      return issued;
    },

    async renew(instanceName, csrPem) {
      await requireRegistered(store, instanceName);
      return issue(instanceName, csrPem, () => Promise.resolve());
    },

    async check(peer) {
      let serial: string;
      try {
        serial = normalSerial(peer.serialNumber);
      } catch {
        throw new EnrolmentError(EnrolmentErrorCode.CERTIFICATE_UNKNOWN, 'the client certificate has no readable serial number');
      }
      const record = await certificates(store).getCertificate(serial);
      if (record === undefined) throw new EnrolmentError(EnrolmentErrorCode.CERTIFICATE_UNKNOWN, 'this coordinator did not issue the client certificate; enrol again');
      if (record.instanceName !== peer.commonName) throw new EnrolmentError(EnrolmentErrorCode.CERTIFICATE_MISMATCH, 'the client certificate does not name the instance it was issued for');
      if (record.revokedAt !== undefined) throw new EnrolmentError(EnrolmentErrorCode.CERTIFICATE_REVOKED, `the client certificate of ${record.instanceName} was revoked (${record.revokeReason ?? 'revoked'}); enrol again with a new token`);
      if (now() >= record.notAfter) throw new EnrolmentError(EnrolmentErrorCode.CERTIFICATE_EXPIRED, `the client certificate of ${record.instanceName} expired; enrol again with a new token`);
      return record;
    },

    async instanceDeregistered(instanceName) {
      await store.transaction(async (tx) => {
        const certs = certificates(tx);
        await certs.revokeInstance(instanceName, now(), 'instance deregistered');
        await certs.retireTokens(instanceName, now());
      });
      files.remove(instanceName);
    },
  };
}
