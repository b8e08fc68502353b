/**
 * The coordinator's one API port: CodeDeploy's JSON API (requests with an X-Amz-Target header),
 * `/healthz`, `/metrics`, the web console (`/_console/...`) and the S3-compatible revision bucket
 * (everything else). HTTPS when given a key and certificate (the default: api-tls.ts), plain HTTP
 * otherwise (`plaintext_api`).
 */
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { HealthReport } from '../health.js';
import { healthBody } from '../health.js';
import { answerPlainHttp } from './plain-http-answer.js';
import { deferContinue } from './request-body.js';

/** HttpHandler answers one request. */
export interface HttpHandler {
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

/** ApiServerParts are the handlers the server routes to. */
export interface ApiServerParts {
  codedeploy: HttpHandler;
  bucket: HttpHandler;
  /** health reports whether the coordinator does its work (engine started, store open), or why not. */
  health: () => HealthReport;
  /** `/metrics` (GET): Prometheus' exposition text; absent: no such path. */
  metrics?: HttpHandler;
  /** The web console: requests whose path is under `/_console` (no bucket name can hold `_`). */
  console?: HttpHandler & { owns(url: string | undefined): boolean };
  log: Logger;
}

/** ServerTls is the key and certificate chain (PEM) an HTTPS API port serves. */
export interface ServerTls {
  keyPem: string;
  chainPem: string;
}

/** ApiServer is the API's server, HTTP or HTTPS; both listen, close and emit 'upgrade' alike. */
export type ApiServer = http.Server | https.Server;

/** createApiServer makes the server (HTTPS with `tls`); the caller listens and closes it. */
export function createApiServer(parts: ApiServerParts, tls?: ServerTls): ApiServer {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const route = (): Promise<void> => {
      if (req.headers['x-amz-target'] !== undefined) return parts.codedeploy.handle(req, res);
      if (req.url === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
        const health = parts.health();
        res.writeHead(health.ok ? 200 : 503, { 'content-type': 'application/json' });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify(healthBody(health)));
        return Promise.resolve();
      }
      if (parts.metrics !== undefined && req.url === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) return parts.metrics.handle(req, res);
      if (parts.console?.owns(req.url) === true) return parts.console.handle(req, res);
      return parts.bucket.handle(req, res);
    };
    route().catch((err: unknown) => {
      parts.log.error({ err, url: req.url }, 'request failed unexpectedly');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  let server: ApiServer;
  if (tls === undefined) server = http.createServer(handler);
  else {
    const secure = https.createServer({ key: tls.keyPem, cert: tls.chainPem }, handler);
    answerPlainHttp(secure);
    server = secure;
  }
  // `Expect: 100-continue` (the AWS CLI's uploads): the body is asked for only when it is read.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    deferContinue(req, res);
    handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
