/**
 * Where `fleetdeploy-agent enrol` enrols, and what a wrong port means. The coordinator has three
 * ports: its API (HTTPS, or plain HTTP with --plaintext-api; 7180), the agents' port (gRPC, mutual TLS, 7181) and the enrolment port
 * (gRPC, TLS without a client certificate, by default the agents' port + 1 = 7182). An operator who
 * has the agents' address (the one agent.yml names) can enrol without knowing the third:
 *
 *   --coordinator HOST:PORT   that address
 *   --coordinator HOST        HOST:7182
 *   (none)                    agent.yml's coordinator host, its port + 1 (the first one listed:
 *                             replicas share one database, so enrolling at any one will do)
 *
 * and a wrong port gets one line saying which port it is and which to use.
 */
import { DeployError } from '@fleetdeploy/shared';

/** splitAddress reads `host:port` or `[v6]:port`. */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(address);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 1 && port <= 65535)) throw new DeployError('UnknownError', `--coordinator: expected host:port of the coordinator's enrolment port, got ${JSON.stringify(address)}`);
  return { host: m[1] ?? m[2]!, port };
}

/** DEFAULT_ENROL_PORT is the coordinator's enrolment port on its defaults. */
export const DEFAULT_ENROL_PORT = 7182;

/** joinAddress writes `host:port`, bracketing an IPv6 host. */
export function joinAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * resolveEnrolAddress picks the enrolment address from the flag (`HOST` or `HOST:PORT`) or, without
 * one, from the configuration's first agents' address; `source` names the configuration for the error.
 */
export function resolveEnrolAddress(given: string | undefined, agentsAddresses: readonly string[] | undefined, source: string): string {
  if (given !== undefined) {
    if (/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)$/.test(given)) return `${given}:${DEFAULT_ENROL_PORT}`;
    splitAddress(given); // throws the one-line format error
    return given;
  }
  const agentsAddress = agentsAddresses?.[0];
  if (agentsAddress === undefined) {
    throw new DeployError('UnknownError', `--coordinator: give the coordinator's enrolment address (HOST, or HOST:PORT from enrol= in its listening line), or a configuration file whose coordinator: names its agents' address (${source})`);
  }
  const { host, port } = splitAddress(agentsAddress);
  return joinAddress(host, port + 1);
}

/** WrongPort says which of the coordinator's other ports an enrolment address turned out to be. */
export type WrongPort = 'api' | 'agents';

/**
 * wrongPortOf reads a failure's text: a server that answers TLS in plain HTTP, or refuses HTTP/2
 * (gRPC) as an application protocol, is the API port (HTTP/1.1, plain or HTTPS); one that demands a
 * client certificate during the handshake is the agents' port.
 */
export function wrongPortOf(text: string): WrongPort | undefined {
  if (/WRONG_VERSION_NUMBER|wrong version number|NO_APPLICATION_PROTOCOL|no application protocol/i.test(text)) return 'api';
  if (/certificate required|alert number 116|CERTIFICATE_REQUIRED/i.test(text)) return 'agents';
  return undefined;
}

/** WrongPortError is an enrolment that reached another of the coordinator's ports; its message says which to use. */
export class WrongPortError extends DeployError {
  constructor(
    readonly address: string,
    readonly wrong: WrongPort,
  ) {
    super('UnknownError', wrongPortMessage(address, wrong));
  }
}

/** wrongPortMessage is the one line for an enrolment address that is another of the coordinator's ports. */
export function wrongPortMessage(address: string, wrong: WrongPort): string {
  const { host, port } = splitAddress(address);
  if (wrong === 'api') {
    return `${address} answers HTTP, not gRPC: it is the coordinator's API port, not its enrolment port; use --coordinator with the enrol= address of its listening line (by default ${joinAddress(host, DEFAULT_ENROL_PORT)})`;
  }
  return `${address} asks for a client certificate: it is the coordinator's agents' port, not its enrolment port; use --coordinator ${joinAddress(host, port + 1)} (the agents' port + 1 by default, enrol= in its listening line)`;
}

/** plainGrpcDetails drops grpc-js's timestamp and empty "Resolution note" from a connection failure's details. */
export function plainGrpcDetails(details: string): string {
  return details
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)\.?\s*Resolution note:.*$/s, '')
    .replace(/\s+/g, ' ')
    .trim();
}
