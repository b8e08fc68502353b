import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiHarness, RecordingIdentities } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';

const USER = 'arn:aws:iam::123456789012:user/onprem-1';
const SESSION = 'arn:aws:sts::123456789012:assumed-role/CodeDeployRole/onprem-2';

describe('on-premises instance operations', () => {
  let h: ApiHarness;
  beforeEach(async () => {
    h = await startApiHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const register = (name: string, arn: Record<string, string> = { iamUserArn: `arn:aws:iam::123456789012:user/${name}` }) =>
    h.ok('RegisterOnPremisesInstance', { instanceName: name, ...arn });

  describe('RegisterOnPremisesInstance', () => {
    it("answers with the new instance's enrolment token and the enrolment port, and deregistering revokes its identity", async () => {
      const identities = h.ctx.identities as RecordingIdentities;
      expect(await register('web-1')).toEqual({ enrolmentToken: 'token-web-1', enrolmentPort: 7182 });
      expect((await h.refused('RegisterOnPremisesInstance', { instanceName: 'web-1', iamUserArn: USER })).type).toBe('InstanceNameAlreadyRegisteredException');
      await h.ok('DeregisterOnPremisesInstance', { instanceName: 'web-1' });
      expect(identities.calls).toEqual([
        { call: 'registered', instanceName: 'web-1' },
        { call: 'deregistered', instanceName: 'web-1' },
      ]);
    });

    it('registers with an IAM user ARN, shows the instance ARN and tells the engine after commit', async () => {
      await register('web-1', { iamUserArn: USER });
      expect(h.engine.count('fleetChanged')).toBe(1);
      const { instanceInfo } = await h.ok('GetOnPremisesInstance', { instanceName: 'web-1' });
      expect(instanceInfo).toEqual({
        instanceName: 'web-1',
        iamUserArn: USER,
        instanceArn: 'arn:aws:codedeploy:us-east-1:000000000000:instance/web-1',
        registerTime: h.clock.now() / 1000,
        tags: [],
      });
    });

    it('registers with an IAM session ARN', async () => {
      await register('web-2', { iamSessionArn: SESSION });
      expect((await h.ok('GetOnPremisesInstance', { instanceName: 'web-2' })).instanceInfo.iamSessionArn).toBe(SESSION);
    });

    it.each([
      [{}, 'IamArnRequiredException'],
      [{ iamUserArn: USER, iamSessionArn: SESSION }, 'MultipleIamArnsProvidedException'],
      [{ iamUserArn: 'bob' }, 'InvalidIamUserArnException'],
      [{ iamSessionArn: 'arn:aws:iam::123456789012:user/x' }, 'InvalidIamSessionArnException'],
    ])('refuses IAM ARNs %j with %s and stores nothing', async (arn, type) => {
      expect((await h.refused('RegisterOnPremisesInstance', { instanceName: 'x', ...arn })).type).toBe(type);
      expect(h.store.listInstances()).toEqual([]);
      expect(h.engine.count('fleetChanged')).toBe(0);
    });

    it('refuses a missing or malformed name', async () => {
      expect((await h.refused('RegisterOnPremisesInstance', { iamUserArn: USER })).type).toBe('InstanceNameRequiredException');
      expect((await h.refused('RegisterOnPremisesInstance', { instanceName: 'a b', iamUserArn: USER })).type).toBe('InvalidInstanceNameException');
    });

    it('refuses a registered name and a reused ARN, and lets a deregistered name register again', async () => {
      await register('web-1', { iamUserArn: USER });
      expect((await h.refused('RegisterOnPremisesInstance', { instanceName: 'web-1', iamUserArn: USER })).type).toBe('InstanceNameAlreadyRegisteredException');
      expect((await h.refused('RegisterOnPremisesInstance', { instanceName: 'web-9', iamUserArn: USER })).type).toBe('IamUserArnAlreadyRegisteredException');
      await register('s-1', { iamSessionArn: SESSION });
      expect((await h.refused('RegisterOnPremisesInstance', { instanceName: 's-2', iamSessionArn: SESSION })).type).toBe('IamSessionArnAlreadyRegisteredException');
      await h.ok('DeregisterOnPremisesInstance', { instanceName: 'web-1' });
      h.clock.advance(5000);
      await register('web-1', { iamUserArn: USER });
      const { instanceInfo } = await h.ok('GetOnPremisesInstance', { instanceName: 'web-1' });
      expect(instanceInfo.deregisterTime).toBeUndefined();
      expect(instanceInfo.registerTime).toBe(h.clock.now() / 1000);
    });
  });

  describe('DeregisterOnPremisesInstance', () => {
    it('marks the instance deregistered, drops its tags, and tells the engine', async () => {
      await register('web-1');
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['web-1'], tags: [{ Key: 'env', Value: 'prod' }] });
      const before = h.engine.count('fleetChanged');
      h.clock.advance(1000);
      await h.ok('DeregisterOnPremisesInstance', { instanceName: 'web-1' });
      expect(h.engine.count('fleetChanged')).toBe(before + 1);
      const { instanceInfo } = await h.ok('GetOnPremisesInstance', { instanceName: 'web-1' });
      expect(instanceInfo.deregisterTime).toBe(h.clock.now() / 1000);
      expect(instanceInfo.tags).toEqual([]);
    });

    it('succeeds without change for an unknown name, and refuses a missing name', async () => {
      await h.ok('DeregisterOnPremisesInstance', { instanceName: 'nobody' });
      expect(h.engine.count('fleetChanged')).toBe(0);
      expect((await h.refused('DeregisterOnPremisesInstance', {})).type).toBe('InstanceNameRequiredException');
    });
  });

  describe('GetOnPremisesInstance and BatchGetOnPremisesInstances', () => {
    it('refuses an unknown instance', async () => {
      expect((await h.refused('GetOnPremisesInstance', { instanceName: 'nobody' })).type).toBe('InstanceNotRegisteredException');
    });

    it('batch-gets the known ones and skips unknown names', async () => {
      await register('a');
      await register('b');
      const { instanceInfos } = await h.ok('BatchGetOnPremisesInstances', { instanceNames: ['a', 'b', 'zz'] });
      expect(instanceInfos.map((i: { instanceName: string }) => i.instanceName)).toEqual(['a', 'b']);
    });

    it('refuses more than 25 names and an empty list', async () => {
      const names = Array.from({ length: 26 }, (_, i) => `i${i}`);
      expect((await h.refused('BatchGetOnPremisesInstances', { instanceNames: names })).type).toBe('BatchLimitExceededException');
      expect((await h.refused('BatchGetOnPremisesInstances', { instanceNames: [] })).type).toBe('InstanceNameRequiredException');
    });
  });

  describe('ListOnPremisesInstances', () => {
    beforeEach(async () => {
      for (const n of ['a', 'b', 'c']) await register(n);
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['a', 'b'], tags: [{ Key: 'env', Value: 'prod' }] });
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['b'], tags: [{ Key: 'role', Value: 'web' }] });
      await h.ok('DeregisterOnPremisesInstance', { instanceName: 'c' });
    });

    it('filters by registration status', async () => {
      expect((await h.ok('ListOnPremisesInstances', {})).instanceNames).toEqual(['a', 'b', 'c']);
      expect((await h.ok('ListOnPremisesInstances', { registrationStatus: 'Registered' })).instanceNames).toEqual(['a', 'b']);
      expect((await h.ok('ListOnPremisesInstances', { registrationStatus: 'Deregistered' })).instanceNames).toEqual(['c']);
    });

    it('filters by KEY_ONLY, VALUE_ONLY and KEY_AND_VALUE tags (any filter matches)', async () => {
      const list = async (tagFilters: unknown) => (await h.ok('ListOnPremisesInstances', { tagFilters })).instanceNames;
      expect(await list([{ Key: 'role', Type: 'KEY_ONLY' }])).toEqual(['b']);
      expect(await list([{ Value: 'prod', Type: 'VALUE_ONLY' }])).toEqual(['a', 'b']);
      expect(await list([{ Key: 'env', Value: 'dev', Type: 'KEY_AND_VALUE' }])).toEqual([]);
      expect(await list([{ Key: 'env', Value: 'dev', Type: 'KEY_AND_VALUE' }, { Key: 'role', Type: 'KEY_ONLY' }])).toEqual(['b']);
    });

    it('pages with nextToken', async () => {
      for (let i = 0; i < 120; i++) h.store.putInstance({ instanceName: `n${String(i).padStart(3, '0')}`, instanceArn: 'x', registerTime: 0, tags: [] });
      const first = await h.ok('ListOnPremisesInstances', {});
      expect(first.instanceNames).toHaveLength(100);
      const second = await h.ok('ListOnPremisesInstances', { nextToken: first.nextToken });
      expect(second.instanceNames).toHaveLength(23);
      expect(second.nextToken).toBeUndefined();
      expect((await h.refused('ListOnPremisesInstances', { nextToken: 'garbage' })).type).toBe('InvalidNextTokenException');
    });

    it('refuses a bad status or filter', async () => {
      expect((await h.refused('ListOnPremisesInstances', { registrationStatus: 'Gone' })).type).toBe('InvalidRegistrationStatusException');
      expect((await h.refused('ListOnPremisesInstances', { tagFilters: [{ Key: 'x', Type: 'FUZZY' }] })).type).toBe('InvalidTagFilterException');
      expect((await h.refused('ListOnPremisesInstances', { tagFilters: [{ Type: 'KEY_AND_VALUE', Key: 'x' }] })).type).toBe('InvalidTagFilterException');
    });
  });

  describe('AddTagsToOnPremisesInstances and RemoveTagsFromOnPremisesInstances', () => {
    beforeEach(async () => {
      await register('a');
      await register('b');
    });

    it('adds tags (a known key takes the new value), then removes them by key and value', async () => {
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['a', 'b'], tags: [{ Key: 'env', Value: 'dev' }, { Key: 'role', Value: 'web' }] });
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['a'], tags: [{ Key: 'env', Value: 'prod' }] });
      expect(h.store.getInstance('a')?.tags).toEqual([{ Key: 'env', Value: 'prod' }, { Key: 'role', Value: 'web' }]);
      await h.ok('RemoveTagsFromOnPremisesInstances', { instanceNames: ['a', 'b'], tags: [{ Key: 'env', Value: 'dev' }] });
      expect(h.store.getInstance('a')?.tags).toEqual([{ Key: 'env', Value: 'prod' }, { Key: 'role', Value: 'web' }]);
      expect(h.store.getInstance('b')?.tags).toEqual([{ Key: 'role', Value: 'web' }]);
      await h.ok('RemoveTagsFromOnPremisesInstances', { instanceNames: ['a'], tags: [{ Key: 'env' }] });
      expect(h.store.getInstance('a')?.tags).toEqual([{ Key: 'role', Value: 'web' }]);
      expect(h.engine.count('fleetChanged')).toBe(2 + 4);
    });

    it('refuses the whole call when one instance is not registered, changing nothing', async () => {
      await h.ok('DeregisterOnPremisesInstance', { instanceName: 'b' });
      const before = h.engine.count('fleetChanged');
      expect((await h.refused('AddTagsToOnPremisesInstances', { instanceNames: ['a', 'b'], tags: [{ Key: 'k', Value: 'v' }] })).type).toBe('InstanceNotRegisteredException');
      expect((await h.refused('RemoveTagsFromOnPremisesInstances', { instanceNames: ['a', 'zz'], tags: [{ Key: 'k', Value: 'v' }] })).type).toBe('InstanceNotRegisteredException');
      expect(h.store.getInstance('a')?.tags).toEqual([]);
      expect(h.engine.count('fleetChanged')).toBe(before);
    });

    it.each([
      [{ instanceNames: ['a'] }, 'TagRequiredException'],
      [{ instanceNames: ['a'], tags: [] }, 'TagRequiredException'],
      [{ tags: [{ Key: 'k', Value: 'v' }] }, 'InstanceNameRequiredException'],
      [{ instanceNames: ['a'], tags: [{ Key: 'k' }] }, 'InvalidTagException'],
      [{ instanceNames: ['a'], tags: [{ Value: 'v' }] }, 'InvalidTagException'],
      [{ instanceNames: ['a'], tags: [{ Key: 'k'.repeat(129), Value: 'v' }] }, 'InvalidTagException'],
      [{ instanceNames: ['a'], tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }, 'InvalidTagException'],
    ])('AddTags refuses %j with %s', async (input, type) => {
      expect((await h.refused('AddTagsToOnPremisesInstances', input)).type).toBe(type);
    });

    it('accepts a 128-character key and a 256-character value', async () => {
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['a'], tags: [{ Key: 'k'.repeat(128), Value: 'v'.repeat(256) }] });
    });

    it('allows 10 tags on an instance and refuses the 11th', async () => {
      const tags = Array.from({ length: 10 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['a'], tags });
      await h.ok('AddTagsToOnPremisesInstances', { instanceNames: ['a'], tags: [{ Key: 'k0', Value: 'changed' }] });
      expect((await h.refused('AddTagsToOnPremisesInstances', { instanceNames: ['b', 'a'], tags: [{ Key: 'k10', Value: 'v' }] })).type).toBe('TagLimitExceededException');
      expect(h.store.getInstance('a')?.tags).toHaveLength(10);
      expect(h.store.getInstance('b')?.tags).toEqual([]);
    });

    it('RemoveTags refuses a tag without a key', async () => {
      expect((await h.refused('RemoveTagsFromOnPremisesInstances', { instanceNames: ['a'], tags: [{ Value: 'v' }] })).type).toBe('InvalidTagException');
    });
  });
});
