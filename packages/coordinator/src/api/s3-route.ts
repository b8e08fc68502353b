/**
 * Path-style S3 request routing, as a pure function: method + raw request target (+ the one header
 * that changes the operation, x-amz-copy-source) → the S3 operation with its parsed parameters.
 * `/` is the service, `/<bucket>` or `/<bucket>/` the bucket, `/<bucket>/<key...>` an object. Keys
 * are taken verbatim after percent-decoding: `a//b` and `a/../b` are keys like any other.
 */
import { S3Error } from './s3-errors.js';

/** ListQuery holds the parameters of ListObjects (v1) and ListObjectsV2. */
export interface ListQuery {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  encodingType?: 'url';
  /** v2 only */
  continuationToken?: string;
  startAfter?: string;
  fetchOwner?: boolean;
  /** v1 only */
  marker?: string;
}

/** UploadsQuery holds the parameters of ListMultipartUploads. */
export interface UploadsQuery {
  prefix: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads: number;
  encodingType?: 'url';
}

/** S3Operation is one routed request. */
export type S3Operation =
  | { op: 'ListBuckets' }
  | { op: 'CreateBucket' | 'HeadBucket' | 'DeleteBucket' | 'GetBucketLocation' | 'DeleteObjects'; bucket: string }
  | { op: 'ListObjects' | 'ListObjectsV2'; bucket: string; query: ListQuery }
  | { op: 'ListMultipartUploads'; bucket: string; query: UploadsQuery }
  | {
      op: 'PutObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'CreateMultipartUpload';
      bucket: string;
      key: string;
    }
  | { op: 'CopyObject'; bucket: string; key: string; source: { bucket: string; key: string } }
  | { op: 'UploadPart'; bucket: string; key: string; uploadId: string; partNumber: number }
  | { op: 'CompleteMultipartUpload' | 'AbortMultipartUpload'; bucket: string; key: string; uploadId: string }
  | { op: 'ListParts'; bucket: string; key: string; uploadId: string; partNumberMarker: number; maxParts: number };

/** S3OperationName is the name of any {@link S3Operation}. */
export type S3OperationName = S3Operation['op'];

/** MAX_KEY_BYTES is S3's longest object key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** MAX_PART_NUMBER is the highest part number a multipart upload may use. */
export const MAX_PART_NUMBER = 10_000;

/**
 * Sub-resources this bucket does not implement; a request naming one gets NotImplemented rather
 * than being mistaken for a plain object or bucket request. Unknown parameters (such as the SDK's
 * `x-id`) are ignored, as S3 does.
 */
const UNSUPPORTED_SUBRESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'logging', 'metadataConfiguration', 'metrics', 'notification', 'object-lock',
  'ownershipControls', 'policy', 'policyStatus', 'publicAccessBlock', 'renameObject', 'replication',
  'requestPayment', 'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'versionId',
  'versioning', 'versions', 'website',
];

/** RequestTarget is a request target split into its decoded path and query. */
export interface RequestTarget {
  /** path is the percent-decoded path, starting with `/`. */
  path: string;
  query: Map<string, string>;
}

/**
 * parseRequestTarget splits a raw request target (origin form `/b/k?x=1`, or absolute form) into the
 * decoded path and query. `+` in the query means a space (form encoding); in the path it is itself.
 * InvalidURI for malformed percent-encoding.
 */
export function parseRequestTarget(raw: string): RequestTarget {
  let target = raw;
  const absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(target);
  if (absolute !== null) target = target.slice(absolute[0].length) || '/';
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
  const query = new Map<string, string>();
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq), true);
    if (!query.has(name)) query.set(name, eq < 0 ? '' : decode(pair.slice(eq + 1), true));
  }
  return { path: decode(rawPath, false), query };
}

/**
 * routeS3Request turns a request into its {@link S3Operation}, or throws the S3Error the request
 * earns: MethodNotAllowed for a method the resource does not take, NotImplemented for a
 * sub-resource this bucket lacks, InvalidArgument for bad parameters, KeyTooLongError.
 */
export function routeS3Request(method: string, rawTarget: string, copySource?: string): S3Operation {
  const { path, query } = parseRequestTarget(rawTarget);
  for (const name of UNSUPPORTED_SUBRESOURCES) {
    if (query.has(name)) throw new S3Error('NotImplemented', `The ${name} sub-resource is not implemented by this bucket.`);
  }
  const slash = path.indexOf('/', 1);
  const bucket = slash < 0 ? path.slice(1) : path.slice(1, slash);
  const key = slash < 0 ? '' : path.slice(slash + 1);
  if (bucket === '') {
    if (method === 'GET') return { op: 'ListBuckets' };
    throw new S3Error('MethodNotAllowed');
  }
  if (key === '') return routeBucket(method, bucket, query);
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');
  return routeObject(method, bucket, key, query, copySource);
}

function routeBucket(method: string, bucket: string, query: Map<string, string>): S3Operation {
  switch (method) {
    case 'PUT':
      return { op: 'CreateBucket', bucket };
    case 'HEAD':
      return { op: 'HeadBucket', bucket };
    case 'DELETE':
      return { op: 'DeleteBucket', bucket };
    case 'POST':
      if (query.has('delete')) return { op: 'DeleteObjects', bucket };
      throw new S3Error('MethodNotAllowed');
    case 'GET':
      if (query.has('location')) return { op: 'GetBucketLocation', bucket };
      if (query.has('uploads')) return { op: 'ListMultipartUploads', bucket, query: uploadsQuery(query) };
      return query.get('list-type') === '2'
        ? { op: 'ListObjectsV2', bucket, query: listQuery(query, 2) }
        : { op: 'ListObjects', bucket, query: listQuery(query, 1) };
    default:
      throw new S3Error('MethodNotAllowed');
  }
}

function routeObject(
  method: string,
  bucket: string,
  key: string,
  query: Map<string, string>,
  copySource: string | undefined,
): S3Operation {
  const uploadId = query.get('uploadId');
  switch (method) {
    case 'PUT':
      if (uploadId !== undefined || query.has('partNumber')) {
        if (uploadId === undefined) throw new S3Error('InvalidArgument', 'uploadId is required with partNumber.');
        if (copySource !== undefined) throw new S3Error('NotImplemented', 'UploadPartCopy is not implemented by this bucket.');
        return { op: 'UploadPart', bucket, key, uploadId, partNumber: partNumber(query.get('partNumber')) };
      }
      if (copySource !== undefined) return { op: 'CopyObject', bucket, key, source: parseCopySource(copySource) };
      return { op: 'PutObject', bucket, key };
    case 'GET':
      if (uploadId !== undefined) {
        return {
          op: 'ListParts',
          bucket,
          key,
          uploadId,
          partNumberMarker: integer(query.get('part-number-marker'), 'part-number-marker', 0, MAX_PART_NUMBER) ?? 0,
          maxParts: integer(query.get('max-parts'), 'max-parts', 0, 2 ** 31 - 1) ?? 1000,
        };
      }
      if (query.has('partNumber')) throw new S3Error('NotImplemented', 'GetObject by part number is not implemented by this bucket.');
      return { op: 'GetObject', bucket, key };
    case 'HEAD':
      if (query.has('partNumber')) throw new S3Error('NotImplemented', 'HeadObject by part number is not implemented by this bucket.');
      return { op: 'HeadObject', bucket, key };
    case 'DELETE':
      return uploadId !== undefined ? { op: 'AbortMultipartUpload', bucket, key, uploadId } : { op: 'DeleteObject', bucket, key };
    case 'POST':
      if (query.has('uploads')) return { op: 'CreateMultipartUpload', bucket, key };
      if (uploadId !== undefined) return { op: 'CompleteMultipartUpload', bucket, key, uploadId };
      throw new S3Error('MethodNotAllowed');
    default:
      throw new S3Error('MethodNotAllowed');
  }
}

function listQuery(query: Map<string, string>, version: 1 | 2): ListQuery {
  const out: ListQuery = {
    prefix: query.get('prefix') ?? '',
    maxKeys: integer(query.get('max-keys'), 'max-keys', 0, 2 ** 31 - 1) ?? 1000,
  };
  const delimiter = query.get('delimiter');
  if (delimiter !== undefined && delimiter !== '') out.delimiter = delimiter;
  const encoding = query.get('encoding-type');
  if (encoding !== undefined) {
    if (encoding !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request');
    out.encodingType = 'url';
  }
  if (version === 2) {
    const token = query.get('continuation-token');
    if (token !== undefined) out.continuationToken = token;
    const startAfter = query.get('start-after');
    if (startAfter !== undefined && startAfter !== '') out.startAfter = startAfter;
    out.fetchOwner = query.get('fetch-owner') === 'true';
  } else {
    const marker = query.get('marker');
    if (marker !== undefined && marker !== '') out.marker = marker;
  }
  return out;
}

function uploadsQuery(query: Map<string, string>): UploadsQuery {
  const out: UploadsQuery = {
    prefix: query.get('prefix') ?? '',
    maxUploads: integer(query.get('max-uploads'), 'max-uploads', 0, 2 ** 31 - 1) ?? 1000,
  };
  const delimiter = query.get('delimiter');
  if (delimiter !== undefined && delimiter !== '') out.delimiter = delimiter;
  const keyMarker = query.get('key-marker');
  if (keyMarker !== undefined && keyMarker !== '') out.keyMarker = keyMarker;
  const uploadIdMarker = query.get('upload-id-marker');
  if (uploadIdMarker !== undefined && uploadIdMarker !== '') out.uploadIdMarker = uploadIdMarker;
  const encoding = query.get('encoding-type');
  if (encoding !== undefined) {
    if (encoding !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request');
    out.encodingType = 'url';
  }
  return out;
}

function partNumber(raw: string | undefined): number {
  const n = integer(raw, 'partNumber', 1, MAX_PART_NUMBER);
  if (n === undefined) throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
  return n;
}

function integer(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= min && n <= max)) {
    throw new S3Error(
      'InvalidArgument',
      name === 'partNumber' ? 'Part number must be an integer between 1 and 10000, inclusive' : `${name} must be an integer between ${min} and ${max}`,
    );
  }
  return n;
}

/**
 * parseCopySource reads x-amz-copy-source (`bucket/key` or `/bucket/key`, percent-encoded, an
 * optional `?versionId=null`). InvalidArgument when it names no bucket or key; NotImplemented for a
 * real version id.
 */
export function parseCopySource(header: string): { bucket: string; key: string } {
  const q = header.indexOf('?');
  const version = q < 0 ? undefined : /(?:^|&)versionId=([^&]*)/.exec(header.slice(q + 1))?.[1];
  if (version !== undefined && version !== 'null') throw new S3Error('NotImplemented', 'Copying an object version is not implemented by this bucket.');
  const source = decode(q < 0 ? header : header.slice(0, q), false).replace(/^\//, '');
  const slash = source.indexOf('/');
  if (slash <= 0 || slash === source.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  }
  return { bucket: source.slice(0, slash), key: source.slice(slash + 1) };
}

function decode(raw: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? raw.replace(/\+/g, ' ') : raw);
  } catch (err) {
    if (err instanceof URIError) throw new S3Error('InvalidURI', undefined, { cause: err });
    throw err;
  }
}
