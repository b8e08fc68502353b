/**
 * A program that is not a Node.js daemon (moto_server, haproxy), run for the simulation through a
 * small Node keeper that holds a pipe from this process, as the daemons hold theirs: when this
 * process dies, even by SIGKILL, the pipe closes and the keeper stops the program.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { withTimeout } from '../clock.js';

/** KEEPER runs `argv[1..]` and stops it (SIGTERM) when its standard input closes or it is signalled. */
const KEEPER = `
const child = require('node:child_process').spawn(process.argv[1], process.argv.slice(2), { stdio: ['ignore', 'inherit', 'inherit'] });
const stop = () => child.kill('SIGTERM');
process.stdin.on('close', stop).on('end', stop).resume();
process.on('SIGTERM', stop).on('SIGINT', stop);
child.on('exit', (code) => process.exit(code ?? 0));
`;

/** KeptProcess is a running program under its keeper. */
export interface KeptProcess {
  /** exited resolves when the keeper (and so the program) has ended. */
  readonly exited: Promise<void>;
  running(): boolean;
  /** stop ends the program (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

/** startKeptProcess starts `command args` with its output appended to `logFile`. */
export function startKeptProcess(command: string, args: readonly string[], logFile: string): KeptProcess {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, ['-e', KEEPER, command, ...args], { stdio: ['pipe', log, log], detached: true });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.on('exit', killOnExit);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  let stopping: Promise<void> | undefined;
  const end = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (running()) child.kill('SIGTERM');
    try {
      await withTimeout(exited, 5_000, () => new Error('did not stop'));
    } catch {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return { exited, running, stop: () => (stopping ??= end()) };
}
