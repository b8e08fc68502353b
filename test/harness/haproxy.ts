/**
 * startHaproxy runs a real HAProxy (Debian's `haproxy`, at /usr/sbin/haproxy) in the foreground as a
 * child process, with a configuration written to a temporary directory: an admin-level runtime API
 * socket, an HTTP frontend on a free loopback port and one `balance roundrobin` backend whose servers
 * are loopback ports the test chose. Suites using it go under `describeWithTools(['haproxy'], ...)`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findExecutable, freeLoopbackPort } from '@fleetdeploy/shared';
import { SYSTEM_TOOLS } from './system-tools.js';
import { HTTP_DEFAULTS } from '../../packages/cli/src/simulate/haproxy.js';

/** HaproxyServer is one server of the test backend. */
export interface HaproxyServer {
  name: string;
  /** port on 127.0.0.1. */
  port: number;
  /** weight in the configuration (HAProxy's default is 1). */
  weight?: number;
}

/** HaproxyOptions shape the configuration. */
export interface HaproxyOptions {
  servers: readonly HaproxyServer[];
  /** backend's name (default `app`). */
  backend?: string;
  /** check adds a fast HTTP health check (`check inter 200ms`) to every server. */
  check?: boolean;
  /** tcpRuntimeApi also opens the runtime API at level admin on a loopback TCP port. */
  tcpRuntimeApi?: boolean;
  /** operatorSocket also opens `<dir>/operator.sock` at level operator, which may not change weights or states. */
  operatorSocket?: boolean;
}

/** HaproxyProcess is a running HAProxy. */
export interface HaproxyProcess {
  backend: string;
  /** socketPath is the admin-level runtime API socket. */
  socketPath: string;
  /** tcpAddress is `127.0.0.1:port` of the TCP runtime API when asked for. */
  tcpAddress?: string;
  /** operatorSocketPath is the operator-level runtime API socket when asked for. */
  operatorSocketPath?: string;
  /** frontendUrl is `http://127.0.0.1:port` of the frontend. */
  frontendUrl: string;
  dir: string;
  configPath: string;
  child: ChildProcess;
  /** output is what HAProxy printed so far (warnings, alerts), for failure messages. */
  output(): string;
  /** stop ends HAProxy, waits for the exit and removes the temporary directory. */
  stop(): Promise<void>;
}

/** haproxyConfig writes the configuration text; exported so a test can show what it ran against. */
export function haproxyConfig(o: { dir: string; frontendPort: number; backend: string; servers: readonly HaproxyServer[]; check: boolean; tcpPort?: number; operatorSocket: boolean }): string {
  const lines = [
    'global',
    `  stats socket ${path.join(o.dir, 'haproxy.sock')} mode 600 level admin`,
    ...(o.tcpPort === undefined ? [] : [`  stats socket ipv4@127.0.0.1:${o.tcpPort} level admin`]),
    ...(o.operatorSocket ? [`  stats socket ${path.join(o.dir, 'operator.sock')} mode 600 level operator`] : []),
    // One thread: the machine is small and shared; round-robin order is then exact too.
    '  nbthread 1',
    ...HTTP_DEFAULTS,
    'frontend fe',
    `  bind 127.0.0.1:${o.frontendPort}`,
    `  default_backend ${o.backend}`,
    `backend ${o.backend}`,
    '  balance roundrobin',
    ...o.servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} weight ${s.weight ?? 1}${o.check ? ' check inter 200ms' : ''}`),
  ];
  return lines.join('\n') + '\n';
}

/** startHaproxy starts HAProxy and resolves once its runtime API answers; retries a frontend port someone else took. */
export async function startHaproxy(opts: HaproxyOptions): Promise<HaproxyProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (attempt >= 5 || !(err instanceof Error) || !err.message.includes('cannot bind socket')) throw err;
    }
  }
}

async function startOnce(opts: HaproxyOptions): Promise<HaproxyProcess> {
  const haproxy = findExecutable(SYSTEM_TOOLS.haproxy.command);
  if (haproxy === undefined) throw new Error('haproxy is not installed (Debian package haproxy)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-haproxy-'));
  const backend = opts.backend ?? 'app';
  const frontendPort = await freeLoopbackPort();
  const tcpPort = opts.tcpRuntimeApi === true ? await freeLoopbackPort() : undefined;
  const configPath = path.join(dir, 'haproxy.cfg');
  const operatorSocket = opts.operatorSocket === true;
  fs.writeFileSync(configPath, haproxyConfig({ dir, frontendPort, backend, servers: opts.servers, check: opts.check === true, ...(tcpPort === undefined ? {} : { tcpPort }), operatorSocket }));

  const child = spawn(haproxy, ['-f', configPath, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: string): void => {
    output += chunk;
    if (output.length > 1_000_000) output = output.slice(-500_000);
  };
  child.stdout!.setEncoding('utf8').on('data', collect);
  child.stderr!.setEncoding('utf8').on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const remove = (): void => fs.rmSync(dir, { recursive: true, force: true });
  const socketPath = path.join(dir, 'haproxy.sock');

  try {
    await untilAnswering(socketPath, () => (child.exitCode ?? child.signalCode) !== null, () => output);
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    remove();
    throw err;
  }

  return {
    backend,
    socketPath,
    ...(tcpPort === undefined ? {} : { tcpAddress: `127.0.0.1:${tcpPort}` }),
    ...(operatorSocket ? { operatorSocketPath: path.join(dir, 'operator.sock') } : {}),
    frontendUrl: `http://127.0.0.1:${frontendPort}`,
    dir,
    configPath,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      remove();
    },
  };
}

/** untilAnswering waits (10 s at most) for the runtime API to answer `show info`; gives up at once if HAProxy exits. */
async function untilAnswering(socketPath: string, hasExited: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let last = '';
  while (Date.now() < deadline) {
    if (hasExited()) throw new Error(`haproxy exited before its runtime API answered:\n${output()}`);
    try {
      const info = await ask(socketPath, 'show info');
      if (info.includes('Name: HAProxy')) return;
      last = `it answered 'show info' with: ${info}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`haproxy did not answer on ${socketPath} within 10 s (${last}):\n${output()}`);
}

/** ask sends one command to a runtime API socket and resolves with the whole answer. */
function ask(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path: socketPath }, () => socket.write(`${command}\n`));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}
