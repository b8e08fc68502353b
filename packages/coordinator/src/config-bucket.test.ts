import { describe, expect, it } from 'vitest';
import { bucketQuota, ConfigError, parseByteSize, resolveConfig } from './config.js';

describe('bucket settings', () => {
  it('default to no quota and a 24 h upload expiry', () => {
    const c = resolveConfig(undefined, '', {});
    expect(c.bucketQuotaBytes).toBeUndefined();
    expect(bucketQuota(c, 'any')).toBeUndefined();
    expect(c.bucketUploadExpirySeconds).toBe(86_400);
  });

  it('read one quota for every bucket, or quotas by bucket name, in bytes or KiB/MiB/GiB/TiB', () => {
    const one = resolveConfig('bucket_quota_bytes: 10GiB\nbucket_upload_expiry_seconds: 7200\n', 'c.yml', {});
    expect(bucketQuota(one, 'releases')).toBe(10 * 1024 ** 3);
    expect(one.bucketUploadExpirySeconds).toBe(7200);
    const byName = resolveConfig('bucket_quota_bytes:\n  releases: 1048576\n  nightly: 1.5 MiB\n', 'c.yml', {});
    expect(bucketQuota(byName, 'releases')).toBe(1_048_576);
    expect(bucketQuota(byName, 'nightly')).toBe(1_572_864);
    expect(bucketQuota(byName, 'other')).toBeUndefined();
    expect(bucketQuota(byName, 'constructor')).toBeUndefined();
    expect(parseByteSize(512)).toBe(512);
    expect(parseByteSize('2KiB')).toBe(2048);
  });

  it('refuse a size that is not one, naming the file, the key and the bucket', () => {
    expect(() => resolveConfig('bucket_quota_bytes: 10GB\n', 'c.yml', {})).toThrow(ConfigError);
    expect(() => resolveConfig('bucket_quota_bytes: 10GB\n', 'c.yml', {})).toThrow(/c\.yml: bucket_quota_bytes: expected a size in bytes \(such as 10737418240 or 10GiB\) or a map of bucket name to size, got "10GB"/);
    expect(() => resolveConfig('bucket_quota_bytes: 0\n', 'c.yml', {})).toThrow(/bucket_quota_bytes: expected a size/);
    expect(() => resolveConfig('bucket_quota_bytes:\n  releases: -1\n', 'c.yml', {})).toThrow(/c\.yml: bucket_quota_bytes: releases: expected a size in bytes \(such as 10737418240 or 10GiB\), got -1/);
    expect(() => resolveConfig('bucket_upload_expiry_seconds: 0\n', 'c.yml', {})).toThrow(/bucket_upload_expiry_seconds: expected a positive number/);
    expect(parseByteSize('1.5')).toBe(1);
    expect(parseByteSize('0.1')).toBeUndefined();
    expect(parseByteSize(1.5)).toBeUndefined();
    expect(parseByteSize(true)).toBeUndefined();
  });
});
