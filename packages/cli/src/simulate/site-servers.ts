/**
 * `simulate --haproxy`: each simulated host's web server, serving what its agent installed under
 * /var/www/html (the document root of AWS's sample applications), i.e. <sandbox>/files/var/www/html.
 * A host with nothing installed answers 404 saying so. Plain static files, read at each request, so a
 * deployment's new files are served at once.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { SimHost } from './sandbox.js';

/** SITE_ROOT is the AppSpec destination a simulated host serves. */
export const SITE_ROOT = '/var/www/html';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.txt': 'text/plain; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.json': 'application/json' };

/** SiteServers are the hosts' web servers, by host name. */
export interface SiteServers {
  readonly ports: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** siteFile maps a request path to a file under `root`, or undefined for one that would leave it. */
export function siteFile(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath.split('?')[0]!);
  } catch {
    return undefined;
  }
  const file = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  if (file !== root && !file.startsWith(root + path.sep)) return undefined;
  return decoded.endsWith('/') || file === root ? path.join(file, 'index.html') : file;
}

/** startSiteServers starts one loopback web server per host. */
export async function startSiteServers(hosts: readonly SimHost[]): Promise<SiteServers> {
  const servers: http.Server[] = [];
  const ports = new Map<string, number>();
  for (const host of hosts) {
    const root = path.join(host.filesDir, SITE_ROOT);
    const server = http.createServer((req, res) => {
      const file = siteFile(root, req.url ?? '/');
      if (file === undefined) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('bad path\n');
      fs.readFile(file, (err, body) => {
        if (err) return void res.writeHead(404, { 'content-type': 'text/plain' }).end(`${host.name}: nothing installed at ${SITE_ROOT}${req.url ?? '/'}\n`);
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'x-served-by': host.name }).end(body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    servers.push(server);
    ports.set(host.name, (server.address() as AddressInfo).port);
  }
  return {
    ports,
    close: () => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => undefined),
  };
}
