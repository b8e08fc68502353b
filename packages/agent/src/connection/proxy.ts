/**
 * The coordinator link through an HTTP CONNECT proxy, as the AWS agent's `:proxy_uri:` sends its
 * CodeDeploy traffic: `proxy_uri` in the configuration wins over the environment (the AWS agent turns
 * `proxy_from_env` off when it is set); without it HTTPS_PROXY (then grpc_proxy, HTTP_PROXY, either
 * case) is used. NO_PROXY (or no_grpc_proxy) exempts hosts either way, so a coordinator on the same
 * network can be reached directly.
 *
 * grpc-js reads only the lower-case variables and matches NO_PROXY by bare string suffix, so the
 * agent turns its own handling off (`grpc.enable_http_proxy: 0`) and passes the route it chose as
 * channel options, which grpc-js's CONNECT code reads. The enrolment's CA pin is a raw TLS connection,
 * so it opens its tunnel with {@link openTunnel}.
 */
import http from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';
import { DeployError } from '@fleetdeploy/shared';

/** ProxyRoute is the proxy one connection goes through. */
export interface ProxyRoute {
  host: string;
  port: number;
  /** `user:password` for Proxy-Authorization: Basic, when the URI carries them. */
  auth?: string;
  /** Where the proxy came from (`proxy_uri` or the variable's name), for the log. */
  source: string;
}

/**
 * parseProxyUri reads `http://[user[:password]@]host[:port]` (port 80 by default, as for any http
 * URI); `source` names the setting in errors. Only http: proxies are supported (the tunnel itself
 * carries TLS to the coordinator), as grpc-js supports.
 */
export function parseProxyUri(text: string, source: string): ProxyRoute {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new DeployError('UnknownError', `${source}: not a URI: ${JSON.stringify(text)} (expected http://host:port)`);
  }
  if (url.protocol !== 'http:') throw new DeployError('UnknownError', `${source}: only http:// proxies are supported, got ${JSON.stringify(text)}`);
  if (url.hostname === '') throw new DeployError('UnknownError', `${source}: no proxy host in ${JSON.stringify(text)}`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new DeployError('UnknownError', `${source}: a proxy URI is http://host:port with nothing after it, got ${JSON.stringify(text)}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const route: ProxyRoute = { host, port: url.port === '' ? 80 : Number(url.port), source };
  if (url.username !== '') route.auth = decodeURIComponent(url.username) + (url.password === '' ? '' : `:${decodeURIComponent(url.password)}`);
  return route;
}

/** The environment variables read, in order of preference, and the exemption lists. */
const PROXY_VARIABLES = ['grpc_proxy', 'https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] as const;
const NO_PROXY_VARIABLES = ['no_grpc_proxy', 'no_proxy', 'NO_PROXY'] as const;

/**
 * proxyFor decides how the agent reaches `host`: through `proxyUri` (the configuration's), else the
 * environment's proxy, unless NO_PROXY exempts the host; undefined means directly.
 */
export function proxyFor(host: string, proxyUri: string | undefined, env: NodeJS.ProcessEnv): ProxyRoute | undefined {
  // Exemption first: a host NO_PROXY names is reached directly even if a proxy variable is unusable.
  const noProxyName = NO_PROXY_VARIABLES.find((v) => env[v] !== undefined);
  if (noProxyName !== undefined && noProxyMatches(host, env[noProxyName]!)) return undefined;
  if (proxyUri !== undefined) return parseProxyUri(proxyUri, 'proxy_uri');
  const name = PROXY_VARIABLES.find((v) => (env[v] ?? '') !== '');
  return name === undefined ? undefined : parseProxyUri(env[name]!, name);
}

/**
 * noProxyMatches reads a NO_PROXY list as curl and Go do: `*` exempts everything; an entry
 * `example.com` or `.example.com` exempts that domain and its subdomains (not `badexample.com`);
 * an IP address matches itself and `a.b.c.d/n` a range. A `:port` after an entry is ignored.
 */
export function noProxyMatches(host: string, list: string): boolean {
  const target = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  for (const raw of list.split(',')) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    entry = entry.replace(/^\[(.*)\](:\d+)?$/, '$1');
    if (net.isIP(entry) === 0 && !entry.includes('/')) entry = entry.replace(/:\d+$/, '');
    if (entry.includes('/')) {
      if (inCidr(target, entry)) return true;
      continue;
    }
    if (net.isIP(entry) !== 0 || net.isIP(target) !== 0) {
      if (entry === target) return true;
      continue;
    }
    const domain = entry.replace(/^\*?\./, '');
    if (target === domain || target.endsWith(`.${domain}`)) return true;
  }
  return false;
}

/** inCidr tells whether an IPv4 or IPv6 address lies in `range` (`address/prefix`). */
function inCidr(address: string, range: string): boolean {
  const [base, bits] = range.split('/');
  const family = net.isIP(base ?? '');
  if (family === 0 || net.isIP(address) !== family || !/^\d+$/.test(bits ?? '')) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(base!, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
  } catch {
    return false;
  }
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** GrpcDial is what a grpc-js client is constructed with: the target it dials and extra channel options. */
export interface GrpcDial {
  target: string;
  options: Record<string, string | number>;
}

/**
 * grpcDial turns `address` (host:port) and a route into a grpc-js target and options. Through a
 * proxy the channel dials the proxy and asks it to CONNECT to the coordinator; TLS still checks the
 * coordinator's name and the authority stays the coordinator's. grpc-js's own reading of the
 * environment is always off: {@link proxyFor} made the decision.
 */
export function grpcDial(address: string, route: ProxyRoute | undefined): GrpcDial {
  if (route === undefined) return { target: address, options: { 'grpc.enable_http_proxy': 0 } };
  const options: Record<string, string | number> = {
    'grpc.enable_http_proxy': 0,
    'grpc.http_connect_target': `dns:${address}`,
    'grpc.default_authority': address,
  };
  if (route.auth !== undefined) options['grpc.http_connect_creds'] = route.auth;
  return { target: joinHostPort(route.host, route.port), options };
}

/** joinHostPort writes host:port, bracketing an IPv6 address. */
function joinHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * openTunnel asks the proxy to CONNECT to host:port and resolves with the tunnelled socket; a proxy
 * that cannot be reached, answers anything but 200, or takes longer than `timeoutMs` is a DeployError
 * naming the proxy and the target.
 */
export function openTunnel(route: ProxyRoute, host: string, port: number, timeoutMs: number): Promise<Socket> {
  const authority = joinHostPort(host, port);
  const via = `the proxy ${joinHostPort(route.host, route.port)} (${route.source})`;
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { Host: authority };
    if (route.auth !== undefined) headers['Proxy-Authorization'] = `Basic ${Buffer.from(route.auth).toString('base64')}`;
    const request = http.request({ host: route.host, port: route.port, method: 'CONNECT', path: authority, headers, agent: false });
    const timer = setTimeout(() => {
      request.destroy();
      reject(new DeployError('UnknownError', `${via} did not open a tunnel to ${authority} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    request.once('connect', (res, socket, head) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        return reject(new DeployError('UnknownError', `${via} refused a tunnel to ${authority}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trimEnd()));
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    request.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new DeployError('UnknownError', `cannot reach ${via}: ${err.code ?? err.message}`));
    });
    request.end();
  });
}
