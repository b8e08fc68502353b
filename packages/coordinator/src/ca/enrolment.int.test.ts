/**
 * Enrolment over a real SQLite store and a real CA in a temporary data directory: issuing, one-time
 * and expiring tokens, the CA pin, certificate checks, renewal and revocation.
 */
import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { CA_DIR, CA_KEY_FILE, fingerprintOf, INSTANCE_URI_PREFIX, loadAuthority, openAuthority } from './authority.js';
import { createCertificateStore, sqliteCertificateStores } from './certificate-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import { openPgStore } from '../store/pg/pg-store.js';
import type { PgStore } from '../store/pg/pg-store.js';
import { pgCertificateStore, pgThrough } from '../store/pg/pg-side-stores.js';
import { describeWithTools } from '../../../../test/harness/system-tools.js';
import { usePostgres } from '../../../../test/harness/postgres.js';
import { createEnrolment, ENROLMENT_DIR, EnrolmentError } from './enrolment.js';
import type { Enrolment, EnrolmentErrorCode } from './enrolment.js';
import { formatToken, parseToken } from './tokens.js';

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;

/** csr makes a key pair and a CSR whose subject says `cn` (the coordinator ignores it). */
async function csr(cn = 'anything'): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const req = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${cn}`, keys, signingAlgorithm: alg });
  return req.toString('pem');
}

async function refusal(work: Promise<unknown> | (() => unknown)): Promise<EnrolmentErrorCode> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (err) {
    if (err instanceof EnrolmentError) return err.code;
    throw err;
  }
  throw new Error('expected a refusal');
}

let dir: string;
let store: SqliteStore;
let now: number;
let enrolment: Enrolment;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-ca-'));
  store = openSqliteStore(dir);
  now = T0;
  const authority = await openAuthority(dir, {}, now);
  enrolment = createEnrolment({ store: asyncSqliteStore(store), certificates: sqliteCertificateStores(store.db), authority, now: () => now, dataDir: dir, validityMs: 30 * 24 * HOUR, tokenTtlMs: 24 * HOUR });
  for (const name of ['web-1', 'web-2']) store.putInstance({ instanceName: name, instanceArn: `arn:x:${name}`, registerTime: T0, tags: [] });
});
afterEach(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the certificate authority', () => {
  it('is made once at first start with its key readable only by its owner, and reloaded after', async () => {
    const keyFile = path.join(dir, CA_DIR, CA_KEY_FILE);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, CA_DIR)).mode & 0o777).toBe(0o700);
    const again = await openAuthority(dir, {}, now);
    expect(again.fingerprint).toBe(enrolment.authority.fingerprint);
    const ca = new X509Certificate(enrolment.authority.certPem);
    expect(ca.ca).toBe(true);
    expect(enrolment.authority.fingerprint).toBe(fingerprintOf(enrolment.authority.certPem));
  });

  it("takes the operator's CA files and refuses a key that is not the certificate's", async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-ca-op-'));
    const made = await openAuthority(other, {}, now);
    const certFile = path.join(other, CA_DIR, 'ca.pem');
    const keyFile = path.join(other, CA_DIR, CA_KEY_FILE);
    const given = await openAuthority(path.join(other, 'data'), { certFile, keyFile }, now);
    expect(given.fingerprint).toBe(made.fingerprint);
    expect(fs.readFileSync(path.join(other, 'data', CA_DIR, 'ca.pem'), 'utf8')).toBe(fs.readFileSync(certFile, 'utf8'));
    await expect(loadAuthority(enrolment.authority.certPem, fs.readFileSync(keyFile, 'utf8'))).rejects.toThrow(/does not belong/);
    await expect(openAuthority(other, { certFile }, now)).rejects.toThrow(/give both or neither/);
    fs.rmSync(other, { recursive: true, force: true });
  });

  it('issues a server certificate for the given names, chained to the CA', async () => {
    const server = await enrolment.authority.issueServer(['127.0.0.1', 'localhost', 'coord.example'], now);
    const leaf = new X509Certificate(server.chainPem);
    expect(leaf.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost, DNS:coord.example');
    expect(leaf.verify(new X509Certificate(enrolment.authority.certPem).publicKey)).toBe(true);
    expect(server.chainPem).toContain(enrolment.authority.certPem.trim());
  });
});

describe('enrolment', () => {
  it("trades a token for a certificate naming the token's instance, whatever the CSR says", async () => {
    const token = await enrolment.mintToken('web-1');
    const issued = await enrolment.enrol(token, await csr('web-2'));
    const cert = new X509Certificate(issued.certificatePem);
    expect(cert.subject).toBe('CN=web-1');
    expect(cert.subjectAltName).toBe(`URI:${INSTANCE_URI_PREFIX}web-1`);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.verify(new X509Certificate(issued.caPem).publicKey)).toBe(true);
    expect(new Date(cert.validTo).getTime()).toBe(T0 + 30 * 24 * HOUR);
    expect(await enrolment.check({ serialNumber: cert.serialNumber, commonName: 'web-1' })).toMatchObject({ instanceName: 'web-1', serial: issued.serial });
  });

  it('refuses a used token, an expired one, a wrong secret, a malformed one and one for another CA', async () => {
    const token = await enrolment.mintToken('web-1');
    await enrolment.enrol(token, await csr());
    expect(await refusal(enrolment.enrol(token, await csr()))).toBe('TOKEN_USED');

    const short = await enrolment.mintToken('web-2', 60_000);
    now += 60_000;
    expect(await refusal(enrolment.enrol(short, await csr()))).toBe('TOKEN_EXPIRED');

    const parts = parseToken(await enrolment.mintToken('web-2'))!;
    expect(await refusal(enrolment.enrol(formatToken({ ...parts, secret: 'x'.repeat(43) }), await csr()))).toBe('TOKEN_UNKNOWN');
    expect(await refusal(enrolment.enrol(formatToken({ ...parts, id: '0123456789abcdef' }), await csr()))).toBe('TOKEN_UNKNOWN');
    expect(await refusal(enrolment.enrol(formatToken({ ...parts, fingerprint: 'B'.repeat(43) }), await csr()))).toBe('TOKEN_OTHER_CA');
    expect(await refusal(enrolment.enrol('not-a-token', await csr()))).toBe('TOKEN_MALFORMED');
    // None of those used the good token up.
    await expect(enrolment.enrol(formatToken(parts), await csr())).resolves.toMatchObject({ instanceName: 'web-2' });
  });

  it('gives one certificate to two agents racing with one token', async () => {
    const token = await enrolment.mintToken('web-1');
    const csrs = [await csr(), await csr()];
    const outcomes = await Promise.allSettled(csrs.map((c) => enrolment.enrol(token, c)));
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')?.reason).toMatchObject({ name: 'EnrolmentError', code: 'TOKEN_USED' });
    expect(createCertificateStore(store.db).listCertificates('web-1')).toHaveLength(1);
  });

  it('refuses a CSR that is not signed by its own key, without using the token', async () => {
    const token = await enrolment.mintToken('web-1');
    const good = await csr();
    const der = Buffer.from(good.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0xff; // inside the signature
    const broken = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(await refusal(enrolment.enrol(token, broken))).toBe('CSR_INVALID');
    expect(await refusal(enrolment.enrol(token, 'garbage'))).toBe('CSR_INVALID');
    await expect(enrolment.enrol(token, good)).resolves.toBeDefined();
  });

  it('mints only for registered instances and writes the registration token file 0600', async () => {
    expect(await refusal(enrolment.mintToken('nobody'))).toBe('INSTANCE_NOT_REGISTERED');
    const token = await enrolment.writeTokenFile('web-1');
    const file = path.join(dir, ENROLMENT_DIR, 'web-1.token');
    expect(fs.readFileSync(file, 'utf8')).toBe(`${token}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await enrolment.enrol(token, await csr());
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('certificate checks, renewal and revocation', () => {
  it('refuses an unknown serial, a CN that is not the recorded instance, and an expired certificate', async () => {
    const issued = await enrolment.enrol(await enrolment.mintToken('web-1'), await csr());
    const serialNumber = new X509Certificate(issued.certificatePem).serialNumber;
    expect(await refusal(() => enrolment.check({ serialNumber: '0abc', commonName: 'web-1' }))).toBe('CERTIFICATE_UNKNOWN');
    expect(await refusal(() => enrolment.check({ serialNumber, commonName: 'web-2' }))).toBe('CERTIFICATE_MISMATCH');
    now = issued.notAfter;
    expect(await refusal(() => enrolment.check({ serialNumber, commonName: 'web-1' }))).toBe('CERTIFICATE_EXPIRED');
  });

  it('renews for the same instance and keeps the old certificate until it expires', async () => {
    const first = await enrolment.enrol(await enrolment.mintToken('web-1'), await csr());
    now += 20 * 24 * HOUR;
    const renewed = await enrolment.renew('web-1', await csr('web-2'));
    expect(new X509Certificate(renewed.certificatePem).subject).toBe('CN=web-1');
    expect(renewed.notAfter).toBe(now + 30 * 24 * HOUR);
    for (const c of [first, renewed]) expect((await enrolment.check({ serialNumber: new X509Certificate(c.certificatePem).serialNumber, commonName: 'web-1' })).instanceName).toBe('web-1');
  });

  it('a new enrolment of the same instance revokes its older certificates', async () => {
    const first = await enrolment.enrol(await enrolment.mintToken('web-1'), await csr());
    await enrolment.enrol(await enrolment.mintToken('web-1'), await csr());
    expect(await refusal(() => enrolment.check({ serialNumber: new X509Certificate(first.certificatePem).serialNumber, commonName: 'web-1' }))).toBe('CERTIFICATE_REVOKED');
  });

  it('deregistering revokes every certificate and retires unused tokens', async () => {
    const issued = await enrolment.enrol(await enrolment.mintToken('web-1'), await csr());
    const spare = await enrolment.mintToken('web-1');
    await enrolment.instanceDeregistered('web-1');
    expect(await refusal(() => enrolment.check({ serialNumber: new X509Certificate(issued.certificatePem).serialNumber, commonName: 'web-1' }))).toBe('CERTIFICATE_REVOKED');
    store.putInstance({ instanceName: 'web-1', instanceArn: 'arn:x:web-1', registerTime: now, tags: [] });
    expect(await refusal(enrolment.enrol(spare, await csr()))).toBe('TOKEN_USED');
    store.putInstance({ instanceName: 'web-1', instanceArn: 'arn:x:web-1', registerTime: now, deregisterTime: now, tags: [] });
    expect(await refusal(enrolment.renew('web-1', await csr()))).toBe('INSTANCE_NOT_REGISTERED');
  });
});

describeWithTools(['postgres'], 'enrolment on PostgreSQL, two coordinators sharing the database', () => {
  const server = usePostgres();
  const opened: PgStore[] = [];
  afterEach(async () => {
    for (const pg of opened.splice(0)) await pg.close();
  });

  /** replicas opens two enrolment services (each its own pool) on one fresh database and one CA. */
  const replicas = async (): Promise<[Enrolment, Enrolment, PgStore]> => {
    const url = await server().freshDatabase();
    const authority = await openAuthority(dir, {}, now);
    const make = async () => {
      const pg = await openPgStore(url, { poolSize: 2 });
      opened.push(pg);
      const certificates = pgThrough(pgCertificateStore, 'certificate store');
      return { pg, enrolment: createEnrolment({ store: pg, certificates, authority, now: () => now, dataDir: dir, validityMs: 30 * 24 * HOUR, tokenTtlMs: 24 * HOUR }) };
    };
    const a = await make();
    const b = await make();
    await a.pg.putInstance({ instanceName: 'web-1', instanceArn: 'arn:x:web-1', registerTime: T0, tags: [] });
    return [a.enrolment, b.enrolment, a.pg];
  };

  it('gives one certificate to two agents racing with one token at two coordinators', async () => {
    const [a, b, pg] = await replicas();
    const token = await a.mintToken('web-1');
    const csrs = [await csr(), await csr()];
    const outcomes = await Promise.allSettled([a.enrol(token, csrs[0]!), b.enrol(token, csrs[1]!)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((o) => o.status === 'rejected')?.reason).toMatchObject({ name: 'EnrolmentError', code: 'TOKEN_USED' });
    expect(await pgCertificateStore(pg).listCertificates('web-1')).toHaveLength(1);
  });

  it('refuses a token for an unregistered instance, and deregistering revokes and retires in one transaction', async () => {
    const [a, b, pg] = await replicas();
    expect(await refusal(a.mintToken('nobody'))).toBe('INSTANCE_NOT_REGISTERED');
    const issued = await b.enrol(await a.mintToken('web-1'), await csr());
    const spare = await b.mintToken('web-1');
    await a.instanceDeregistered('web-1');
    expect((await pgCertificateStore(pg).getCertificate(issued.serial))?.revokeReason).toBe('instance deregistered');
    expect(await refusal(b.enrol(spare, await csr()))).toBe('TOKEN_USED');
  });
});
