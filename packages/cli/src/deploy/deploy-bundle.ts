/**
 * Deploying a bundle to the simulated fleet the way an operator would with the AWS CLI: upload it to
 * the coordinator's revision bucket, make sure the application and a deployment group targeting
 * env=sim exist, and create the deployment. The demo and the tests use it.
 */
import { CreateApplicationCommand, CreateDeploymentCommand, CreateDeploymentGroupCommand } from '@aws-sdk/client-codedeploy';
import type { BundleType } from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CliError, CliErrorCode } from '../cli-error.js';
import type { ApiClients } from '../simulate/credentials.js';
import { SIM_ACCOUNT_ID } from '../simulate/credentials.js';
import { apiFailure } from '../simulate/register.js';
import { SIM_TAG_ENV } from '../simulate/sandbox.js';

/** BundleDeployment says what to deploy and where it is kept. */
export interface BundleDeployment {
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  /** e.g. CodeDeployDefault.OneAtATime */
  readonly deploymentConfigName: string;
  readonly bucket: string;
  readonly key: string;
  readonly bundle: Uint8Array;
  readonly bundleType: BundleType;
  readonly description?: string;
}

/** DeployedRevision is what {@link deployBundle} created. */
export interface DeployedRevision {
  readonly deploymentId: string;
  readonly eTag: string | undefined;
}

/**
 * deployBundle uploads the bundle, creates the application and its deployment group (both kept if
 * they exist) and starts a deployment; throws API_FAILED naming the call that failed.
 */
export async function deployBundle(clients: ApiClients, d: BundleDeployment): Promise<DeployedRevision> {
  await call('CreateBucket', () => clients.s3.send(new CreateBucketCommand({ Bucket: d.bucket })), ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists']);
  const put = await call('PutObject', () => clients.s3.send(new PutObjectCommand({ Bucket: d.bucket, Key: d.key, Body: d.bundle })));
  await call('CreateApplication', () => clients.codedeploy.send(new CreateApplicationCommand({ applicationName: d.applicationName, computePlatform: 'Server' })), ['ApplicationAlreadyExistsException']);
  await call(
    'CreateDeploymentGroup',
    () =>
      clients.codedeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: d.applicationName,
          deploymentGroupName: d.deploymentGroupName,
          serviceRoleArn: `arn:aws:iam::${SIM_ACCOUNT_ID}:role/fleetdeploy`,
          deploymentConfigName: d.deploymentConfigName,
          onPremisesInstanceTagFilters: [{ Key: SIM_TAG_ENV.Key, Value: SIM_TAG_ENV.Value, Type: 'KEY_AND_VALUE' }],
        }),
      ),
    ['DeploymentGroupAlreadyExistsException'],
  );
  const created = await call('CreateDeployment', () =>
    clients.codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: d.applicationName,
        deploymentGroupName: d.deploymentGroupName,
        deploymentConfigName: d.deploymentConfigName,
        ...(d.description === undefined ? {} : { description: d.description }),
        revision: { revisionType: 'S3', s3Location: { bucket: d.bucket, key: d.key, bundleType: d.bundleType } },
      }),
    ),
  );
  if (created?.deploymentId === undefined) throw new CliError(CliErrorCode.API_FAILED, 'CreateDeployment returned no deploymentId');
  return { deploymentId: created.deploymentId, eTag: put?.ETag };
}

/** call runs one SDK call; an error named in `tolerated` (the thing exists already) gives undefined. */
async function call<T>(name: string, run: () => Promise<T>, tolerated: readonly string[] = []): Promise<T | undefined> {
  try {
    return await run();
  } catch (err) {
    if (tolerated.includes((err as { name?: string }).name ?? '')) return undefined;
    throw apiFailure(name, err);
  }
}
