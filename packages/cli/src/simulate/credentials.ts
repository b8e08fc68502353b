/**
 * What the simulation tells operators to use against its API, and the SDK clients built the same
 * way: the coordinator's first admin key, which it writes once to `<its data dir>/admin-credentials`
 * (AWS credentials-file format, mode 0600). The coordinator checks every request's SigV4 signature.
 */
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { S3Client } from '@aws-sdk/client-s3';

/** ADMIN_CREDENTIALS_FILE is where, in its data directory, the coordinator writes its first admin key. */
export const ADMIN_CREDENTIALS_FILE = 'admin-credentials';

/** SimCredentials are an access key id and its secret. */
export interface SimCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/**
 * readAdminCredentials reads the `[default]` profile of `<coordinatorDataDir>/admin-credentials`;
 * it throws when the file or a value is missing.
 */
export function readAdminCredentials(coordinatorDataDir: string): SimCredentials {
  const file = path.join(coordinatorDataDir, ADMIN_CREDENTIALS_FILE);
  const text = fs.readFileSync(file, 'utf8');
  const value = (name: string): string => {
    const m = new RegExp(`^\\s*${name}\\s*=\\s*(\\S+)\\s*$`, 'm').exec(text);
    if (m === null) throw new Error(`${file} has no ${name}`);
    return m[1]!;
  };
  return { accessKeyId: value('aws_access_key_id'), secretAccessKey: value('aws_secret_access_key') };
}
/** SIM_REGION is the coordinator's region on its embedded defaults. */
export const SIM_REGION = 'us-east-1';
/** SIM_ACCOUNT_ID is the coordinator's account on its embedded defaults; ARNs name it. */
export const SIM_ACCOUNT_ID = '000000000000';

/** ApiClients are the two clients a deployment needs: CodeDeploy for the API, S3 for bundles. */
export interface ApiClients {
  readonly codedeploy: CodeDeployClient;
  readonly s3: S3Client;
  /** destroy closes both clients' sockets. */
  destroy(): void;
}

/**
 * createApiClients points both SDK clients at a coordinator's API URL, signing with `credentials` and
 * trusting `caPem` (the coordinator's CA, for its HTTPS API) when given.
 */
export function createApiClients(apiUrl: string, credentials: SimCredentials, caPem?: string): ApiClients {
  // fleetdeploy supports Node.js 20 (see engines); the SDK's notice about its own future support
  // would otherwise open every run's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const common = {
    endpoint: apiUrl,
    region: SIM_REGION,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    ...(caPem === undefined ? {} : { requestHandler: { httpsAgent: new https.Agent({ keepAlive: true, ca: caPem }) } }),
  };
  const codedeploy = new CodeDeployClient(common);
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  return {
    codedeploy,
    s3,
    destroy() {
      codedeploy.destroy();
      s3.destroy();
    },
  };
}

/** credentialLines are the key and region as `NAME=value` lines (the demo prints them after `export `). */
export function credentialLines(credentials: SimCredentials): string[] {
  return [`AWS_ACCESS_KEY_ID=${credentials.accessKeyId}`, `AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`, `AWS_DEFAULT_REGION=${SIM_REGION}`];
}

/**
 * exportLines are the lines `simulate` prints for a shell to paste: the key, the region, the endpoint
 * and the CA certificate its HTTPS API chains to, for `fleetdeploy` and the AWS CLI alike (values are
 * shell-safe: base64, a URL; the file is quoted when it needs to be).
 */
export function exportLines(credentials: SimCredentials, apiUrl: string, caFile?: string): string[] {
  const trust = caFile === undefined ? [] : [`AWS_CA_BUNDLE=${shellWord(caFile)}`];
  return [...credentialLines(credentials), `FLEETDEPLOY_ENDPOINT=${apiUrl}`, ...trust].map((line) => `export ${line}`);
}

/** shellWord is `text` as one word of a POSIX shell: as it is when it holds nothing the shell reads, else single-quoted. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
