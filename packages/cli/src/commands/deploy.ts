/**
 * `fleetdeploy deploy`: create a deployment of a pushed revision (or push a folder first), and with
 * --watch follow it on the coordinator's event stream to its end; exit 0 only when it succeeded.
 */
import { CreateDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { CreateDeploymentCommandInput, FileExistsBehavior } from '@aws-sdk/client-codedeploy';
import fs from 'node:fs';
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
  /** A Lambda (or ECS) AppSpec file, sent inline as an AppSpecContent revision. */
  appspec?: string;
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
  const sources = [opts.bundle, opts.s3Location, opts.appspec].filter((x) => x !== undefined).length;
  if (sources !== 1) {
    throw new CliError(CliErrorCode.USAGE, 'give one of --bundle DIR (pushed first), --s3-location s3://BUCKET/KEY (pushed already) or --appspec FILE (a Lambda AppSpec, sent inline)');
  }
  const fileExists = opts.fileExistsBehavior?.toUpperCase();
  if (fileExists !== undefined && !FILE_EXISTS.includes(fileExists)) throw new CliError(CliErrorCode.USAGE, '--file-exists-behavior must be DISALLOW, OVERWRITE or RETAIN');
  const explicitType = opts.bundleType === undefined ? undefined : parseBundleType(opts.bundleType);

  // Every name is checked before anything is uploaded: a typo leaves no orphan bundle behind.
  await requireApplication(aws, opts.application);
  await requireGroup(aws, opts.application, opts.group);
  if (opts.config !== undefined) await requireDeploymentConfig(aws, opts.config);

  if (opts.appspec !== undefined) return deployAppSpec(aws, opts, opts.appspec, out, signal);

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

  const deploymentId = await createDeployment(aws, opts, {
    ...(fileExists === undefined ? {} : { fileExistsBehavior: fileExists as FileExistsBehavior }),
    ...(opts.ignoreApplicationStopFailures ? { ignoreApplicationStopFailures: true } : {}),
    revision: {
      revisionType: 'S3',
      s3Location: { bucket: location.bucket, key: location.key, bundleType: location.bundleType, ...(location.eTag === undefined ? {} : { eTag: location.eTag }) },
    },
  });
  out.line(`Created deployment ${deploymentId} of ${formatS3Location(location)} to ${opts.application}/${opts.group}`);
  (await offlineWarnings(aws, deploymentId)).forEach(out.line);
  return follow(aws, deploymentId, opts.watch === true, out, signal);
}

/** deployAppSpec creates a deployment of an AppSpec file's text (revisionType AppSpecContent), as a Lambda deployment takes it. */
async function deployAppSpec(aws: AwsContext, opts: RawDeployOptions, file: string, out: DeployOutput, signal?: AbortSignal): Promise<number> {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(CliErrorCode.USAGE, `--appspec: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const deploymentId = await createDeployment(aws, opts, { revision: { revisionType: 'AppSpecContent', appSpecContent: { content } } });
  out.line(`Created deployment ${deploymentId} of ${file} to ${opts.application}/${opts.group}`);
  return follow(aws, deploymentId, opts.watch === true, out, signal);
}

/** createDeployment sends CreateDeployment for the application, group, configuration and description of `opts`, plus `rest`. */
async function createDeployment(aws: AwsContext, opts: RawDeployOptions, rest: Omit<CreateDeploymentCommandInput, 'applicationName' | 'deploymentGroupName'>): Promise<string> {
  const created = await callApi('CreateDeployment', aws.endpoint, () =>
    aws.codedeploy.send(
      new CreateDeploymentCommand({
        applicationName: opts.application,
        deploymentGroupName: opts.group,
        ...(opts.config === undefined ? {} : { deploymentConfigName: opts.config }),
        ...(opts.description === undefined ? {} : { description: opts.description }),
        ...rest,
      }),
    ),
  );
  if (created.deploymentId === undefined) throw new CliError(CliErrorCode.API_FAILED, 'CreateDeployment returned no deploymentId');
  return created.deploymentId;
}

/** follow watches the deployment to its end with --watch, else says how to. */
async function follow(aws: AwsContext, deploymentId: string, watch: boolean, out: DeployOutput, signal?: AbortSignal): Promise<number> {
  if (!watch) {
    out.line(`Follow it with: fleetdeploy status ${deploymentId} --watch`);
    return 0;
  }
  const result = await watchStream(aws, deploymentId, { ...(out.tty === undefined ? {} : { tty: out.tty }), write: out.line }, signal);
  if (!result.finished) return 130;
  return result.status === 'Succeeded' ? 0 : 1;
}
