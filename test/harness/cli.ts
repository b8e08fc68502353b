/**
 * Running the built `fleetdeploy` command as a user would: its own process, with only the AWS
 * environment a user has (the coordinator's admin-credentials file and an endpoint), never through
 * a terminal, and checking its one-line errors.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { REPO_ROOT } from './coordinator.js';
import type { CoordinatorProcess } from './coordinator.js';

export const CLI_BIN = path.join(REPO_ROOT, 'packages/cli/bin/fleetdeploy.js');

/** CliRun is one finished run of the CLI. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * userEnvironment is what an operator of `coordinator` has: HOME and an empty AWS config in `dir`,
 * the admin key as the shared-credentials file, FLEETDEPLOY_ENDPOINT, and its CA as AWS_CA_BUNDLE.
 */
export function userEnvironment(coordinator: CoordinatorProcess, dir: string): NodeJS.ProcessEnv {
  fs.writeFileSync(path.join(dir, 'config'), '');
  return {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_CONFIG_FILE: path.join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(coordinator.dataDir, 'admin-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    FLEETDEPLOY_ENDPOINT: coordinator.apiUrl,
    AWS_CA_BUNDLE: coordinator.caFile,
  };
}

/** runCli runs `fleetdeploy args` with exactly `env`, in `cwd`. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { env, cwd, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * watchUntil runs `fleetdeploy args` like {@link runCli} and says when its output first contains `text`
 * (`reached`; also settled when the run ends without it), e.g. to act in the middle of a --watch.
 */
export function watchUntil(args: string[], env: NodeJS.ProcessEnv, cwd: string, text: string): { reached: Promise<void>; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env, cwd });
  let stdout = '';
  let stderr = '';
  let seen: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (seen = resolve));
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    if (stdout.includes(text)) seen();
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<CliRun>((resolve) =>
    child.on('close', (code) => {
      seen();
      resolve({ code: code ?? 1, stdout, stderr });
    }),
  );
  return { reached, done };
}

/** expectOneErrorLine checks a failed run printed exactly one ERROR line matching `pattern`, and no stack. */
export function expectOneErrorLine(r: CliRun, pattern: RegExp): void {
  expect(r.code, r.stdout + r.stderr).not.toBe(0);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ERROR: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
