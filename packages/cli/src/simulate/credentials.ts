/**
 * What the simulation tells operators to use against its API, and the SDK clients built the same
 * way. The coordinator does not check request signatures yet (that comes with the security issue), so
 * these fixed values only have to be well formed; any others would work too.
 */
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { S3Client } from '@aws-sdk/client-s3';

/** SIM_ACCESS_KEY_ID is the access key id the simulation prints. */
export const SIM_ACCESS_KEY_ID = 'AKIAFLEETDEPLOYSIM';
/** SIM_SECRET_ACCESS_KEY is the secret key the simulation prints. */
export const SIM_SECRET_ACCESS_KEY = 'fleetdeploy-simulation-secret-not-checked';
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

/** createApiClients points both SDK clients at a coordinator's API URL with the simulation's credentials. */
export function createApiClients(apiUrl: string): ApiClients {
  // fleetdeploy supports Node.js 20 (see engines); the SDK's notice about its own future support
  // would otherwise open every run's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const common = {
    endpoint: apiUrl,
    region: SIM_REGION,
    credentials: { accessKeyId: SIM_ACCESS_KEY_ID, secretAccessKey: SIM_SECRET_ACCESS_KEY },
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

/**
 * credentialLines are the lines `simulate` prints for a shell or the AWS CLI: each `NAME=value`
 * line can be pasted after `export `.
 */
export function credentialLines(): string[] {
  return [`AWS_ACCESS_KEY_ID=${SIM_ACCESS_KEY_ID}`, `AWS_SECRET_ACCESS_KEY=${SIM_SECRET_ACCESS_KEY}`, `AWS_DEFAULT_REGION=${SIM_REGION}`];
}
