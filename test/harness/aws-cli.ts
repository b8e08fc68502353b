/**
 * The stock AWS CLI (Debian's awscli, /usr/bin/aws) pointed at a coordinator, and the SDK client
 * built the same way. Both sign with the target's credentials: a coordinator process's admin key
 * (`aws(coordinator, args)`), any key a test made, or, for a bare endpoint string (the in-process API
 * harness, which checks no signatures), well-formed dummies.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { Credentials } from './coordinator.js';
import { testCaFile } from './test-ca.js';

/** AWS_CLI is the CLI the tests use; override with FLEETDEPLOY_AWS_CLI. */
export const AWS_CLI = process.env.FLEETDEPLOY_AWS_CLI ?? '/usr/bin/aws';

/** ApiTarget is where requests go and what signs them; a bare URL means the unchecked in-process harness. */
export type ApiTarget = string | { apiUrl: string; credentials: Credentials };

/** UNCHECKED_CREDENTIALS sign requests to the in-process API harness, which does not verify them. */
export const UNCHECKED_CREDENTIALS: Credentials = { accessKeyId: 'AKIAFLEETDEPLOYTEST0', secretAccessKey: 'fleetdeploy-test-secret-not-checked-000' };

const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-awscfg-'));
fs.writeFileSync(path.join(configDir, 'config'), '[default]\nregion = us-east-1\noutput = json\ns3 =\n    addressing_style = path\n');
fs.writeFileSync(path.join(configDir, 'credentials'), '');

/**
 * cliEnv is the environment the CLI runs with (plus the target's keys): no real AWS configuration can
 * leak in. AWS_CA_BUNDLE is the run's CA (test-ca.ts), which every harness coordinator's HTTPS API chains to.
 */
export const cliEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  ...(testCaFile() !== undefined ? { AWS_CA_BUNDLE: testCaFile() } : {}),
  HOME: configDir,
  AWS_CONFIG_FILE: path.join(configDir, 'config'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(configDir, 'credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

/** endpointOf and credentialsOf split an {@link ApiTarget}. */
export function endpointOf(target: ApiTarget): string {
  return typeof target === 'string' ? target : target.apiUrl;
}
export function credentialsOf(target: ApiTarget): Credentials {
  return typeof target === 'string' ? UNCHECKED_CREDENTIALS : target.credentials;
}

/** cliEnvFor is {@link cliEnv} with the target's credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
export function cliEnvFor(target: ApiTarget): NodeJS.ProcessEnv {
  const c = credentialsOf(target);
  return { ...cliEnv, AWS_ACCESS_KEY_ID: c.accessKeyId, AWS_SECRET_ACCESS_KEY: c.secretAccessKey };
}

/** CliResult is one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, or undefined when it is empty. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** aws runs `aws <args> --endpoint-url <endpoint>` signed with the target's key, and never throws for a non-zero exit. */
export function aws(target: ApiTarget, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return runAws([...args, '--endpoint-url', endpointOf(target)], cliEnvFor(target), timeoutMs);
}

/** awsDeployOk runs `aws deploy <args>` against the target and answers its JSON, or throws with the CLI's stderr. */
export async function awsDeployOk(target: ApiTarget, args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await aws(target, ['deploy', ...args]);
  if (r.code !== 0) throw new Error(`aws deploy ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.json;
}

/** runAws runs the CLI with exactly these arguments and this environment (no --endpoint-url added). */
export function runAws(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(AWS_CLI, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      let json: unknown;
      try {
        json = stdout.trim() === '' ? undefined : JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** awsCliVersion is the version `aws --version` prints (`aws-cli/2.9.19 ...` gives 2.9.19), or undefined when the CLI does not run. */
export function awsCliVersion(): string | undefined {
  try {
    return /^aws-cli\/(\d+\.\d+\.\d+)/.exec(execFileSync(AWS_CLI, ['--version'], { env: cliEnv, encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * readsConfiguredEndpoints says whether a CLI of this version takes a service's endpoint from
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL and the profile's `endpoint_url` / `services` section:
 * AWS CLI 2.13.0 and 1.29.0 brought them. An older one sends what it builds without --endpoint-url
 * (such as `aws deploy push`'s upload) to AWS.
 */
export function readsConfiguredEndpoints(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major === 2 ? minor >= 13 : major === 1 ? minor >= 29 : major > 2;
}

/** trustingCa is the SDK client option that trusts the CA certificate in `caFile` (a coordinator not started by the harness: simulate's). */
export function trustingCa(caFile: string): { requestHandler: { httpsAgent: https.Agent } } {
  return { requestHandler: { httpsAgent: new https.Agent({ keepAlive: true, ca: fs.readFileSync(caFile, 'utf8') }) } };
}

/** codeDeployClient is @aws-sdk/client-codedeploy against a coordinator, signing with the target's key. */
export function codeDeployClient(target: ApiTarget): CodeDeployClient {
  return new CodeDeployClient({ endpoint: endpointOf(target), region: 'us-east-1', credentials: credentialsOf(target), maxAttempts: 1 });
}
