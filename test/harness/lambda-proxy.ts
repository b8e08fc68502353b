/**
 * A recording proxy in front of moto's Lambda API. moto keeps aliases and versions faithfully but
 * cannot run a hook function's code, so the proxy answers Invoke itself (202, as Lambda answers an
 * `Event` invocation) and records it, for the test to play the hook function. Every UpdateAlias is
 * recorded with the time it passed through, which is the sequence of weights the alias had. All
 * other requests go to moto unchanged.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** RecordedInvoke is one Invoke the coordinator made. */
export interface RecordedInvoke {
  functionName: string;
  invocationType: string;
  payload: { DeploymentId?: string; LifecycleEventHookExecutionId?: string };
  at: number;
}

/** RecordedAliasUpdate is one UpdateAlias the coordinator made: the alias's version and extra weights from then on. */
export interface RecordedAliasUpdate {
  functionName: string;
  alias: string;
  functionVersion?: string;
  weights: Record<string, number>;
  at: number;
}

/** LambdaProxy is a running proxy. */
export interface LambdaProxy {
  url: string;
  invokes: RecordedInvoke[];
  aliasUpdates: RecordedAliasUpdate[];
  close(): Promise<void>;
}

const INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const ALIAS = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/?]+)$/;

/** startLambdaProxy listens on a free loopback port and forwards to `upstream` (moto's URL). */
export async function startLambdaProxy(upstream: string): Promise<LambdaProxy> {
  const invokes: RecordedInvoke[] = [];
  const aliasUpdates: RecordedAliasUpdate[] = [];
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://proxy');
      const path = decodeURIComponent(url.pathname);
      const invoke = req.method === 'POST' ? INVOKE.exec(path) : null;
      if (invoke !== null) {
        invokes.push({ functionName: invoke[1]!, invocationType: String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse'), payload: JSON.parse(body.toString('utf8') || '{}'), at: Date.now() });
        res.writeHead(202, { 'content-type': 'application/json' }).end();
        return;
      }
      const alias = req.method === 'PUT' ? ALIAS.exec(path) : null;
      const forward = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (up) => {
        if (alias !== null && (up.statusCode ?? 500) < 300) {
          const sent = JSON.parse(body.toString('utf8') || '{}') as { FunctionVersion?: string; RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> } };
          aliasUpdates.push({ functionName: alias[1]!, alias: alias[2]!, ...(sent.FunctionVersion !== undefined ? { functionVersion: sent.FunctionVersion } : {}), weights: sent.RoutingConfig?.AdditionalVersionWeights ?? {}, at: Date.now() });
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      forward.on('error', (err) => res.writeHead(502).end(err.message));
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invokes,
    aliasUpdates,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
