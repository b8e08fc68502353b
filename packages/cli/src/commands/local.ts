/**
 * `fleetdeploy local ...`: the agent's local engine (`fleetdeploy-agent local`, like AWS's
 * codedeploy-local) with the same options, run as a child process of the installed agent package
 * so its output, exit code and signals are the agent's own.
 */
import { spawn } from 'node:child_process';
import { daemonBin } from '../simulate/processes.js';

/** runLocal runs `fleetdeploy-agent local <args>` with this terminal; resolves with its exit code. */
export function runLocal(args: readonly string[]): Promise<number> {
  const bin = daemonBin('@fleetdeploy/agent', 'fleetdeploy-agent.js', 'dist/fleetdeploy-agent.mjs');
  const child = spawn(process.execPath, [bin, 'local', ...args], { stdio: 'inherit' });
  // A Ctrl-C reaches the agent from the terminal directly; a signal sent to us alone is passed on.
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGTERM', forward);
  process.on('SIGHUP', forward);
  process.on('SIGINT', () => undefined); // let the agent decide how to end; we end when it does
  return new Promise((resolve) => {
    child.on('error', () => resolve(127));
    child.on('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 1));
    });
  });
}

/** localArgs are the words after `local` on the command line, passed to the agent untouched. */
export function localArgs(argv: readonly string[]): string[] {
  const at = argv.indexOf('local', 2);
  return at < 0 ? [] : argv.slice(at + 1);
}
