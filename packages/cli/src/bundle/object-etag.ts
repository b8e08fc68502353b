/**
 * A revision named without its ETag (`--s3-location s3://bucket/key`) is the object as it is now:
 * reading its ETag first makes the deployment name the same revision `push` registered, instead of
 * registering the location a second time without one.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import type { S3Location } from './s3-location.js';
import { formatS3Location } from './s3-location.js';

/** MISSING_OBJECT are the S3 error names of a HEAD on a key or bucket that does not exist. */
const MISSING_OBJECT = new Set(['NotFound', 'NoSuchKey', 'NoSuchBucket']);

/** withObjectETag is `location` with the stored object's ETag, looked up when it has none. */
export async function withObjectETag(aws: AwsContext, location: S3Location): Promise<S3Location> {
  if (location.eTag !== undefined) return location;
  const where = formatS3Location(location);
  const head = await callApi(`HeadObject ${where}`, aws.endpoint, () => aws.s3.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }))).catch((err: unknown) => {
    const name = ((err as { cause?: { name?: string } }).cause ?? {}).name ?? '';
    if (MISSING_OBJECT.has(name)) throw new CliError(CliErrorCode.API_FAILED, `${where} is not in the coordinator's bucket: push it first (fleetdeploy push), or deploy a folder with --bundle`);
    throw err;
  });
  const eTag = (head.ETag ?? '').replaceAll('"', '');
  return eTag === '' ? location : { ...location, eTag };
}
