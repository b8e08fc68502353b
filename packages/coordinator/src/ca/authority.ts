/**
 * The coordinator's certificate authority: its key pair and self-signed certificate, made at first
 * start in `<dataDir>/ca/` (key 0600) or read from the operator's files (`ca_cert_file`,
 * `ca_key_file`), and the certificates it issues: the agents' gRPC server certificate and each
 * instance's client certificate. Certificates are built with @peculiar/x509 over Node's WebCrypto;
 * this module never writes an issued certificate's private key anywhere (agents send a CSR, and the
 * server's key lives in memory for one run).
 *
 *   first start:  generate P-256 key → self-signed CA (10 years) → <dataDir>/ca.tmp-* → rename to ca/
 *   later starts: read ca/ca.pem + ca/ca-key.pem (or the operator's pair, copied to ca/ca.pem)
 */
import 'reflect-metadata';
import { createHash, createPrivateKey, randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** CA_DIR is the authority's folder inside the data directory. */
export const CA_DIR = 'ca';
/** CA_CERT_FILE and CA_KEY_FILE are its files; the certificate is also what `enrol-token` reads. */
export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

/** INSTANCE_URI_PREFIX starts the URI SAN that names an instance in its client certificate. */
export const INSTANCE_URI_PREFIX = 'fleetdeploy:instance:';

const CA_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;
const SERVER_VALIDITY_MS = 397 * 24 * 3600 * 1000;
/** Certificates start a little in the past so a peer whose clock is slightly behind accepts them. */
const MAX_BACKDATE_MS = 60_000;

/** CaFiles names operator-provided CA files; both or neither. */
export interface CaFiles {
  certFile?: string;
  keyFile?: string;
}

/** IssuedCertificate is a certificate the authority signed. */
export interface IssuedCertificate {
  /** serial is lowercase hex without leading zeros, as {@link normalSerial} makes it. */
  serial: string;
  pem: string;
  notBefore: number;
  notAfter: number;
}

/** ServerIdentity is the gRPC server's key pair and certificate chain (leaf, then the CA). */
export interface ServerIdentity {
  keyPem: string;
  chainPem: string;
}

/** Authority is a loaded CA. */
export interface Authority {
  readonly certPem: string;
  /** fingerprint is the SHA-256 of the CA certificate's DER, base64url: what tokens carry. */
  readonly fingerprint: string;
  /** issueServer makes a server certificate for these DNS names and IP addresses, valid from `now`. */
  issueServer(names: readonly string[], now: number): Promise<ServerIdentity>;
  /**
   * issueClient signs a client certificate for `instanceName` over the key of a verified CSR (its
   * subject is ignored): CN=<instanceName>, URI SAN fleetdeploy:instance:<instanceName>, clientAuth.
   */
  issueClient(instanceName: string, csr: VerifiedCsr, now: number, validityMs: number): Promise<IssuedCertificate>;
}

/** VerifiedCsr is a PKCS #10 request whose self-signature was checked (proof the caller holds the key). */
export interface VerifiedCsr {
  readonly publicKey: x509.PublicKey;
}

/** CsrError is a certificate request that does not parse or whose signature is wrong. */
export class CsrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsrError';
  }
}

/** verifyCsr parses a PEM CSR and checks its signature; throws {@link CsrError}. */
export async function verifyCsr(pem: string): Promise<VerifiedCsr> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw new CsrError(`the certificate request is not a PEM PKCS #10 request: ${(err as Error).message}`);
  }
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw new CsrError('the certificate request is not signed by its own key');
  return { publicKey: csr.publicKey };
}

/** fingerprintOf is the SHA-256 of a certificate's DER, base64url (43 characters). */
export function fingerprintOf(certPem: string): string {
  return createHash('sha256').update(new NodeX509(certPem).raw).digest('base64url');
}

/** normalSerial writes a hex serial (any case, colons or leading zeros) as lowercase hex without leading zeros. */
export function normalSerial(hex: string): string {
  const digits = hex.replaceAll(':', '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(digits)) throw new Error(`not a hex serial: ${hex}`);
  return BigInt(`0x${digits}`).toString(16);
}

/** openAuthority loads the CA from the operator's files or `<dataDir>/ca/`, creating the latter at first start. */
export async function openAuthority(dataDir: string, files: CaFiles, now: number): Promise<Authority> {
  const dir = path.join(dataDir, CA_DIR);
  let certPem: string;
  let keyPem: string;
  if (files.certFile !== undefined || files.keyFile !== undefined) {
    if (files.certFile === undefined || files.keyFile === undefined) throw new CaConfigError('ca_cert_file and ca_key_file go together: give both or neither');
    certPem = readText(files.certFile, 'ca_cert_file');
    keyPem = readText(files.keyFile, 'ca_key_file');
    // enrol-token and the operator find the CA certificate in the data directory in either case.
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const copy = path.join(dir, CA_CERT_FILE);
    if (!fs.existsSync(copy) || fs.readFileSync(copy, 'utf8') !== certPem) fs.writeFileSync(copy, certPem);
  } else {
    if (!fs.existsSync(path.join(dir, CA_KEY_FILE))) await createAuthorityFiles(dataDir, now);
    certPem = fs.readFileSync(path.join(dir, CA_CERT_FILE), 'utf8');
    keyPem = fs.readFileSync(path.join(dir, CA_KEY_FILE), 'utf8');
  }
  return loadAuthority(certPem, keyPem);
}

/** CaConfigError is a CA the operator configured that cannot be used. */
export class CaConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaConfigError';
  }
}

function readText(file: string, key: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CaConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** AuthorityPems are a CA's certificate and private key, PEM. */
export interface AuthorityPems {
  certPem: string;
  keyPem: string;
}

/** generateAuthority makes a new CA (P-256, ten years from `now`), in memory. */
export async function generateAuthority(now: number): Promise<AuthorityPems> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`fleetdeploy coordinator CA ${os.hostname()} ${new Date(now).toISOString().slice(0, 10)}`] }],
    notBefore: new Date(now - MAX_BACKDATE_MS),
    notAfter: new Date(now + CA_VALIDITY_MS),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  return { certPem: cert.toString('pem') + '\n', keyPem: toPem(pkcs8, 'PRIVATE KEY') };
}

/**
 * createAuthorityFiles makes a new CA in a temporary folder and renames it into place, so two
 * processes starting at once (the daemon and `enrol-token`) end with one CA: the loser's rename fails
 * and it uses the winner's.
 */
async function createAuthorityFiles(dataDir: string, now: number): Promise<void> {
  installAuthorityFiles(dataDir, await generateAuthority(now));
}

/**
 * installAuthorityFiles writes `pems` as `<dataDir>/ca/` (key 0600) through a temporary folder
 * renamed into place; a `ca/` that exists already is left as it is.
 */
export function installAuthorityFiles(dataDir: string, pems: AuthorityPems): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dataDir, 'ca.tmp-'));
  fs.chmodSync(tmp, 0o700);
  fs.writeFileSync(path.join(tmp, CA_KEY_FILE), pems.keyPem, { mode: 0o600 });
  fs.writeFileSync(path.join(tmp, CA_CERT_FILE), pems.certPem, { mode: 0o644 });
  try {
    fs.renameSync(tmp, path.join(dataDir, CA_DIR));
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}

/** loadAuthority builds an {@link Authority} from a CA certificate and its private key (PEM; EC or RSA). */
export async function loadAuthority(certPem: string, keyPem: string): Promise<Authority> {
  let caCert: x509.X509Certificate;
  let nodeKey: ReturnType<typeof createPrivateKey>;
  try {
    caCert = new x509.X509Certificate(certPem);
    nodeKey = createPrivateKey(keyPem);
  } catch (err) {
    throw new CaConfigError(`the CA certificate or key cannot be read: ${(err as Error).message}`);
  }
  if (!new NodeX509(certPem).checkPrivateKey(nodeKey)) throw new CaConfigError('the CA key does not belong to the CA certificate');
  const alg = signingAlgorithmOf(nodeKey);
  const signingKey = await webcrypto.subtle.importKey('pkcs8', nodeKey.export({ format: 'der', type: 'pkcs8' }), alg, false, ['sign']);
  const fingerprint = fingerprintOf(certPem);
  const caPem = caCert.toString('pem') + '\n';
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);

  const backdated = (now: number, validityMs: number): Date => new Date(now - Math.min(MAX_BACKDATE_MS, Math.floor(validityMs / 10)));

  return {
    certPem: caPem,
    fingerprint,
    async issueServer(names, now) {
      const leafAlg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
      const keys = (await webcrypto.subtle.generateKey(leafAlg, true, ['sign', 'verify'])) as CryptoKeyPair;
      const unique = [...new Set(names)];
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerial(),
        subject: [{ CN: [unique[0] ?? 'localhost'] }],
        issuer: caCert.subject,
        notBefore: backdated(now, SERVER_VALIDITY_MS),
        notAfter: new Date(now + SERVER_VALIDITY_MS),
        signingAlgorithm: alg,
        publicKey: keys.publicKey,
        signingKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(unique.map((n) => ({ type: isIp(n) ? ('ip' as const) : ('dns' as const), value: n }))),
          authorityKeyId,
        ],
      });
      const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
      return { keyPem: toPem(pkcs8, 'PRIVATE KEY'), chainPem: cert.toString('pem') + '\n' + caPem };
    },
    async issueClient(instanceName, csr, now, validityMs) {
      const serial = randomSerial();
      const notBefore = backdated(now, validityMs);
      const notAfter = new Date(now + validityMs);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial,
        subject: [{ CN: [instanceName] }],
        issuer: caCert.subject,
        notBefore,
        notAfter,
        signingAlgorithm: alg,
        publicKey: csr.publicKey,
        signingKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
          new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `${INSTANCE_URI_PREFIX}${instanceName}` }]),
          authorityKeyId,
        ],
      });
      // DER keeps whole seconds: report the times the certificate actually carries.
      return { serial: normalSerial(serial), pem: cert.toString('pem') + '\n', notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime() };
    },
  };
}

function signingAlgorithmOf(key: ReturnType<typeof createPrivateKey>): EcKeyImportParams & { hash: string } | (RsaHashedImportParams & { name: string }) {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const named = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
    if (named === undefined) throw new CaConfigError(`the CA key's curve ${curve ?? 'unknown'} is not supported (use P-256 or P-384)`);
    return { name: 'ECDSA', namedCurve: named, hash: named === 'P-384' ? 'SHA-384' : 'SHA-256' };
  }
  if (type === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  throw new CaConfigError(`the CA key's type ${type ?? 'unknown'} is not supported (use EC P-256/P-384 or RSA)`);
}

/** randomSerial is 16 random bytes with the top bit clear (a positive INTEGER) and a non-zero first nibble. */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10;
  return bytes.toString('hex');
}

function isIp(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(':');
}

function toPem(der: Buffer, label: string): string {
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
