/**
 * The API port's TLS identity: by default a server certificate the coordinator's own CA issues at
 * each start for the names clients may dial (so a change of names takes effect at the next start),
 * renewed in place while the coordinator runs when it nears its end; or the operator's certificate
 * chain and key (`api_tls_cert`, `api_tls_key`), used as they are. Clients trust the CA certificate
 * at `<data_dir>/ca/ca.pem` (`aws --ca-bundle`, `AWS_CA_BUNDLE`).
 */
import fs from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '../config.js';
import type { CoordinatorConfig } from '../config.js';
import type { Authority } from '../ca/authority.js';
import { CA_CERT_FILE, CA_DIR } from '../ca/authority.js';
import { serverNames } from '../ca/open-enrolment.js';

/** ApiTls is the key and certificate chain the API port serves, and where clients find what to trust. */
export interface ApiTls {
  keyPem: string;
  chainPem: string;
  /** When the served certificate ends (epoch ms). */
  notAfter: number;
  /** The CA file clients pass as --ca-bundle; undefined for an operator's certificate (the operator knows its issuer). */
  caFile?: string;
  /** Whether the coordinator's CA issued it (so it can issue the next one). */
  issued: boolean;
}

/** Renew an issued certificate when less than this remains of it (it lasts 397 days). */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

/** renewalDue says whether a certificate ending at `notAfter` should be replaced at `now`. */
export function renewalDue(notAfter: number, now: number): boolean {
  return notAfter - now <= RENEW_BEFORE_MS;
}

/** apiNames are the names the issued API certificate carries: those of the agents' ports plus the configured api_tls_names. */
export function apiNames(config: Pick<CoordinatorConfig, 'host' | 'apiTlsNames'>): string[] {
  return [...new Set([...serverNames(config.host), ...config.apiTlsNames])];
}

/** caFileOf is the CA certificate every coordinator keeps in its data directory (its own CA's, or a copy of the operator's). */
export function caFileOf(dataDir: string): string {
  return path.resolve(dataDir, CA_DIR, CA_CERT_FILE);
}

/**
 * loadApiTls reads the operator's pair or has the CA issue one (undefined with plaintext_api); throws
 * {@link ConfigError} naming the setting for a file that is missing, unreadable, not PEM, or a key
 * that is not the certificate's.
 */
export async function loadApiTls(config: CoordinatorConfig, authority: Authority, now: number): Promise<ApiTls | undefined> {
  if (config.plaintextApi) {
    if (config.apiTlsCert === undefined && config.apiTlsKey === undefined) return undefined;
    throw new ConfigError('plaintext_api (--plaintext-api) serves no certificate, yet api_tls_cert/api_tls_key name one: remove one or the other');
  }
  if (config.apiTlsCert === undefined && config.apiTlsKey === undefined) return issueApiTls(config, authority, now);
  if (config.apiTlsCert === undefined || config.apiTlsKey === undefined) {
    throw new ConfigError('api_tls_cert (--api-tls-cert) and api_tls_key (--api-tls-key) go together: give both or neither');
  }
  const chainPem = readSetting(config.apiTlsCert, 'api_tls_cert (--api-tls-cert)');
  const keyPem = readSetting(config.apiTlsKey, 'api_tls_key (--api-tls-key)');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(chainPem);
  } catch {
    throw new ConfigError(`api_tls_cert (--api-tls-cert): ${config.apiTlsCert} is not a PEM certificate`);
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(`api_tls_key (--api-tls-key): ${config.apiTlsKey} is not a PEM private key (unencrypted)`);
  }
  if (!leaf.checkPrivateKey(key)) throw new ConfigError(`api_tls_key (--api-tls-key): ${config.apiTlsKey} is not the key of the certificate in ${config.apiTlsCert}`);
  return { keyPem, chainPem, notAfter: Date.parse(leaf.validTo), issued: false };
}

/** issueApiTls has the coordinator's CA issue a certificate for {@link apiNames}. */
export async function issueApiTls(config: CoordinatorConfig, authority: Authority, now: number): Promise<ApiTls> {
  const identity = await authority.issueServer(apiNames(config), now);
  return { keyPem: identity.keyPem, chainPem: identity.chainPem, notAfter: Date.parse(new X509Certificate(identity.chainPem).validTo), caFile: caFileOf(config.dataDir), issued: true };
}

function readSetting(file: string, setting: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
