import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';
import { noteRevisionUsed } from './revisions.js';
import { requireGroup } from './deployment-groups.js';

const s3 = (key: string, bucket = 'bucket-1') => ({ revisionType: 'S3', s3Location: { bucket, key, bundleType: 'zip' } });

describe('application revision operations', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
    await h.ok('CreateApplication', { applicationName: 'app' });
  });
  afterEach(async () => {
    await h.close();
  });

  const register = (revision: unknown, description?: string) => h.ok('RegisterApplicationRevision', { applicationName: 'app', revision, description });

  describe('RegisterApplicationRevision and GetApplicationRevision', () => {
    it('registers a revision and shows it; registering it again keeps the time and takes the new description', async () => {
      await register(s3('v1.zip'), 'first');
      const registered = h.clock.now() / 1000;
      h.clock.advance(10_000);
      await register(s3('v1.zip'), 'second');
      expect(await h.ok('GetApplicationRevision', { applicationName: 'app', revision: s3('v1.zip') })).toEqual({
        applicationName: 'app',
        revision: s3('v1.zip'),
        revisionInfo: { description: 'second', deploymentGroups: [], registerTime: registered },
      });
      expect(h.store.listRevisions('app')).toHaveLength(1);
    });

    it('accepts a 256-character description and refuses a 257-character one', async () => {
      await register(s3('a.zip'), 'd'.repeat(256));
      expect((await h.refused('RegisterApplicationRevision', { applicationName: 'app', revision: s3('b.zip'), description: 'd'.repeat(257) })).type).toBe('DescriptionTooLongException');
      expect(h.store.listRevisions('app')).toHaveLength(1);
    });

    it('refuses a missing or invalid revision and an unknown application', async () => {
      expect((await h.refused('RegisterApplicationRevision', { applicationName: 'app' })).type).toBe('RevisionRequiredException');
      expect((await h.refused('RegisterApplicationRevision', { applicationName: 'app', revision: { revisionType: 'S3', s3Location: { bucket: 'bucket-1', key: 'k' } } })).type).toBe('InvalidRevisionException');
      expect((await h.refused('RegisterApplicationRevision', { applicationName: 'nope', revision: s3('a.zip') })).type).toBe('ApplicationDoesNotExistException');
      expect((await h.refused('RegisterApplicationRevision', { revision: s3('a.zip') })).type).toBe('ApplicationNameRequiredException');
    });

    it('GetApplicationRevision refuses an unregistered revision', async () => {
      expect((await h.refused('GetApplicationRevision', { applicationName: 'app', revision: s3('nope.zip') })).type).toBe('RevisionDoesNotExistException');
      expect((await h.refused('GetApplicationRevision', { applicationName: 'nope', revision: s3('nope.zip') })).type).toBe('ApplicationDoesNotExistException');
    });
  });

  describe('BatchGetApplicationRevisions', () => {
    it('returns the registered ones and names the others in errorMessage', async () => {
      await register(s3('a.zip'), 'A');
      const out = await h.ok('BatchGetApplicationRevisions', { applicationName: 'app', revisions: [s3('a.zip'), s3('x.zip')] });
      expect(out.applicationName).toBe('app');
      expect(out.revisions).toEqual([{ revisionLocation: s3('a.zip'), genericRevisionInfo: expect.objectContaining({ description: 'A' }) }]);
      expect(out.errorMessage).toContain('x.zip');
    });

    it('refuses more than 25, none, and an invalid one', async () => {
      const many = Array.from({ length: 26 }, (_, i) => s3(`${i}.zip`));
      expect((await h.refused('BatchGetApplicationRevisions', { applicationName: 'app', revisions: many })).type).toBe('BatchLimitExceededException');
      expect((await h.refused('BatchGetApplicationRevisions', { applicationName: 'app', revisions: [] })).type).toBe('RevisionRequiredException');
      const bad = await h.refused('BatchGetApplicationRevisions', { applicationName: 'app', revisions: [s3('a.zip'), { revisionType: 'S3' }] });
      expect(bad).toEqual({ type: 'InvalidRevisionException', message: expect.stringContaining('revisions[1].s3Location') });
    });
  });

  describe('ListApplicationRevisions', () => {
    beforeEach(async () => {
      await register(s3('web/v1.zip'));
      h.clock.advance(1000);
      await register(s3('web/v2.zip'));
      h.clock.advance(1000);
      await register(s3('api/v1.zip', 'other-bucket'));
      h.clock.advance(1000);
      await register({ revisionType: 'GitHub', gitHubLocation: { repository: 'acme/web', commitId: 'abcdef1' } });
      await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: 'arn:aws:iam::1:role/r' });
      h.clock.advance(1000);
      await h.ctx.store.transaction((tx) => noteRevisionUsed(h.ctx, tx, 'app', s3('web/v2.zip') as never, 'g'));
      h.clock.advance(1000);
      await h.ctx.store.transaction((tx) => noteRevisionUsed(h.ctx, tx, 'app', s3('web/v1.zip') as never, 'g'));
      h.store.putGroup({ ...(await requireGroup(h.ctx.store, 'app', 'g')), targetRevision: s3('web/v1.zip') as never });
    });
    const keys = async (input: Record<string, unknown> = {}) =>
      (await h.ok('ListApplicationRevisions', { applicationName: 'app', ...input })).revisions.map((r: { s3Location?: { key: string }; revisionType: string }) => r.s3Location?.key ?? r.revisionType);

    it('lists in registration order, and sorts by any time either way', async () => {
      expect(await keys()).toEqual(['web/v1.zip', 'web/v2.zip', 'api/v1.zip', 'GitHub']);
      expect(await keys({ sortBy: 'registerTime', sortOrder: 'descending' })).toEqual(['GitHub', 'api/v1.zip', 'web/v2.zip', 'web/v1.zip']);
      expect((await keys({ sortBy: 'firstUsedTime', sortOrder: 'descending' })).slice(0, 2)).toEqual(['web/v1.zip', 'web/v2.zip']);
      expect((await keys({ sortBy: 'lastUsedTime' })).slice(2)).toEqual(['web/v2.zip', 'web/v1.zip']);
    });

    it('filters by bucket and key prefix, and by whether a group targets the revision', async () => {
      expect(await keys({ s3Bucket: 'bucket-1' })).toEqual(['web/v1.zip', 'web/v2.zip']);
      expect(await keys({ s3Bucket: 'bucket-1', s3KeyPrefix: 'web/v2' })).toEqual(['web/v2.zip']);
      expect(await keys({ deployed: 'include' })).toEqual(['web/v1.zip']);
      expect(await keys({ deployed: 'exclude' })).toEqual(['web/v2.zip', 'api/v1.zip', 'GitHub']);
      expect(await keys({ deployed: 'ignore' })).toHaveLength(4);
    });

    it('records use: first and last used times and the groups', async () => {
      const info = (await h.ok('GetApplicationRevision', { applicationName: 'app', revision: s3('web/v2.zip') })).revisionInfo;
      expect(info.deploymentGroups).toEqual(['g']);
      expect(info.firstUsedTime).toBe(info.lastUsedTime);
      expect(info.firstUsedTime).toBeGreaterThan(info.registerTime);
    });

    it('pages with nextToken', async () => {
      for (let i = 0; i < 100; i++) h.store.putRevision({ applicationName: 'app', revisionKey: `k${i}`, revisionLocation: s3(`bulk/${i}.zip`) as never, registerTime: h.clock.now() + i, deploymentGroups: [] });
      const first = await h.ok('ListApplicationRevisions', { applicationName: 'app' });
      expect(first.revisions).toHaveLength(100);
      expect((await h.ok('ListApplicationRevisions', { applicationName: 'app', nextToken: first.nextToken })).revisions).toHaveLength(4);
    });

    it.each([
      [{ sortBy: 'size' }, 'InvalidSortByException'],
      [{ sortOrder: 'up' }, 'InvalidSortOrderException'],
      [{ deployed: 'maybe' }, 'InvalidDeployedStateFilterException'],
      [{ s3Bucket: 'Not_A_Bucket' }, 'InvalidBucketNameFilterException'],
      [{ s3KeyPrefix: 'web/' }, 'BucketNameFilterRequiredException'],
      [{ s3Bucket: 'bucket-1', s3KeyPrefix: 'k'.repeat(1025) }, 'InvalidKeyPrefixFilterException'],
      [{ nextToken: 'abc' }, 'InvalidNextTokenException'],
      [{ applicationName: 'nope' }, 'ApplicationDoesNotExistException'],
    ])('refuses %j with %s', async (input, type) => {
      expect((await h.refused('ListApplicationRevisions', { applicationName: 'app', ...input })).type).toBe(type);
    });
  });
});
