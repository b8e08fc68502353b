/**
 * The host's GNU tar as the writer of a tar bundle, fed on its standard input with the bytes the
 * scan has already judged (see judged-stream.ts). This module starts a process itself instead of
 * going through process/spawn.ts because it needs a writable standard input that runCommand does
 * not offer; it starts nothing but `tar`.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { DeployError } from '@fleetdeploy/shared';
import { DISK_FULL_MESSAGE } from './errors.js';
import { runCommand } from '../process/spawn.js';

let gnuTar: Promise<boolean> | undefined;

/**
 * findGnuTar checks once per process for GNU tar on PATH (busybox and BSD tar differ in flags and
 * safety).
 */
export function findGnuTar(): Promise<boolean> {
  gnuTar ??= runCommand('tar', ['--version']).then((out) => out.code === 0 && /GNU tar/.test(out.stdout));
  return gnuTar;
}

/** GnuTarExtraction is a running `tar -xp` reading an archive from `input`. */
export interface GnuTarExtraction {
  input: Writable;
  /** Settles when tar has exited; rejects with the DeployError that names the bundle if it failed. */
  done: Promise<void>;
  /** Kills tar (a refused bundle) and settles once it is gone, so nothing writes after it. */
  kill(): Promise<void>;
}

/**
 * startGnuTarExtraction starts `tar -xpf - --no-overwrite-dir` in `dir`, as the AWS agent extracts
 * with `tar -xp`. Its standard input must only ever receive bytes the bundle index has judged.
 */
export function startGnuTarExtraction(dir: string, label: string): GnuTarExtraction {
  const child = spawn('tar', ['-xpf', '-', '-C', dir, '--no-overwrite-dir'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 8192) stderr += text;
  });
  // tar may stop reading at the archive's end marker or on a fatal error; its exit status says which.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const done = exited.then(({ code, signal, error }) => {
    if (code === 0) return;
    const why = (stderr || error?.message || '').trim().split('\n').slice(0, 3).join('; ');
    if (/No space left on device/i.test(why)) throw new DeployError('UnknownError', DISK_FULL_MESSAGE);
    throw new DeployError('UnknownError', `Error extracting tar archive ${label}: tar exited with ${code ?? signal}: ${why}`);
  });
  // A tar killed because the bundle was refused fails too; the refusal is what the caller reports.
  done.catch(() => undefined);
  return {
    input: child.stdin,
    done,
    kill: async () => {
      child.stdin.destroy();
      child.kill('SIGKILL');
      await exited;
    },
  };
}
