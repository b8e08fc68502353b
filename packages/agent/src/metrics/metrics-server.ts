/**
 * `GET http://127.0.0.1:<metrics_port>/metrics`: the agent's exposition text for a Prometheus (or
 * node_exporter's textfile-less scrape) on the same host. It listens on the loopback address only:
 * nothing else on the network can reach it, so it needs no token.
 */
import http from 'node:http';
import { DeployError } from '@fleetdeploy/shared';
import type { AgentMetrics } from './agent-metrics.js';

/** MetricsServer is the listening endpoint. */
export interface MetricsServer {
  /** The port it listens on (the configured one, or the one the system chose for 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** startMetricsServer listens on 127.0.0.1:`port`, or fails with a message naming metrics_port. */
export async function startMetricsServer(metrics: AgentMetrics, port: number): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404: the agent serves GET /metrics only\n');
      return;
    }
    metrics.render().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`500: ${(err as Error).message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'another process uses it' : err.code ?? err.message;
      reject(new DeployError('UnknownError', `cannot serve metrics on 127.0.0.1 port ${port} (metrics_port): ${why}`));
    });
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
