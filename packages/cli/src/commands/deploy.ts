/**
 * `fleetdeploy deploy`: create a deployment of a pushed revision (or push a folder first), and with
 * --watch follow it on the coordinator's event stream to its end; exit 0 only when it succeeded.
 */
import { CreateDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { FileExistsBehavior } from '@aws-sdk/client-codedeploy';
import type { WriteStream } from 'node:tty';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import type { S3Location } from '../bundle/s3-location.js';
import { formatS3Location, parseBundleType, parseS3Location } from '../bundle/s3-location.js';
import { withObjectETag } from '../bundle/object-etag.js';
import { requireApplication, requireDeploymentConfig, requireGroup } from '../names/require-names.js';
import { defaultLocation, pushRevision } from './push.js';
import { watchStream } from '../watch/watch-stream.js';
import { offlineWarnings } from '../deploy/offline-warning.js';

/** RawDeployOptions are the option strings commander collects. */
export interface RawDeployOptions {
  application: string;
  group: string;
  bundle?: string;
  s3Location?: string;
  bundleType?: string;
  config?: string;
  description?: string;
  fileExistsBehavior?: string;
  ignoreApplicationStopFailures?: boolean;
  watch?: boolean;
}

/** DeployOutput is where deploy prints. */
export interface DeployOutput {
  readonly tty?: WriteStream;
  line(text: string): void;
}

const FILE_EXISTS: readonly string[] = ['DISALLOW', 'OVERWRITE', 'RETAIN'];

/** runDeploy creates (and with --watch follows) a deployment; resolves with the exit code. */
export async function runDeploy(aws: AwsContext, opts: RawDeployOptions, out: DeployOutput, signal?: AbortSignal): Promise<number> {
  if ((opts.bundle === undefined) === (opts.s3Location === undefined)) {
    throw new CliError(CliErrorCode.USAGE, 'give either --bundle DIR (pushed first) or --s3-location s3://BUCKET/KEY (pushed already)');
  }
  const fileExists = opts.fileExistsBehavior?.toUpperCase();
  if (fileExists !== undefined && !FILE_EXISTS.includes(fileExists)) throw new CliError(CliErrorCode.USAGE, '--file-exists-behavior must be DISALLOW, OVERWRITE or RETAIN');
  const explicitType = opts.bundleType === undefined ? undefined : parseBundleType(opts.bundleType);

  // Every name is checked before anything is uploaded: a typo leaves no orphan bundle behind.
  await requireApplication(aws, opts.application);
  await requireGroup(aws, opts.application, opts.group);
  if (opts.config !== undefined) await requireDeploymentConfig(aws, opts.config);

  let location: S3Location;
  if (opts.bundle !== undefined) {
    const pushed = await pushRevision(aws, {
      applicationName: opts.application,
      source: opts.bundle,
      location: defaultLocation(opts.application, opts.bundle, explicitType ?? 'zip'),
      createBucket: true,
      ...(opts.description === undefined ? {} : { description: opts.description }),
    });
    location = pushed.location;
    out.line(`Pushed ${opts.bundle} as ${formatS3Location(location)}`);
  } else {
    location = await withObjectETag(aws, parseS3Location(opts.s3Location!, explicitType, 'zip'));
  }

  const created = await callApi('CreateDeployment', aws.endpoint, () =>
    aws.codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: opts.application,
        deploymentGroupName: opts.group,
        ...(opts.config === undefined ? {} : { deploymentConfigName: opts.config }),
        ...(opts.description === undefined ? {} : { description: opts.description }),
        ...(fileExists === undefined ? {} : { fileExistsBehavior: fileExists as FileExistsBehavior }),
        ...(opts.ignoreApplicationStopFailures ? { ignoreApplicationStopFailures: true } : {}),
        revision: {
          revisionType: 'S3',
          s3Location: { bucket: location.bucket, key: location.key, bundleType: location.bundleType, ...(location.eTag === undefined ? {} : { eTag: location.eTag }) },
        },
      }),
    ),
  );
  const deploymentId = created.deploymentId;
  if (deploymentId === undefined) throw new CliError(CliErrorCode.API_FAILED, 'CreateDeployment returned no deploymentId');
  out.line(`Created deployment ${deploymentId} of ${formatS3Location(location)} to ${opts.application}/${opts.group}`);
  (await offlineWarnings(aws, deploymentId)).forEach(out.line);
  if (!opts.watch) {
    out.line(`Follow it with: fleetdeploy status ${deploymentId} --watch`);
    return 0;
  }
  const result = await watchStream(aws, deploymentId, { ...(out.tty === undefined ? {} : { tty: out.tty }), write: out.line }, signal);
  if (!result.finished) return 130;
  return result.status === 'Succeeded' ? 0 : 1;
}
