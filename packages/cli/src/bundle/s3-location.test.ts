import { describe, expect, it } from 'vitest';
import { bundleTypeOfKey, parseBundleType, parseS3Location } from './s3-location.js';

describe('parseS3Location', () => {
  it.each([
    ['s3://revisions/shop/v1.tgz', undefined, { bucket: 'revisions', key: 'shop/v1.tgz', bundleType: 'tgz' }],
    ['s3://revisions/v1.tar.gz', undefined, { bucket: 'revisions', key: 'v1.tar.gz', bundleType: 'tgz' }],
    ['s3://revisions/v1', undefined, { bucket: 'revisions', key: 'v1', bundleType: 'zip' }],
    ['s3://revisions/v1.zip', 'tar', { bucket: 'revisions', key: 'v1.zip', bundleType: 'tar' }],
    ['bucket=revisions,key=v1.bin,bundleType=tgz,eTag=abc', undefined, { bucket: 'revisions', key: 'v1.bin', bundleType: 'tgz', eTag: 'abc' }],
  ] as const)('%s', (value, explicit, expected) => {
    expect(parseS3Location(value, explicit, 'zip')).toEqual(expected);
  });

  it('refuses what names no bucket and key, unknown fields and an unknown type', () => {
    expect(() => parseS3Location('revisions/v1.zip')).toThrow(/names no bucket and key/);
    expect(() => parseS3Location('s3://revisions')).toThrow(/names no bucket and key/);
    expect(() => parseS3Location('bucket=b,key=k,colour=red')).toThrow(/unknown field "colour"/);
    expect(() => parseS3Location('s3://b/k.bin')).toThrow(/cannot tell the bundle type/);
    expect(() => parseBundleType('rar')).toThrow(/zip, tgz or tar/);
    expect(bundleTypeOfKey('A.TAR')).toBe('tar');
  });
});
