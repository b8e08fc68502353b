import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeKeyAndCsr } from './csr.js';
import { hasTlsIdentity, loadTlsIdentity, saveTlsIdentity } from './tls-identity.js';
import { renewalTime, retryDelay } from './renewal.js';

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
let ca: { pem: string; keys: CryptoKeyPair; cert: x509.X509Certificate };
let dir: string;

/** issue signs a certificate for `cn` over a fresh key (made as the agent makes it). */
async function issue(cn: string, by = ca): Promise<{ keyPem: string; certPem: string }> {
  const { keyPem, csrPem } = await makeKeyAndCsr(cn);
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '1a2b',
    subject: `CN=${cn}`,
    issuer: by.cert.subject,
    notBefore: new Date(Date.UTC(2025, 0, 1)),
    notAfter: new Date(Date.UTC(2025, 0, 31)),
    signingAlgorithm: alg,
    publicKey: csr.publicKey,
    signingKey: by.keys.privateKey,
  });
  return { keyPem, certPem: cert.toString('pem') };
}

async function makeCa(): Promise<typeof ca> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=test CA', keys, signingAlgorithm: alg, extensions: [new x509.BasicConstraintsExtension(true, 0, true)] });
  return { pem: cert.toString('pem'), keys, cert };
}

beforeAll(async () => {
  ca = await makeCa();
});
beforeEach(() => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-tls-')), 'tls');
});
afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

describe('the agent tls folder', () => {
  it('stores the key 0600 in a 0700 folder and reads back the instance and validity', async () => {
    const pair = await issue('web-1');
    saveTlsIdentity(dir, { ...pair, caPem: ca.pem });
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(loadTlsIdentity(dir)).toMatchObject({ instanceName: 'web-1', notBefore: Date.UTC(2025, 0, 1), notAfter: Date.UTC(2025, 0, 31) });
    expect(fs.readdirSync(dir).sort()).toEqual(['ca.pem', 'cert.pem', 'key.pem']);
  });

  it('refuses a key that is not the certificate\'s and a certificate of another CA', async () => {
    const a = await issue('web-1');
    const b = await issue('web-1');
    expect(() => saveTlsIdentity(dir, { keyPem: b.keyPem, certPem: a.certPem, caPem: ca.pem })).toThrow(/is not the key of/);
    const foreign = await issue('web-1', await makeCa());
    expect(() => saveTlsIdentity(dir, { ...foreign, caPem: ca.pem })).toThrow(/was not issued by/);
    expect(hasTlsIdentity(dir)).toBe(false);
    expect(() => loadTlsIdentity(dir)).toThrow(/the agent is not enrolled .*fleetdeploy-agent enrol/);
  });

  it('finishes a renewal a crash interrupted, and drops one whose certificate never arrived', async () => {
    const old = await issue('web-1');
    saveTlsIdentity(dir, { ...old, caPem: ca.pem });
    const next = await issue('web-1');
    // crashed after renaming the new key, before renaming the new certificate
    fs.writeFileSync(path.join(dir, 'key.pem'), next.keyPem);
    fs.writeFileSync(path.join(dir, 'cert.pem.new'), next.certPem);
    expect(loadTlsIdentity(dir).certPem).toBe(next.certPem);
    // crashed after writing only the new key
    fs.writeFileSync(path.join(dir, 'key.pem.new'), old.keyPem);
    expect(loadTlsIdentity(dir).keyPem).toBe(next.keyPem);
    expect(fs.existsSync(path.join(dir, 'key.pem.new'))).toBe(false);
  });
});

describe('renewal timing', () => {
  it('renews two thirds into the validity: a 30-day certificate on day 20', () => {
    const day = 86_400_000;
    expect(renewalTime(0, 30 * day)).toBe(20 * day);
    expect(renewalTime(1_000, 10_000)).toBe(7_000);
  });

  it('retries after a tenth of the remaining time, between 1 s and 60 s', () => {
    expect(retryDelay(0, 100_000)).toBe(10_000);
    expect(retryDelay(0, 3_000)).toBe(1_000);
    expect(retryDelay(0, 86_400_000)).toBe(60_000);
    expect(retryDelay(5_000, 1_000)).toBe(1_000);
  });
});
