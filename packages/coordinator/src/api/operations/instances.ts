/**
 * On-premises instances: Register, Deregister, Get, BatchGet, List, and tagging. Anything that can
 * change which instances a group targets tells the engine after its transaction has committed.
 */
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { epochSeconds, NAME_PATTERN, optionalString, page, pageStart, requiredString } from '../input.js';
import type { InstanceRecord } from '../../store/records.js';
import type { Tag } from '../../fleet/tag-match.js';
import { checkSelector, matchesSelector } from '../../fleet/tag-match.js';
import { deregisterInstancesAsync } from '../../fleet/deregister.js';
import type { AsyncStore } from '../../store/async-store.js';
import { parseInstanceTags, parseTagFilters, withTags } from './tag-input.js';

/** MAX_INSTANCE_TAGS is how many tags one on-premises instance may carry. */
export const MAX_INSTANCE_TAGS = 10;

/** MAX_BATCH_INSTANCES is BatchGetOnPremisesInstances' limit. */
export const MAX_BATCH_INSTANCES = 25;

/** MAX_TAGGED_INSTANCES bounds the instanceNames of one tagging call (CodeDeploy's InstanceLimitExceededException). */
export const MAX_TAGGED_INSTANCES = 100;

const IAM_USER_ARN = /^arn:[a-z-]+:iam::\d{12}:user\/\S+$/;
const IAM_SESSION_ARN = /^arn:[a-z-]+:sts::\d{12}:assumed-role\/[^/\s]+\/\S+$/;

/** isRegistered tells a registered instance from a deregistered one. */
export function isRegistered(instance: InstanceRecord): boolean {
  return instance.deregisterTime === undefined;
}

/** instanceNameOf checks one instance name (1–100 characters of letters, digits and . _ + = , @ -). */
export function instanceNameOf(value: unknown, field: string): string {
  return requiredString({ [field]: value }, field, { required: 'InstanceNameRequiredException', invalid: 'InvalidInstanceNameException', max: 100, pattern: NAME_PATTERN });
}

function instanceNames(input: Input, max: number, limitType: string): string[] {
  const list = input.instanceNames;
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) throw new ApiError('InstanceNameRequiredException', 'instanceNames is required');
  if (!Array.isArray(list)) throw new ApiError('InvalidInstanceNameException', 'instanceNames must be a list');
  if (list.length > max) throw new ApiError(limitType, `at most ${max} instanceNames per call, got ${list.length}`);
  return [...new Set(list.map((n, i) => instanceNameOf(n, `instanceNames[${i}]`)))];
}

/** requireRegisteredInstance finds a registered instance or refuses with InstanceNotRegisteredException. */
export async function requireRegisteredInstance(store: AsyncStore, name: string): Promise<InstanceRecord> {
  const instance = await store.getInstance(name);
  if (instance === undefined || !isRegistered(instance)) throw new ApiError('InstanceNotRegisteredException', `The on-premises instance ${name} is not registered`);
  return instance;
}

/** instanceInfo is CodeDeploy's InstanceInfo shape (times in epoch seconds). */
export function instanceInfo(instance: InstanceRecord) {
  return {
    instanceName: instance.instanceName,
    iamSessionArn: instance.iamSessionArn,
    iamUserArn: instance.iamUserArn,
    instanceArn: instance.instanceArn,
    registerTime: epochSeconds(instance.registerTime),
    deregisterTime: epochSeconds(instance.deregisterTime),
    tags: instance.tags,
  };
}

/** instanceOperations are the on-premises instance operations of the CodeDeploy API. */
export const instanceOperations = {
  async RegisterOnPremisesInstance(input: Input, ctx: ApiContext) {
    const name = instanceNameOf(input.instanceName, 'instanceName');
    const iamSessionArn = optionalString(input, 'iamSessionArn', { invalid: 'InvalidIamSessionArnException', max: 2048 });
    const iamUserArn = optionalString(input, 'iamUserArn', { invalid: 'InvalidIamUserArnException', max: 2048 });
    const session = iamSessionArn === '' ? undefined : iamSessionArn;
    const user = iamUserArn === '' ? undefined : iamUserArn;
    if (session !== undefined && user !== undefined) throw new ApiError('MultipleIamArnsProvidedException', 'give either iamSessionArn or iamUserArn, not both');
    if (session === undefined && user === undefined) throw new ApiError('IamArnRequiredException', 'an IAM ARN is required: give iamSessionArn or iamUserArn');
    if (session !== undefined && !IAM_SESSION_ARN.test(session)) throw new ApiError('InvalidIamSessionArnException', `iamSessionArn ${JSON.stringify(session)} is not an STS assumed-role session ARN (arn:aws:sts::<account>:assumed-role/<role>/<session>)`);
    if (user !== undefined && !IAM_USER_ARN.test(user)) throw new ApiError('InvalidIamUserArnException', `iamUserArn ${JSON.stringify(user)} is not an IAM user ARN (arn:aws:iam::<account>:user/<name>)`);
    const record: InstanceRecord = {
      instanceName: name,
      instanceArn: `${ctx.arnPrefix}:instance/${name}`,
      ...(session !== undefined ? { iamSessionArn: session } : {}),
      ...(user !== undefined ? { iamUserArn: user } : {}),
      registerTime: ctx.clock.now(),
      tags: [],
    };
    // One write the database refuses when the name or the ARN is taken (Store.registerInstance).
    switch (await ctx.store.registerInstance(record)) {
      case 'nameTaken':
        throw new ApiError('InstanceNameAlreadyRegisteredException', `The on-premises instance name ${name} is already registered`);
      case 'iamSessionArnTaken':
        throw new ApiError('IamSessionArnAlreadyRegisteredException', `iamSessionArn ${session} is already used by another registered instance`);
      case 'iamUserArnTaken':
        throw new ApiError('IamUserArnAlreadyRegisteredException', `iamUserArn ${user} is already registered with another on-premises instance`);
      case 'registered':
        break;
    }
    ctx.engine.fleetChanged([name]);
    // Not in CodeDeploy's response shape: the SDKs and the AWS CLI drop them (`aws --debug` shows
    // them; `fleetdeploy instance register` reads them); the same token is in
    // <dataDir>/enrolment/<name>.token on the coordinator's host.
    return { enrolmentToken: await ctx.identities.registered(name), enrolmentPort: ctx.identities.enrolmentPort() };
  },

  async DeregisterOnPremisesInstance(input: Input, ctx: ApiContext) {
    const name = instanceNameOf(input.instanceName, 'instanceName');
    // CodeDeploy lists no error for an unknown or already deregistered name: the call succeeds and changes nothing.
    if ((await deregisterInstancesAsync(ctx.store, [name], ctx.clock.now())).length > 0) ctx.engine.fleetChanged([name]);
    // Even for a name already deregistered: revoking again is harmless and closes any leftover stream.
    await ctx.identities.deregistered(name);
    return {};
  },

  async GetOnPremisesInstance(input: Input, ctx: ApiContext) {
    const name = instanceNameOf(input.instanceName, 'instanceName');
    const instance = await ctx.store.getInstance(name);
    if (instance === undefined) throw new ApiError('InstanceNotRegisteredException', `The on-premises instance ${name} is not registered`);
    return { instanceInfo: instanceInfo(instance) };
  },

  async BatchGetOnPremisesInstances(input: Input, ctx: ApiContext) {
    const names = instanceNames(input, MAX_BATCH_INSTANCES, 'BatchLimitExceededException');
    const found = (await Promise.all(names.map((n) => ctx.store.getInstance(n)))).filter((i): i is InstanceRecord => i !== undefined);
    return { instanceInfos: found.map(instanceInfo) };
  },

  async ListOnPremisesInstances(input: Input, ctx: ApiContext) {
    const status = optionalString(input, 'registrationStatus', { invalid: 'InvalidRegistrationStatusException' });
    if (status !== undefined && status !== 'Registered' && status !== 'Deregistered') {
      throw new ApiError('InvalidRegistrationStatusException', `registrationStatus must be Registered or Deregistered, got ${JSON.stringify(status)}`);
    }
    const filters = parseTagFilters(input.tagFilters, 'tagFilters', 'InvalidTagFilterException');
    const problem = checkSelector(filters, undefined);
    if (problem !== undefined) throw new ApiError('InvalidTagFilterException', problem.message.replace('onPremisesInstanceTagFilters', 'tagFilters'));
    const start = pageStart(input);
    const names = (await ctx.store.listInstances())
      .filter((i) => status === undefined || (status === 'Registered') === isRegistered(i))
      .filter((i) => filters === undefined || filters.length === 0 || matchesSelector(i.tags, { filters }))
      .map((i) => i.instanceName);
    const { items, nextToken } = page(names, start, 100);
    return { instanceNames: items, nextToken };
  },

  async AddTagsToOnPremisesInstances(input: Input, ctx: ApiContext) {
    const tags = parseInstanceTags(input.tags, true) as Tag[];
    const names = instanceNames(input, MAX_TAGGED_INSTANCES, 'InstanceLimitExceededException');
    await ctx.store.transaction(async (tx) => {
      const instances = await Promise.all(names.map((n) => requireRegisteredInstance(tx, n)));
      const updated = instances.map((i) => ({ ...i, tags: withTags(i.tags, tags) }));
      for (const i of updated) {
        if (i.tags.length > MAX_INSTANCE_TAGS) throw new ApiError('TagLimitExceededException', `${i.instanceName} would have ${i.tags.length} tags; at most ${MAX_INSTANCE_TAGS} are allowed per instance`);
      }
      for (const i of updated) await tx.putInstance(i);
    });
    ctx.engine.fleetChanged(names);
    return {};
  },

  async RemoveTagsFromOnPremisesInstances(input: Input, ctx: ApiContext) {
    const tags = parseInstanceTags(input.tags, false);
    const names = instanceNames(input, MAX_TAGGED_INSTANCES, 'InstanceLimitExceededException');
    const removes = (t: Tag): boolean => tags.some((r) => r.Key === t.Key && (r.Value === undefined || r.Value === t.Value));
    await ctx.store.transaction(async (tx) => {
      const instances = await Promise.all(names.map((n) => requireRegisteredInstance(tx, n)));
      for (const i of instances) await tx.putInstance({ ...i, tags: i.tags.filter((t) => !removes(t)) });
    });
    ctx.engine.fleetChanged(names);
    return {};
  },
};
