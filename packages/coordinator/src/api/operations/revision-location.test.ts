import { describe, expect, it } from 'vitest';
import { genericRevisionInfo, parseRevisionLocation, revisionInfoShape, revisionKey } from './revision-location.js';

const s3 = (over: Record<string, unknown> = {}) => ({ revisionType: 'S3', s3Location: { bucket: 'my-bucket', key: 'app/v1.zip', bundleType: 'zip', ...over } });

describe('parseRevisionLocation', () => {
  it('reads S3, GitHub, String and AppSpecContent revisions, keeping only the matching member', () => {
    expect(parseRevisionLocation({ ...s3({ version: 'v1', eTag: 'e1' }), gitHubLocation: { repository: 'x/y', commitId: 'abc1234' } })).toEqual({
      revisionType: 'S3',
      s3Location: { bucket: 'my-bucket', key: 'app/v1.zip', bundleType: 'zip', version: 'v1', eTag: 'e1' },
    });
    expect(parseRevisionLocation({ revisionType: 'GitHub', gitHubLocation: { repository: 'acme/web', commitId: 'ABCDEF1234' } })).toEqual({
      revisionType: 'GitHub',
      gitHubLocation: { repository: 'acme/web', commitId: 'ABCDEF1234' },
    });
    expect(parseRevisionLocation({ revisionType: 'String', string: { content: 'version: 0.0' } })).toEqual({ revisionType: 'String', string: { content: 'version: 0.0' } });
    expect(parseRevisionLocation({ revisionType: 'AppSpecContent', appSpecContent: { content: 'x', sha256: 'A'.repeat(64) } })).toEqual({
      revisionType: 'AppSpecContent',
      appSpecContent: { content: 'x', sha256: 'a'.repeat(64) },
    });
  });

  it('refuses an absent revision with RevisionRequiredException', () => {
    expect(() => parseRevisionLocation(undefined)).toThrow(expect.objectContaining({ type: 'RevisionRequiredException', message: 'revision is required' }));
  });

  it.each([
    [{}, 'revision.revisionType is required'],
    [{ revisionType: 'FTP' }, 'revision.revisionType must be'],
    [{ revisionType: 'S3' }, 'revision.s3Location is required'],
    [s3({ bucket: undefined }), 'revision.s3Location.bucket is required'],
    [s3({ bucket: 'Bad_Bucket' }), 'revision.s3Location.bucket "Bad_Bucket" is not a valid bucket name'],
    [s3({ key: '' }), 'revision.s3Location.key is required'],
    [s3({ bundleType: 'rar' }), 'revision.s3Location.bundleType must be tar, tgz, zip, YAML or JSON'],
    [s3({ version: 7 }), 'revision.s3Location.version must be a string'],
    [{ revisionType: 'GitHub', gitHubLocation: { repository: 'noslash', commitId: 'abc1234' } }, 'revision.gitHubLocation.repository must be "account/repository"'],
    [{ revisionType: 'GitHub', gitHubLocation: { repository: 'a/b', commitId: 'main' } }, 'revision.gitHubLocation.commitId must be a commit SHA'],
    [{ revisionType: 'String', string: {} }, 'revision.string.content is required'],
    [{ revisionType: 'AppSpecContent', appSpecContent: { content: 'x', sha256: 'nothex' } }, 'revision.appSpecContent.sha256 must be 64 hex digits'],
    ['s3://bucket/key', 'revision must be an object'],
  ])('refuses %j with InvalidRevisionException naming the field', (value, message) => {
    expect(() => parseRevisionLocation(value)).toThrow(expect.objectContaining({ type: 'InvalidRevisionException', message: expect.stringContaining(message) }));
  });

  it('names the field it was given', () => {
    expect(() => parseRevisionLocation({ revisionType: 'S3' }, 'revisions[2]')).toThrow(expect.objectContaining({ message: expect.stringContaining('revisions[2].s3Location') }));
  });
});

describe('revisionKey', () => {
  it('is the same for the same revision and differs when version, eTag or bundle type differ', () => {
    const a = revisionKey(parseRevisionLocation(s3()));
    expect(a).toBe('s3://my-bucket/app/v1.zip#zip');
    expect(revisionKey(parseRevisionLocation({ ...s3(), gitHubLocation: { repository: 'x/y', commitId: 'abc1234' } }))).toBe(a);
    expect(revisionKey(parseRevisionLocation(s3({ version: 'v 1', eTag: 'e' })))).toBe('s3://my-bucket/app/v1.zip?versionId=v%201&etag=e#zip');
    expect(revisionKey(parseRevisionLocation(s3({ bundleType: 'tgz' })))).not.toBe(a);
  });

  it('names GitHub commits case-insensitively and inline content by its digest', () => {
    expect(revisionKey({ revisionType: 'GitHub', gitHubLocation: { repository: 'a/b', commitId: 'ABCDEF1' } })).toBe('github://a/b@abcdef1');
    const k = revisionKey({ revisionType: 'AppSpecContent', appSpecContent: { content: 'abc' } });
    expect(k).toBe('appspec:sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(revisionKey({ revisionType: 'String', string: { content: 'abc' } })).toBe(k.replace('appspec', 'string'));
  });
});

describe('revisionInfoShape', () => {
  it('gives CodeDeploy\'s RevisionInfo with times in epoch seconds', () => {
    const record = { applicationName: 'a', revisionKey: 'k', revisionLocation: parseRevisionLocation(s3()), registerTime: 2000, firstUsedTime: 3000, deploymentGroups: ['g'], description: 'd' };
    expect(revisionInfoShape(record)).toEqual({
      revisionLocation: record.revisionLocation,
      genericRevisionInfo: { description: 'd', deploymentGroups: ['g'], firstUsedTime: 3, lastUsedTime: undefined, registerTime: 2 },
    });
    expect(genericRevisionInfo(record).registerTime).toBe(2);
  });
});
