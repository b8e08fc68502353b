/**
 * Pinning the coordinator's CA before trusting anything it says, as `kubeadm join` does: open a TLS
 * connection without verifying it, take the certificate chain the server presents, and keep the CA
 * certificate only if the SHA-256 of its DER equals the fingerprint in the enrolment token and it
 * signed the server's certificate. Nothing is sent on that connection. From then on the pinned CA is
 * an ordinary trust root: the Enrol call itself runs over TLS verified against it (chain and name).
 */
import { createHash, X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { DetailedPeerCertificate } from 'node:tls';
import { DeployError } from '@fleetdeploy/shared';
import { joinAddress, wrongPortOf, WrongPortError } from './enrol-address.js';
import { openTunnel } from './proxy.js';
import type { ProxyRoute } from './proxy.js';

/**
 * fetchPinnedCa returns the PEM of the CA with `fingerprint` (base64url SHA-256 of its DER) that
 * issued the server's certificate; through `proxy`, the TLS connection runs in a CONNECT tunnel.
 */
export async function fetchPinnedCa(host: string, port: number, fingerprint: string, timeoutMs: number, proxy?: ProxyRoute): Promise<string> {
  const tunnel = proxy === undefined ? undefined : await openTunnel(proxy, host, port, timeoutMs);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...(tunnel === undefined ? { host, port } : { socket: tunnel }),
      // Deliberately unverified: the check is the pin below, made before anything is trusted or sent.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
    });
    const fail = (message: string): void => {
      socket.destroy();
      reject(new DeployError('UnknownError', message));
    };
    socket.setTimeout(timeoutMs, () => fail(`the coordinator at ${host}:${port} did not complete a TLS handshake within ${timeoutMs / 1000} s`));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const wrong = wrongPortOf(`${err.code ?? ''} ${err.message}`);
      if (wrong !== undefined) {
        socket.destroy();
        return reject(new WrongPortError(joinAddress(host, port), wrong));
      }
      fail(`cannot reach the coordinator's enrolment port ${host}:${port}: ${err.code ?? err.message}`);
    });
    socket.once('secureConnect', () => {
      const chain = chainOf(socket.getPeerCertificate(true));
      socket.destroy();
      const [leaf] = chain;
      const ca = chain.find((c) => createHash('sha256').update(c.raw).digest('base64url') === fingerprint);
      if (leaf === undefined || ca === undefined) {
        return fail(`the server at ${host}:${port} presents no CA certificate with the token's fingerprint ${fingerprint}: it is not the coordinator that made the token (or the token is for another coordinator)`);
      }
      if (!ca.ca || !leaf.verify(ca.publicKey)) return fail(`the server at ${host}:${port} presents the pinned CA, but its own certificate was not issued by it`);
      resolve(ca.toString());
    });
  });
}

/** chainOf lists the presented certificates from the leaf up, each once. */
function chainOf(peer: DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = peer;
  while (current?.raw !== undefined && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    out.push(new X509Certificate(current.raw));
    current = current.issuerCertificate;
  }
  return out;
}
