/**
 * Loopback HTTP servers that each answer every request with their own label ("blue-1", "green-2"),
 * so a test behind a load balancer can count which server answered; and a client that sends a
 * bounded number of requests, each on a fresh connection, and tallies the answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** LabelServer is one running server. */
export interface LabelServer {
  label: string;
  port: number;
}

/** LabelServers are the running servers; close stops them all. */
export interface LabelServers {
  servers: LabelServer[];
  close(): Promise<void>;
}

/** startLabelServers starts one HTTP server on a free 127.0.0.1 port per label. */
export async function startLabelServers(labels: readonly string[]): Promise<LabelServers> {
  const running: Array<{ label: string; server: http.Server }> = [];
  const close = async (): Promise<void> => {
    await Promise.all(running.map(({ server }) => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    })));
  };
  try {
    for (const label of labels) {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
        res.end(label);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      running.push({ label, server });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { servers: running.map(({ label, server }) => ({ label, port: (server.address() as AddressInfo).port })), close };
}

/** Answer is what one request got: the HTTP status and body, or the error that kept it from an answer. */
export type Answer = { status: number; body: string } | { error: string };

/** getOnce sends one GET on a connection of its own (no keep-alive agent), with a 10 s bound. */
export function getOnce(url: string): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (err) => resolve({ error: err.message }));
  });
}

/** Tally counts the answers of a run of requests: 200s by body, and everything else. */
export interface Tally {
  total: number;
  byLabel: Map<string, number>;
  /** failures lists every answer that was not a 200 (status and body, or the error). */
  failures: string[];
}

/** newTally gives an empty tally. */
export function newTally(): Tally {
  return { total: 0, byLabel: new Map(), failures: [] };
}

/** record adds one answer to a tally. */
export function record(tally: Tally, answer: Answer): void {
  tally.total++;
  if ('error' in answer) tally.failures.push(`error: ${answer.error}`);
  else if (answer.status !== 200) tally.failures.push(`${answer.status}: ${answer.body.slice(0, 200)}`);
  else tally.byLabel.set(answer.body, (tally.byLabel.get(answer.body) ?? 0) + 1);
}

/** sendRequests sends `count` GETs to `url`, `concurrency` at a time, and tallies the answers. */
export async function sendRequests(url: string, count: number, concurrency = 4): Promise<Tally> {
  const tally = newTally();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      record(tally, await getOnce(url));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return tally;
}

/** share is the percentage of a tally's 200 answers whose label starts with `prefix`. */
export function share(tally: Tally, prefix: string): number {
  let matching = 0;
  let ok = 0;
  for (const [label, n] of tally.byLabel) {
    ok += n;
    if (label.startsWith(prefix)) matching += n;
  }
  return ok === 0 ? 0 : (100 * matching) / ok;
}
