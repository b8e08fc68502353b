/**
 * moto in server mode (`moto_server`, the Python moto package's HTTP server) on 127.0.0.1 and a free
 * port: an independent implementation of CloudWatch (and Lambda, ECS, ELBv2, SNS) for the AWS SDK
 * clients to talk to in tests. It is a system tool that may be absent: tests check
 * {@link MOTO_SERVER} first and skip with the reason when it is undefined.
 */
import { spawn } from 'node:child_process';
import { findExecutable, freeLoopbackPort } from '@fleetdeploy/shared';

/** MOTO_SERVER is the `moto_server` command found on PATH, or undefined. */
export const MOTO_SERVER: string | undefined = findExecutable('moto_server');

/** MOTO_MISSING is the one-line reason a test gives when it skips. */
export const MOTO_MISSING = 'moto_server is not on PATH (the Python package moto[server]); tests that need a CloudWatch endpoint are skipped';

/** MotoServer is a running moto_server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: the endpoint for every service moto serves. */
  url: string;
  /** stop ends the server (SIGTERM) and waits for it to exit; later requests are refused. */
  stop(): Promise<void>;
}

/** startMotoServer starts moto_server on a free loopback port and resolves once it answers HTTP. */
export async function startMotoServer(): Promise<MotoServer> {
  if (MOTO_SERVER === undefined) throw new Error(MOTO_MISSING);
  const port = await freeLoopbackPort();
  const child = spawn(MOTO_SERVER, ['-p', String(port), '-H', '127.0.0.1'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before answering:\n${stderr}`);
    try {
      await fetch(`${url}/moto-api/data.json`);
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`moto_server did not answer on ${url} within 30 s:\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
