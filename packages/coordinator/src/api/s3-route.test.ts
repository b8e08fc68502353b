import { describe, expect, it } from 'vitest';
import { parseCopySource, parseRequestTarget, routeS3Request } from './s3-route.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('routeS3Request', () => {
  it.each([
    ['GET', '/', { op: 'ListBuckets' }],
    ['PUT', '/b', { op: 'CreateBucket', bucket: 'b' }],
    ['HEAD', '/b/', { op: 'HeadBucket', bucket: 'b' }],
    ['DELETE', '/b', { op: 'DeleteBucket', bucket: 'b' }],
    ['GET', '/b?location', { op: 'GetBucketLocation', bucket: 'b' }],
    ['GET', '/b?uploads', { op: 'ListMultipartUploads', bucket: 'b', query: { prefix: '', maxUploads: 1000 } }],
    [
      'GET',
      '/b?uploads&prefix=a%2F&delimiter=%2F&key-marker=a%2Fk&upload-id-marker=u1&max-uploads=2&encoding-type=url',
      { op: 'ListMultipartUploads', bucket: 'b', query: { prefix: 'a/', delimiter: '/', keyMarker: 'a/k', uploadIdMarker: 'u1', maxUploads: 2, encodingType: 'url' } },
    ],
    ['POST', '/b?delete', { op: 'DeleteObjects', bucket: 'b' }],
    ['PUT', '/b/k/x.zip?x-id=PutObject', { op: 'PutObject', bucket: 'b', key: 'k/x.zip' }],
    ['GET', '/b/k', { op: 'GetObject', bucket: 'b', key: 'k' }],
    ['HEAD', '/b/k', { op: 'HeadObject', bucket: 'b', key: 'k' }],
    ['DELETE', '/b/k', { op: 'DeleteObject', bucket: 'b', key: 'k' }],
    ['POST', '/b/k?uploads', { op: 'CreateMultipartUpload', bucket: 'b', key: 'k' }],
    ['PUT', '/b/k?partNumber=3&uploadId=u', { op: 'UploadPart', bucket: 'b', key: 'k', uploadId: 'u', partNumber: 3 }],
    ['POST', '/b/k?uploadId=u', { op: 'CompleteMultipartUpload', bucket: 'b', key: 'k', uploadId: 'u' }],
    ['DELETE', '/b/k?uploadId=u', { op: 'AbortMultipartUpload', bucket: 'b', key: 'k', uploadId: 'u' }],
    ['GET', '/b/k?uploadId=u&max-parts=5', { op: 'ListParts', bucket: 'b', key: 'k', uploadId: 'u', partNumberMarker: 0, maxParts: 5 }],
  ] as const)('%s %s', (method, target, expected) => {
    expect(routeS3Request(method, target)).toEqual(expected);
  });

  it('reads ListObjectsV2 and ListObjects parameters', () => {
    expect(routeS3Request('GET', '/b?list-type=2&prefix=a%2F&delimiter=%2F&encoding-type=url&max-keys=7&continuation-token=t&start-after=s&fetch-owner=true')).toEqual({
      op: 'ListObjectsV2',
      bucket: 'b',
      query: { prefix: 'a/', delimiter: '/', encodingType: 'url', maxKeys: 7, continuationToken: 't', startAfter: 's', fetchOwner: true },
    });
    expect(routeS3Request('GET', '/b?marker=m')).toEqual({ op: 'ListObjects', bucket: 'b', query: { prefix: '', maxKeys: 1000, marker: 'm' } });
  });

  it('takes the copy source from x-amz-copy-source', () => {
    expect(routeS3Request('PUT', '/b/k', '/src/dir%2Fa%20b')).toEqual({ op: 'CopyObject', bucket: 'b', key: 'k', source: { bucket: 'src', key: 'dir/a b' } });
  });

  it('accepts the absolute form and keeps keys verbatim', () => {
    expect(routeS3Request('GET', 'http://127.0.0.1:9/b/a/../c//d')).toEqual({ op: 'GetObject', bucket: 'b', key: 'a/../c//d' });
  });

  it.each([
    ['PUT', '/', 'MethodNotAllowed'],
    ['POST', '/b', 'MethodNotAllowed'],
    ['POST', '/b/k', 'MethodNotAllowed'],
    ['OPTIONS', '/b/k', 'MethodNotAllowed'],
    ['PATCH', '/b', 'MethodNotAllowed'],
    ['GET', '/b?versioning', 'NotImplemented'],
    ['GET', '/b?uploads&max-uploads=-1', 'InvalidArgument'],
    ['GET', '/b?uploads&encoding-type=base64', 'InvalidArgument'],
    ['GET', '/b/k?partNumber=1', 'NotImplemented'],
    ['HEAD', '/b/k?partNumber=1', 'NotImplemented'],
    ['PUT', '/b/k?tagging', 'NotImplemented'],
    ['PUT', '/b/k?partNumber=1', 'InvalidArgument'],
    ['PUT', '/b/k?partNumber=x&uploadId=u', 'InvalidArgument'],
    ['PUT', '/b/k?uploadId=u', 'InvalidArgument'],
    ['GET', '/b?max-keys=abc', 'InvalidArgument'],
    ['GET', '/b?encoding-type=xml', 'InvalidArgument'],
    ['GET', '/b/k?uploadId=u&part-number-marker=-1', 'InvalidArgument'],
    ['GET', '/b/%ZZ', 'InvalidURI'],
    ['GET', 'b/k', 'InvalidURI'],
    ['GET', `/b/${'é'.repeat(513)}`, 'KeyTooLongError'],
  ])('%s %s → %s', (method, target, expected) => {
    expect(code(() => routeS3Request(method, target))).toBe(expected);
  });

  it('refuses UploadPartCopy', () => {
    expect(code(() => routeS3Request('PUT', '/b/k?partNumber=1&uploadId=u', 'src/k'))).toBe('NotImplemented');
  });
});

describe('parseRequestTarget', () => {
  it('decodes + as a space in the query only, and keeps the first of repeated parameters', () => {
    const t = parseRequestTarget('/b/a+b?prefix=a+b%2B&prefix=second&flag');
    expect(t.path).toBe('/b/a+b');
    expect([...t.query]).toEqual([['prefix', 'a b+'], ['flag', '']]);
  });
});

describe('parseCopySource', () => {
  it('accepts versionId=null and refuses other versions or a missing key', () => {
    expect(parseCopySource('b/k?versionId=null')).toEqual({ bucket: 'b', key: 'k' });
    expect(code(() => parseCopySource('b/k?versionId=3'))).toBe('NotImplemented');
    expect(code(() => parseCopySource('bucket-only'))).toBe('InvalidArgument');
    expect(code(() => parseCopySource('/b/'))).toBe('InvalidArgument');
  });
});
