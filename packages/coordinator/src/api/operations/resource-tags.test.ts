import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';

const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';
const PREFIX = 'arn:aws:codedeploy:us-east-1:000000000000';
const APP_ARN = `${PREFIX}:application:app`;
const GROUP_ARN = `${PREFIX}:deploymentgroup:app/g`;

describe('resource tags', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
    await h.ok('CreateApplication', { applicationName: 'app', tags: [{ Key: 'team', Value: 'web' }] });
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'g', serviceRoleArn: ROLE, tags: [{ Key: 'env', Value: 'prod' }, { Key: 'empty' }] });
  });
  afterEach(() => h.close());

  const tagsOf = async (arn: string) => (await h.ok('ListTagsForResource', { ResourceArn: arn })).Tags;

  it('keeps the tags CreateApplication and CreateDeploymentGroup carry', async () => {
    expect(await tagsOf(APP_ARN)).toEqual([{ Key: 'team', Value: 'web' }]);
    expect(await tagsOf(GROUP_ARN)).toEqual([{ Key: 'env', Value: 'prod' }, { Key: 'empty', Value: '' }]);
  });

  it('TagResource adds and overwrites in place, UntagResource removes by key, unknown keys are ignored', async () => {
    expect(await h.ok('TagResource', { ResourceArn: APP_ARN, Tags: [{ Key: 'cost', Value: '42' }, { Key: 'team', Value: 'api' }] })).toEqual({});
    expect(await tagsOf(APP_ARN)).toEqual([{ Key: 'team', Value: 'api' }, { Key: 'cost', Value: '42' }]);
    expect(await h.ok('UntagResource', { ResourceArn: APP_ARN, TagKeys: ['team', 'never-there'] })).toEqual({});
    expect(await tagsOf(APP_ARN)).toEqual([{ Key: 'cost', Value: '42' }]);
    expect(await tagsOf(GROUP_ARN)).toHaveLength(2); // the group's own tags are untouched
  });

  it('tags follow a rename and go with a delete', async () => {
    await h.ok('UpdateApplication', { applicationName: 'app', newApplicationName: 'app2' });
    await h.ok('UpdateDeploymentGroup', { applicationName: 'app2', currentDeploymentGroupName: 'g', newDeploymentGroupName: 'g2' });
    expect(await tagsOf(`${PREFIX}:application:app2`)).toEqual([{ Key: 'team', Value: 'web' }]);
    expect(await tagsOf(`${PREFIX}:deploymentgroup:app2/g2`)).toHaveLength(2);
    const groupId = h.store.getGroup('app2', 'g2')!.deploymentGroupId;
    const appId = h.store.getApplication('app2')!.applicationId;
    await h.ok('DeleteDeploymentGroup', { applicationName: 'app2', deploymentGroupName: 'g2' });
    expect(h.store.getResourceTags(groupId)).toEqual([]);
    await h.ok('DeleteApplication', { applicationName: 'app2' });
    expect(h.store.getResourceTags(appId)).toEqual([]);
    await h.ok('CreateApplication', { applicationName: 'app2' });
    expect(await tagsOf(`${PREFIX}:application:app2`)).toEqual([]);
  });

  it('DeleteApplication drops its groups\' tags too', async () => {
    const groupId = h.store.getGroup('app', 'g')!.deploymentGroupId;
    await h.ok('DeleteApplication', { applicationName: 'app' });
    expect(h.store.getResourceTags(groupId)).toEqual([]);
  });

  it('ListTagsForResource pages with NextToken', async () => {
    await h.ok('TagResource', { ResourceArn: APP_ARN, Tags: Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) });
    const first = await h.ok('ListTagsForResource', { ResourceArn: APP_ARN });
    expect(first.Tags).toHaveLength(50);
    expect(first.NextToken).toBeUndefined();
    expect((await h.refused('ListTagsForResource', { ResourceArn: APP_ARN, NextToken: 'abc' })).type).toBe('InvalidNextTokenException');
  });

  it.each([
    ['TagResource', { Tags: [{ Key: 'a', Value: 'b' }] }, 'ResourceArnRequiredException'],
    ['TagResource', { ResourceArn: APP_ARN }, 'TagRequiredException'],
    ['TagResource', { ResourceArn: APP_ARN, Tags: [] }, 'TagRequiredException'],
    ['TagResource', { ResourceArn: APP_ARN, Tags: [{ Value: 'no key' }] }, 'InvalidTagsToAddException'],
    ['TagResource', { ResourceArn: APP_ARN, Tags: [{ Key: 'aws:reserved', Value: 'x' }] }, 'InvalidTagsToAddException'],
    ['TagResource', { ResourceArn: APP_ARN, Tags: [{ Key: 'k'.repeat(129), Value: 'x' }] }, 'InvalidTagsToAddException'],
    ['TagResource', { ResourceArn: APP_ARN, Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `n${i}`, Value: 'v' })) }, 'InvalidTagsToAddException'],
    ['TagResource', { ResourceArn: 'not-an-arn', Tags: [{ Key: 'a', Value: 'b' }] }, 'InvalidArnException'],
    ['TagResource', { ResourceArn: 'arn:aws:codedeploy:eu-west-1:000000000000:application:app', Tags: [{ Key: 'a', Value: 'b' }] }, 'InvalidArnException'],
    ['TagResource', { ResourceArn: 'arn:aws:s3:::bucket', Tags: [{ Key: 'a', Value: 'b' }] }, 'InvalidArnException'],
    ['TagResource', { ResourceArn: `${PREFIX}:deploymentconfig:CodeDeployDefault.OneAtATime`, Tags: [{ Key: 'a', Value: 'b' }] }, 'ArnNotSupportedException'],
    ['TagResource', { ResourceArn: `${PREFIX}:instance/h1`, Tags: [{ Key: 'a', Value: 'b' }] }, 'ArnNotSupportedException'],
    ['TagResource', { ResourceArn: `${PREFIX}:application:nope`, Tags: [{ Key: 'a', Value: 'b' }] }, 'ApplicationDoesNotExistException'],
    ['TagResource', { ResourceArn: `${PREFIX}:deploymentgroup:app/nope`, Tags: [{ Key: 'a', Value: 'b' }] }, 'DeploymentGroupDoesNotExistException'],
    ['TagResource', { ResourceArn: `${PREFIX}:deploymentgroup:app`, Tags: [{ Key: 'a', Value: 'b' }] }, 'InvalidArnException'],
    ['UntagResource', { ResourceArn: APP_ARN }, 'TagRequiredException'],
    ['UntagResource', { ResourceArn: APP_ARN, TagKeys: [''] }, 'InvalidTagsToAddException'],
    ['UntagResource', { TagKeys: ['team'] }, 'ResourceArnRequiredException'],
    ['UntagResource', { ResourceArn: `${PREFIX}:deploymentgroup:nope/g`, TagKeys: ['team'] }, 'ApplicationDoesNotExistException'],
    ['ListTagsForResource', {}, 'ResourceArnRequiredException'],
    ['ListTagsForResource', { ResourceArn: `${PREFIX}:deploymentconfig:X` }, 'ArnNotSupportedException'],
    ['CreateApplication', { applicationName: 'other', tags: [{ Key: '' }] }, 'InvalidTagsToAddException'],
    ['CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'other', serviceRoleArn: ROLE, tags: 'env=prod' }, 'InvalidTagsToAddException'],
  ])('%s refuses %j with %s and changes nothing', async (operation, input, type) => {
    expect((await h.refused(operation, input)).type).toBe(type);
    expect(await tagsOf(APP_ARN)).toEqual([{ Key: 'team', Value: 'web' }]);
    expect(await tagsOf(GROUP_ARN)).toHaveLength(2);
    expect(h.store.getApplication('other')).toBeUndefined();
    expect(h.store.getGroup('app', 'other')).toBeUndefined();
  });
});
