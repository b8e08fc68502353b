/**
 * The stock AWS CLI (Debian's awscli, /usr/bin/aws) pointed at a coordinator, and the SDK client
 * built the same way. Credentials are dummies: signatures are not checked on loopback yet.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';

/** AWS_CLI is the CLI the tests use; override with FLEETDEPLOY_AWS_CLI. */
export const AWS_CLI = process.env.FLEETDEPLOY_AWS_CLI ?? '/usr/bin/aws';

const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-awscfg-'));
fs.writeFileSync(path.join(configDir, 'config'), '[default]\nregion = us-east-1\noutput = json\ns3 =\n    addressing_style = path\n');
fs.writeFileSync(path.join(configDir, 'credentials'), '[default]\naws_access_key_id = AKIAFLEETDEPLOYTEST\naws_secret_access_key = fleetdeploy-test-secret\n');

/** cliEnv is the environment the CLI runs with: no real AWS configuration can leak in. */
export const cliEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: configDir,
  AWS_CONFIG_FILE: path.join(configDir, 'config'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(configDir, 'credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_PAGER: '',
};

/** CliResult is one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, or undefined when it is empty. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** aws runs `aws <args> --endpoint-url <endpoint>` and never throws for a non-zero exit. */
export function aws(endpoint: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(AWS_CLI, [...args, '--endpoint-url', endpoint], { env: cliEnv, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
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

/** codeDeployClient is @aws-sdk/client-codedeploy against a coordinator. */
export function codeDeployClient(endpoint: string): CodeDeployClient {
  return new CodeDeployClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIAFLEETDEPLOYTEST', secretAccessKey: 'fleetdeploy-test-secret' }, maxAttempts: 1 });
}
