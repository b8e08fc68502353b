/**
 * `fleetdeploy push`: pack a revision folder, upload it to the coordinator's revision bucket and
 * register it with the application, as `aws deploy push` does; then print the deploy line to use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { RegisterApplicationRevisionCommand } from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { packBundle } from '../bundle/pack-bundle.js';
import type { BundleType, S3Location } from '../bundle/s3-location.js';
import { formatS3Location, formatS3LocationFields } from '../bundle/s3-location.js';
import { now } from '../clock.js';

/** PushRequest says what to push and where to. */
export interface PushRequest {
  readonly applicationName: string;
  readonly source: string;
  readonly location: S3Location;
  readonly description?: string;
  readonly ignoreHidden?: boolean;
  /** Create the bucket when it is missing (deploy --bundle's default bucket); push leaves that to the operator, as aws deploy push does. */
  readonly createBucket?: boolean;
}

/** PushedRevision is the registered revision: its location with the uploaded object's ETag. */
export interface PushedRevision {
  readonly location: S3Location & { eTag: string };
  readonly size: number;
  readonly entries: number;
}

/** DEFAULT_BUCKET is where `deploy --bundle` puts bundles. */
export const DEFAULT_BUCKET = 'fleetdeploy-revisions';

/**
 * defaultLocation is where `deploy --bundle DIR` uploads: `fleetdeploy-revisions/<app>/<folder>-<UTC time>.<type>`,
 * e.g. `fleetdeploy-revisions/shop/web-20240101T120000Z.zip`.
 */
export function defaultLocation(applicationName: string, source: string, bundleType: BundleType): S3Location {
  const stamp = new Date(now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const folder = path.basename(path.resolve(source)).replace(/[^A-Za-z0-9._-]/g, '-') || 'bundle';
  return { bucket: DEFAULT_BUCKET, key: `${applicationName}/${folder}-${stamp}.${bundleType}`, bundleType };
}

/** pushRevision packs, uploads and registers (the caller has checked the application exists); API failures throw explained CliErrors. */
export async function pushRevision(aws: AwsContext, req: PushRequest): Promise<PushedRevision> {
  const packed = await packBundle(req.source, req.location.bundleType, { ignoreHidden: req.ignoreHidden ?? false });
  try {
    const { bucket, key } = req.location;
    if (req.createBucket) {
      await callApi('CreateBucket', aws.endpoint, () => aws.s3.send(new CreateBucketCommand({ Bucket: bucket }))).catch((err: unknown) => {
        if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test((err as Error).message)) throw err;
      });
    }
    const put = await callApi(`PutObject ${formatS3Location(req.location)}`, aws.endpoint, () =>
      aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.createReadStream(packed.file), ContentLength: packed.size })),
    ).catch((err: unknown) => {
      if (/NoSuchBucket/.test((err as Error).message)) (err as Error).message += ` (create it first: aws s3 mb s3://${bucket} --endpoint-url ${aws.endpoint})`;
      throw err;
    });
    const eTag = (put.ETag ?? '').replaceAll('"', '');
    const location = { ...req.location, eTag };
    await callApi('RegisterApplicationRevision', aws.endpoint, () =>
      aws.codedeploy.send(
        new RegisterApplicationRevisionCommand({
          applicationName: req.applicationName,
          ...(req.description === undefined ? {} : { description: req.description }),
          revision: { revisionType: 'S3', s3Location: { bucket, key, bundleType: location.bundleType, eTag } },
        }),
      ),
    );
    return { location, size: packed.size, entries: packed.entries };
  } finally {
    packed.remove();
  }
}

/** pushSummary is what push prints: what was uploaded and the deploy line to run next. */
export function pushSummary(applicationName: string, pushed: PushedRevision): string[] {
  const where = formatS3Location(pushed.location);
  return [
    `Pushed ${where} (${pushed.location.bundleType}, ${pushed.entries} entries, ${pushed.size} bytes, ETag ${pushed.location.eTag}) and registered it with ${applicationName}.`,
    'To deploy this revision, run:',
    `  fleetdeploy deploy --application ${applicationName} --group <deployment-group-name> --s3-location ${formatS3LocationFields(pushed.location)} --watch`,
  ];
}
