/**
 * The agent's TLS identity on disk, in its tls folder (0700):
 *
 *   key.pem    its private key (0600); made on this host, never sent anywhere
 *   cert.pem   its client certificate from the coordinator's CA (CN = the instance name)
 *   ca.pem     the coordinator's CA certificate, the only root trusted for the coordinator
 *
 * A renewal replaces key and certificate together: key.pem.new, then cert.pem.new are written and
 * flushed, then renamed over key.pem, then cert.pem. {@link loadTlsIdentity} finishes a replacement
 * a crash interrupted, so the two files always belong together.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DeployError } from '@fleetdeploy/shared';

export const KEY_FILE = 'key.pem';
export const CERT_FILE = 'cert.pem';
export const CA_FILE = 'ca.pem';
const NEW = '.new';

/** TlsIdentity is a loaded, consistent identity. */
export interface TlsIdentity {
  readonly dir: string;
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
  /** The instance the certificate names (its CN). */
  readonly instanceName: string;
  readonly serial: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** hasTlsIdentity tells whether `dir` holds an enrolled identity (without checking it). */
export function hasTlsIdentity(dir: string): boolean {
  return fs.existsSync(path.join(dir, CERT_FILE)) || fs.existsSync(path.join(dir, `${CERT_FILE}${NEW}`));
}

/** loadTlsIdentity reads and checks the identity in `dir`, finishing an interrupted renewal first. */
export function loadTlsIdentity(dir: string): TlsIdentity {
  recoverPending(dir);
  const read = (name: string): string => {
    try {
      return fs.readFileSync(path.join(dir, name), 'utf8');
    } catch (err) {
      throw new DeployError('UnknownError', `the agent is not enrolled (${path.join(dir, name)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}): run fleetdeploy-agent enrol --coordinator HOST:PORT --token TOKEN --config FILE`);
    }
  };
  const keyPem = read(KEY_FILE);
  const certPem = read(CERT_FILE);
  const caPem = read(CA_FILE);
  return describe(dir, keyPem, certPem, caPem);
}

/** describe checks that the key, certificate and CA belong together and reads the certificate's name and validity. */
export function describe(dir: string, keyPem: string, certPem: string, caPem: string): TlsIdentity {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    ca = new X509Certificate(caPem);
  } catch (err) {
    throw new DeployError('UnknownError', `the agent's certificate files in ${dir} cannot be read (${(err as Error).message}); enrol again`);
  }
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new DeployError('UnknownError', `${path.join(dir, KEY_FILE)} is not the key of ${path.join(dir, CERT_FILE)}; enrol again`);
  if (!cert.verify(ca.publicKey)) throw new DeployError('UnknownError', `${path.join(dir, CERT_FILE)} was not issued by ${path.join(dir, CA_FILE)}; enrol again`);
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  if (cn === undefined) throw new DeployError('UnknownError', `${path.join(dir, CERT_FILE)} names no instance (no CN); enrol again`);
  return { dir, keyPem, certPem, caPem, instanceName: cn, serial: cert.serialNumber, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

/**
 * saveTlsIdentity writes a key, certificate and CA into `dir` (made 0700): the key 0600. Used by
 * enrolment (all three) and renewal (key and certificate, the CA unchanged).
 */
export function saveTlsIdentity(dir: string, files: { keyPem: string; certPem: string; caPem: string }): TlsIdentity {
  const identity = describe(dir, files.keyPem, files.certPem, files.caPem);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const write = (name: string, data: string, mode: number): void => {
    const file = path.join(dir, name);
    fs.rmSync(file, { force: true });
    const fd = fs.openSync(file, 'wx', mode);
    try {
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  };
  const caFile = path.join(dir, CA_FILE);
  if (!fs.existsSync(caFile) || fs.readFileSync(caFile, 'utf8') !== files.caPem) {
    write(`${CA_FILE}${NEW}`, files.caPem, 0o644);
    fs.renameSync(path.join(dir, `${CA_FILE}${NEW}`), caFile);
  }
  write(`${KEY_FILE}${NEW}`, files.keyPem, 0o600);
  write(`${CERT_FILE}${NEW}`, files.certPem, 0o644);
  recoverPending(dir);
  return identity;
}

/** recoverPending finishes renames in the order saveTlsIdentity makes them: key first, then certificate. */
function recoverPending(dir: string): void {
  const key = path.join(dir, KEY_FILE);
  const cert = path.join(dir, CERT_FILE);
  const hasKey = fs.existsSync(`${key}${NEW}`);
  const hasCert = fs.existsSync(`${cert}${NEW}`);
  if (hasKey && !hasCert) {
    fs.rmSync(`${key}${NEW}`); // the certificate never arrived: keep the old pair
    return;
  }
  if (hasKey) fs.renameSync(`${key}${NEW}`, key);
  if (hasCert) fs.renameSync(`${cert}${NEW}`, cert);
}
