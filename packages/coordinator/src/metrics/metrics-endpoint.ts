/**
 * `GET /metrics`: the exposition text for Prometheus. It holds no secrets, so by default anyone who
 * reaches the API port may scrape it; with `metrics_token` set a scrape must carry
 * `Authorization: Bearer <token>` (Prometheus' `authorization` / `bearer_token` setting).
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import type { CoordinatorMetrics } from './coordinator-metrics.js';

/** bearerMatches compares in constant time, so the token cannot be guessed byte by byte. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && crypto.timingSafeEqual(given, wanted);
}

/** serveMetrics answers one /metrics request. */
export async function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, metrics: CoordinatorMetrics, token: string | undefined): Promise<void> {
  if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
    res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="fleetdeploy metrics"' });
    res.end('401: /metrics needs Authorization: Bearer <metrics_token>\n');
    return;
  }
  const text = await metrics.render();
  res.writeHead(200, { 'content-type': metrics.contentType });
  res.end(req.method === 'HEAD' ? undefined : text);
}
