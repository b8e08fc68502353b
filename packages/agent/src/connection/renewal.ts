/**
 * Certificate renewal: when a third of the client certificate's validity remains, make a new key
 * and CSR, ask the coordinator over the current mutual-TLS identity (AgentService.Renew; it issues
 * only for the calling certificate's instance), store the new pair, and reconnect with it. A
 * failed attempt is retried every tenth of the remaining time (1 s to 60 s), so a coordinator that
 * is down for a while still gets asked before the certificate runs out.
 *
 *   issued ─────────────── 2/3 ─────────── notAfter
 *                          ^ renew here
 */
import { X509Certificate } from 'node:crypto';
import type { CertificateResponse__Output } from '@fleetdeploy/protocol';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { GrpcRuntime } from './grpc-runtime.js';
import { createAgentClient, instanceMetadata } from './channel.js';
import type { Endpoint } from './endpoints.js';
import type { TlsIdentity } from './tls-identity.js';
import { saveTlsIdentity } from './tls-identity.js';

/** renewalTime is when a certificate valid from `notBefore` to `notAfter` should be renewed: two thirds in. */
export function renewalTime(notBefore: number, notAfter: number): number {
  return notBefore + Math.floor(((notAfter - notBefore) * 2) / 3);
}

/** retryDelay is how long to wait after a failed renewal: a tenth of what remains, between 1 s and 60 s. */
export function retryDelay(now: number, notAfter: number): number {
  return Math.min(60_000, Math.max(1_000, Math.floor((notAfter - now) / 10)));
}

/** RenewalOptions wire the renewal to the daemon. */
export interface RenewalOptions {
  runtime: GrpcRuntime;
  /** The coordinator endpoint to ask: the one the agent's stream is on (replicas share one CA). */
  endpoint: () => Endpoint;
  /** The identity in use now. */
  identity: () => TlsIdentity;
  clock: Clock;
  log: Logger;
  /** Called with the stored new identity; the daemon switches to it and reconnects. */
  renewed(identity: TlsIdentity): void;
}

/** startRenewal schedules renewals until stopped. */
export function startRenewal(opts: RenewalOptions): { stop(): void } {
  const { clock, log } = opts;
  let cancel: () => void = () => undefined;
  let stopped = false;
  let failing = false;

  /** schedule runs an attempt at `dueAt`, waking at least every 6 h (timers cannot wait 30 days). */
  const schedule = (dueAt: number): void => {
    if (stopped) return;
    const delayMs = Math.max(0, Math.min(dueAt - clock.now(), 6 * 3_600_000));
    cancel = clock.after(delayMs, () => (clock.now() >= dueAt ? void attempt() : schedule(dueAt)));
  };

  async function attempt(): Promise<void> {
    const current = opts.identity();
    try {
      const { makeKeyAndCsr } = await import('./csr.js');
      const { keyPem, csrPem } = await makeKeyAndCsr(current.instanceName);
      const response = await call(current, csrPem);
      if (stopped) return;
      if (new X509Certificate(response.caPem).fingerprint256 !== new X509Certificate(current.caPem).fingerprint256) throw new Error('the coordinator renewed with a CA other than the enrolled one');
      const next = saveTlsIdentity(current.dir, { keyPem, certPem: response.certificatePem, caPem: current.caPem });
      if (next.instanceName !== current.instanceName) throw new Error(`the renewed certificate names ${next.instanceName}, not ${current.instanceName}`);
      failing = false;
      log.info({ serial: next.serial, notAfter: new Date(next.notAfter).toISOString() }, 'certificate renewed');
      opts.renewed(next);
      schedule(renewalTime(next.notBefore, next.notAfter));
    } catch (err) {
      if (stopped) return;
      const retryMs = retryDelay(clock.now(), current.notAfter);
      const fields = { err: (err as { details?: string }).details ?? (err as Error).message, retryInMs: retryMs, notAfter: new Date(current.notAfter).toISOString() };
      if (!failing) log.warn(fields, 'certificate renewal failed, retrying');
      else log.debug(fields, 'certificate renewal still failing');
      failing = true;
      schedule(clock.now() + retryMs);
    }
  }

  function call(current: TlsIdentity, csrPem: string): Promise<CertificateResponse__Output> {
    const client = createAgentClient(opts.runtime, opts.endpoint(), { kind: 'mtls', identity: current });
    return new Promise<CertificateResponse__Output>((resolve, reject) => {
      client.Renew({ csrPem }, instanceMetadata(opts.runtime.grpc, current.instanceName), { deadline: new Date(clock.now() + 30_000) }, (err, res) => {
        client.close();
        if (err || res === undefined) reject(err ?? new Error('empty answer'));
        else resolve(res);
      });
    });
  }

  const first = opts.identity();
  schedule(renewalTime(first.notBefore, first.notAfter));
  return {
    stop() {
      stopped = true;
      cancel();
    },
  };
}
