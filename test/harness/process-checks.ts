/**
 * Checks of a process's outward behaviour that several process tests make: a start refused with one
 * ERROR line, and a port nothing listens on.
 */
import net from 'node:net';
import { expect } from 'vitest';

/** ProcessRun is what a finished command left: its exit code and output. */
export interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** expectOneErrorLine checks the run exited 1 having printed exactly one ERROR line (no stack) matching `pattern`, and nothing on stdout. */
export function expectOneErrorLine(r: ProcessRun, pattern: RegExp): void {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ERROR: /);
  expect(lines[0]).toMatch(pattern);
}

/** refusesConnections says whether a connection to the loopback port is refused (nothing listens there). */
export function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
