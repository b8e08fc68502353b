/**
 * The Lambda endpoint of the local AWS: an HTTP front in front of moto_server. moto keeps
 * functions, versions and aliases (with their routing weights) faithfully but cannot run a
 * function's code, so the front answers every Invoke itself (202, as Lambda answers an `Event`
 * invocation), records it, and hands it to `onInvoke` (the hook runner plays the hook function).
 * Every successful UpdateAlias is recorded with the time it passed: the sequence of weights the
 * alias had. Everything else goes to moto unchanged, so one URL serves Lambda, CloudWatch, SNS and IAM.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** RecordedInvoke is one Invoke that reached the front. */
export interface RecordedInvoke {
  functionName: string;
  invocationType: string;
  payload: { DeploymentId?: string; LifecycleEventHookExecutionId?: string };
  at: number;
}

/** RecordedAliasUpdate is one UpdateAlias moto accepted: the alias's version and extra weights from then on. */
export interface RecordedAliasUpdate {
  functionName: string;
  alias: string;
  functionVersion?: string;
  weights: Record<string, number>;
  at: number;
}

/** LambdaFront is a running front. */
export interface LambdaFront {
  url: string;
  invokes: RecordedInvoke[];
  aliasUpdates: RecordedAliasUpdate[];
  close(): Promise<void>;
}

const INVOKE = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const ALIAS = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/?]+)$/;

/**
 * startLambdaFront listens on a free loopback port and forwards to `upstream` (moto's URL).
 * `onInvoke` is called after each Invoke has been answered.
 */
export async function startLambdaFront(upstream: string, onInvoke?: (call: RecordedInvoke) => void): Promise<LambdaFront> {
  const invokes: RecordedInvoke[] = [];
  const aliasUpdates: RecordedAliasUpdate[] = [];
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://front').pathname);
      const invoke = req.method === 'POST' ? INVOKE.exec(path) : null;
      if (invoke !== null) {
        const call: RecordedInvoke = { functionName: invoke[1]!, invocationType: String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse'), payload: parsePayload(body), at: Date.now() };
        invokes.push(call);
        res.writeHead(202, { 'content-type': 'application/json' }).end();
        onInvoke?.(call);
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

/** parsePayload reads an invocation's JSON payload; anything else is an empty one (not a hook call). */
function parsePayload(body: Buffer): RecordedInvoke['payload'] {
  try {
    const v: unknown = JSON.parse(body.toString('utf8') || '{}');
    return typeof v === 'object' && v !== null ? (v as RecordedInvoke['payload']) : {};
  } catch {
    return {};
  }
}
