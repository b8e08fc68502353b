/**
 * The coordinator endpoints an agent may dial. The configuration names replicas as `host:port`
 * entries; at the start of each round of attempts every entry's host is looked up again (all its
 * addresses, as DNS round robin gives them), so an operator can change the set without restarting
 * agents. Each address is its own endpoint, dialled by IP while TLS still checks the certificate
 * against the configured host name (see channel.ts).
 *
 * An entry reached through an HTTP CONNECT proxy is not looked up: the proxy resolves it, and this
 * host may not be able to. An entry whose lookup fails stays one endpoint dialled by name, so the
 * attempt fails the ordinary way and its reason is logged like any other.
 */
import dns from 'node:dns';
import net from 'node:net';
import { joinAddress, splitAddress } from './enrol-address.js';
import type { ProxyRoute } from './proxy.js';

/** CoordinatorEntry is one configured replica address and how it is reached. */
export interface CoordinatorEntry {
  /** As configured: `host:port` or `[v6]:port`. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** The proxy that reaches it, if any (decided per host: NO_PROXY may exempt some). */
  readonly proxy?: ProxyRoute;
}

/** Endpoint is one thing to dial: a configured entry at one of its addresses. */
export interface Endpoint {
  readonly entry: CoordinatorEntry;
  /** What the channel dials: `ip:port` when the host was looked up, else the configured address. */
  readonly dial: string;
}

/** HostLookup lists a host name's addresses (dns.lookup with all: true by default). */
export type HostLookup = (host: string) => Promise<readonly string[]>;

/** systemLookup asks the system resolver (getaddrinfo: /etc/hosts, then DNS) for every address. */
export const systemLookup: HostLookup = async (host) => (await dns.promises.lookup(host, { all: true })).map((a) => a.address);

/** coordinatorEntries reads validated `host:port` addresses, choosing each one's proxy. */
export function coordinatorEntries(addresses: readonly string[], proxyFor: (host: string) => ProxyRoute | undefined): CoordinatorEntry[] {
  return addresses.map((address) => {
    const { host, port } = splitAddress(address);
    const proxy = proxyFor(host);
    return proxy === undefined ? { address, host, port } : { address, host, port, proxy };
  });
}

/**
 * resolveEndpoints turns the entries into this round's endpoints, in configured order and each
 * entry's addresses in the resolver's order. An address two entries share is dialled once.
 */
export async function resolveEndpoints(entries: readonly CoordinatorEntry[], lookup: HostLookup): Promise<Endpoint[]> {
  const resolved = await Promise.all(entries.map((entry) => addressesOf(entry, lookup)));
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  entries.forEach((entry, i) => {
    for (const dial of resolved[i]!) {
      if (seen.has(dial)) continue;
      seen.add(dial);
      endpoints.push({ entry, dial });
    }
  });
  return endpoints;
}

async function addressesOf(entry: CoordinatorEntry, lookup: HostLookup): Promise<string[]> {
  if (entry.proxy !== undefined || net.isIP(entry.host) !== 0) return [entry.address];
  try {
    const addresses = await lookup(entry.host);
    return addresses.length === 0 ? [entry.address] : addresses.map((ip) => joinAddress(ip, entry.port));
  } catch {
    return [entry.address];
  }
}

/** endpointName is how logs name an endpoint: `coord.example:7181 (10.0.0.2:7181)`, or the address alone. */
export function endpointName(endpoint: Endpoint): string {
  return endpoint.dial === endpoint.entry.address ? endpoint.dial : `${endpoint.entry.address} (${endpoint.dial})`;
}

/** directEndpoint is an entry dialled as configured (the renewal's endpoint before any round). */
export function directEndpoint(entry: CoordinatorEntry): Endpoint {
  return { entry, dial: entry.address };
}
