/**
 * S3Location is where a revision bundle lives in the coordinator's bucket, parsed from what people
 * type: `s3://bucket/path/app.zip`, or the AWS CLI's `bucket=B,key=K,bundleType=zip[,eTag=E]`.
 */
import { CliError, CliErrorCode } from '../cli-error.js';

/** BUNDLE_TYPES are the archive types a Server deployment can install. */
export const BUNDLE_TYPES = ['zip', 'tgz', 'tar'] as const;
/** BundleType is one of {@link BUNDLE_TYPES}. */
export type BundleType = (typeof BUNDLE_TYPES)[number];

/** S3Location is a parsed bundle location. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
  readonly bundleType: BundleType;
  readonly eTag?: string;
}

/** parseBundleType checks a `--bundle-type` value. */
export function parseBundleType(value: string): BundleType {
  const v = value.toLowerCase();
  if ((BUNDLE_TYPES as readonly string[]).includes(v)) return v as BundleType;
  throw new CliError(CliErrorCode.USAGE, `--bundle-type must be zip, tgz or tar, not ${JSON.stringify(value)}`);
}

/** bundleTypeOfKey guesses the type from the key's extension: .zip, .tgz/.tar.gz, .tar. */
export function bundleTypeOfKey(key: string): BundleType | undefined {
  const k = key.toLowerCase();
  if (k.endsWith('.zip')) return 'zip';
  if (k.endsWith('.tgz') || k.endsWith('.tar.gz')) return 'tgz';
  if (k.endsWith('.tar')) return 'tar';
  return undefined;
}

/**
 * parseS3Location reads `--s3-location`. The bundle type comes from `bundleType=` or `explicitType`
 * (--bundle-type), else from the key's extension; without any, zip when `defaultType` is given.
 * Examples: `s3://revisions/shop/v1.tgz` → {bucket: revisions, key: shop/v1.tgz, bundleType: tgz};
 * `bucket=revisions,key=v1.zip,bundleType=zip,eTag=abc` → the same fields as given.
 */
export function parseS3Location(value: string, explicitType?: BundleType, defaultType?: BundleType): S3Location {
  let bucket: string | undefined;
  let key: string | undefined;
  let bundleType: BundleType | undefined = explicitType;
  let eTag: string | undefined;
  if (value.startsWith('s3://')) {
    const rest = value.slice('s3://'.length);
    const slash = rest.indexOf('/');
    bucket = slash < 0 ? rest : rest.slice(0, slash);
    key = slash < 0 ? '' : rest.slice(slash + 1);
  } else if (value.includes('=')) {
    for (const part of value.split(',')) {
      const eq = part.indexOf('=');
      const name = part.slice(0, eq).trim();
      const v = part.slice(eq + 1).trim();
      if (name === 'bucket') bucket = v;
      else if (name === 'key') key = v;
      else if (name === 'bundleType') bundleType ??= parseBundleType(v);
      else if (name === 'eTag') eTag = v;
      else if (name !== 'version') throw new CliError(CliErrorCode.USAGE, `--s3-location: unknown field ${JSON.stringify(name)} (use bucket=,key=,bundleType=,eTag=)`);
    }
  }
  if (!bucket || !key) throw new CliError(CliErrorCode.USAGE, `--s3-location ${JSON.stringify(value)} names no bucket and key: use s3://BUCKET/KEY`);
  bundleType ??= bundleTypeOfKey(key) ?? defaultType;
  if (bundleType === undefined) throw new CliError(CliErrorCode.USAGE, `cannot tell the bundle type of ${key}: add --bundle-type zip|tgz|tar`);
  return { bucket, key, bundleType, ...(eTag === undefined ? {} : { eTag }) };
}

/** formatS3Location is the `s3://bucket/key` form. */
export function formatS3Location(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

/**
 * formatS3LocationFields is the `bucket=B,key=K,bundleType=T[,eTag=E]` form, which names the exact
 * object (its ETag), as `aws deploy push` suggests it and --s3-location reads it back.
 */
export function formatS3LocationFields(location: S3Location): string {
  return `bucket=${location.bucket},key=${location.key},bundleType=${location.bundleType}${location.eTag === undefined ? '' : `,eTag=${location.eTag}`}`;
}
