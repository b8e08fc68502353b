/**
 * `simulate --haproxy`: a real HAProxy (Debian's `haproxy`) in front of the simulated hosts, for
 * blue/green Server deployments on one machine. Its backend `sim-web` has one server per host, named
 * as the host, pointing at the host's web server (site-servers.ts); the role=web hosts serve at first
 * and the role=api hosts wait disabled, so a blue/green deployment can name role=api as the
 * replacement. The coordinator drives it through the admin runtime socket <data>/haproxy.sock.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findExecutable } from '@fleetdeploy/shared';
import { CliError, CliErrorCode } from '../cli-error.js';
import type { SimHost } from './sandbox.js';
import { startKeptProcess } from './kept-process.js';
import type { KeptProcess } from './kept-process.js';
import { startSiteServers } from './site-servers.js';

/** HAPROXY_INSTALL is what to install when haproxy is missing. */
export const HAPROXY_INSTALL = 'haproxy is not installed: --haproxy needs HAProxy (Debian package haproxy: apt-get install haproxy)';

/** SIM_BACKEND is the backend a simulated blue/green deployment group names in loadBalancerInfo. */
export const SIM_BACKEND = 'sim-web';

/** HAPROXY_START_MS is how long HAProxy may take to open its runtime socket. */
const HAPROXY_START_MS = 10_000;

/** SimHaproxy is the running HAProxy with the hosts' web servers. */
export interface SimHaproxy {
  /** The frontend, e.g. http://127.0.0.1:7190. */
  readonly url: string;
  readonly socket: string;
  readonly backend: string;
  readonly configFile: string;
  /** The hosts that serve at first (role=web) and those that wait disabled (role=api). */
  readonly serving: readonly string[];
  readonly waiting: readonly string[];
  /** exited resolves if HAProxy ends on its own. */
  readonly exited: Promise<void>;
  stop(): Promise<void>;
}

/** findHaproxy is the haproxy program (on PATH, or in /usr/sbin where Debian puts it), or undefined. */
export function findHaproxy(envPath = process.env.PATH ?? '', fallback = '/usr/sbin'): string | undefined {
  return findExecutable('haproxy', [envPath, fallback].filter((p) => p !== '').join(':'));
}

/**
 * HTTP_DEFAULTS are the `defaults` section of an HTTP HAProxy that balances each request on its own
 * (the server side is closed after each response), so a weight shift shows in the very next requests.
 */
export const HTTP_DEFAULTS: readonly string[] = ['defaults', '  mode http', '  timeout connect 2s', '  timeout client 30s', '  timeout server 30s', '  option http-server-close'];

/** haproxyConfigText is the configuration: the admin socket, the frontend and the hosts' backend. */
export function haproxyConfigText(o: { socket: string; host: string; port: number; servers: ReadonlyArray<{ name: string; port: number; disabled: boolean }> }): string {
  return [
    '# Written by `fleetdeploy simulate --haproxy`.',
    'global',
    `  stats socket ${o.socket} mode 600 level admin`,
    ...HTTP_DEFAULTS,
    'frontend sim',
    `  bind ${o.host}:${o.port}`,
    `  default_backend ${SIM_BACKEND}`,
    `backend ${SIM_BACKEND}`,
    '  balance roundrobin',
    ...o.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}${s.disabled ? ' disabled' : ''}`),
    '',
  ].join('\n');
}

/** startSimHaproxy starts the hosts' web servers and HAProxy before them; `port` is the frontend's. */
export async function startSimHaproxy(dataDir: string, host: string, port: number, hosts: readonly SimHost[]): Promise<SimHaproxy> {
  const program = findHaproxy();
  if (program === undefined) throw new CliError(CliErrorCode.MISSING_TOOL, HAPROXY_INSTALL);
  const sites = await startSiteServers(hosts);
  const socket = path.join(dataDir, 'haproxy.sock');
  const configFile = path.join(dataDir, 'haproxy.cfg');
  const waiting = hosts.filter((h) => h.tags.some((t) => t.Key === 'role' && t.Value === 'api')).map((h) => h.name);
  const servers = hosts.map((h) => ({ name: h.name, port: sites.ports.get(h.name)!, disabled: waiting.includes(h.name) }));
  fs.rmSync(socket, { force: true });
  fs.writeFileSync(configFile, haproxyConfigText({ socket, host, port, servers }));
  const logFile = path.join(dataDir, 'haproxy.log');
  const kept: KeptProcess = startKeptProcess(program, ['-f', configFile, '-db'], logFile);
  const stop = async (): Promise<void> => {
    await kept.stop();
    await sites.close();
  };
  try {
    await waitForSocket(socket, kept, logFile);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://${host}:${port}`, socket, backend: SIM_BACKEND, configFile, serving: hosts.map((h) => h.name).filter((n) => !waiting.includes(n)), waiting, exited: kept.exited, stop };
}

async function waitForSocket(socket: string, kept: KeptProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + HAPROXY_START_MS;
  while (!fs.existsSync(socket)) {
    if (!kept.running()) {
      const said = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n').filter((l) => /ALERT|error/i.test(l)).slice(-1)[0] : undefined;
      throw new CliError(CliErrorCode.HAPROXY_FAILED, `haproxy exited before it was ready${said === undefined ? '' : `: ${said}`} (its log: ${logFile})`);
    }
    if (Date.now() > deadline) throw new CliError(CliErrorCode.HAPROXY_FAILED, `haproxy did not open its runtime socket ${socket} within ${HAPROXY_START_MS / 1000} s (its log: ${logFile})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
