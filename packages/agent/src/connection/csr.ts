/**
 * A fresh key pair (ECDSA P-256) and a PKCS #10 request for it, made with @peculiar/x509 over
 * Node's WebCrypto. Loaded only by `enrol` and by renewal, so `local` never pays for it.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** KeyAndCsr is a new private key (PKCS #8 PEM) and the CSR that proves it (PEM). */
export interface KeyAndCsr {
  keyPem: string;
  csrPem: string;
}

/** makeKeyAndCsr generates the key and signs a CSR whose subject is `CN=<instanceName>` (informational: the coordinator decides the name). */
export async function makeKeyAndCsr(instanceName: string): Promise<KeyAndCsr> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: [{ CN: [instanceName] }], keys, signingAlgorithm: alg });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return { keyPem: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`, csrPem: csr.toString('pem') + '\n' };
}
