/**
 * Resource tags: TagResource, UntagResource and ListTagsForResource over applications and
 * deployment groups (the CodeDeploy resources AWS lets you tag), plus the `tags` that
 * CreateApplication and CreateDeploymentGroup accept. Resources are named by ARN:
 *
 *   <arnPrefix>:application:<application>
 *   <arnPrefix>:deploymentgroup:<application>/<group>
 *
 * Tags are stored by the resource's id, so renaming keeps them and deleting drops them.
 */
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { NAME_PATTERN, page, pageStart } from '../input.js';
import { requireApplication } from './applications.js';
import { requireGroup } from './deployment-groups.js';
import { MAX_RESOURCE_TAGS, parseResourceTags, withTags } from './tag-input.js';
import type { AsyncStore } from '../../store/async-store.js';

/** TAGS_PAGE is how many tags one ListTagsForResource page holds. */
export const TAGS_PAGE = 100;

/** applicationArn is an application's ARN. */
export function applicationArn(ctx: ApiContext, applicationName: string): string {
  return `${ctx.arnPrefix}:application:${applicationName}`;
}

/** deploymentGroupArn is a deployment group's ARN. */
export function deploymentGroupArn(ctx: ApiContext, applicationName: string, groupName: string): string {
  return `${ctx.arnPrefix}:deploymentgroup:${applicationName}/${groupName}`;
}

/** TaggedResource is a resource an ARN names: the id its tags are stored under. */
interface TaggedResource {
  resourceId: string;
}

const ARN = /^arn:[a-z-]+:([a-z0-9-]+):([a-z0-9-]*):(\d*):([A-Za-z-]+)[:/](.*)$/;

/**
 * resolveArn reads `ResourceArn` and finds the application or group it names. A string that is not
 * a CodeDeploy ARN of this coordinator's region and account → InvalidArnException; one of another
 * resource type (deployment configuration, instance) → ArnNotSupportedException; a missing
 * resource → its DoesNotExist exception.
 */
async function resolveArn(ctx: ApiContext, store: AsyncStore, input: Input): Promise<TaggedResource> {
  const arn = input.ResourceArn;
  if (arn === undefined || arn === null || arn === '') throw new ApiError('ResourceArnRequiredException', 'ResourceArn is required');
  if (typeof arn !== 'string') throw new ApiError('InvalidArnException', 'ResourceArn must be a string');
  const m = ARN.exec(arn);
  if (m === null || m[1] !== 'codedeploy') throw new ApiError('InvalidArnException', `ResourceArn ${JSON.stringify(arn)} is not a CodeDeploy ARN (${ctx.arnPrefix}:application:<name>)`);
  const prefix = `arn:${arn.split(':')[1]}:codedeploy:${m[2]}:${m[3]}`;
  if (prefix !== ctx.arnPrefix) throw new ApiError('InvalidArnException', `ResourceArn ${arn} names another region or account; this coordinator's ARNs start ${ctx.arnPrefix}`);
  const [, , , , type, rest] = m as unknown as [string, string, string, string, string, string];
  switch (type) {
    case 'application': {
      if (!NAME_PATTERN.test(rest)) throw new ApiError('InvalidArnException', `ResourceArn ${arn}: ${JSON.stringify(rest)} is not an application name`);
      return { resourceId: (await requireApplication(store, rest)).applicationId };
    }
    case 'deploymentgroup': {
      const [app, group, ...more] = rest.split('/');
      if (app === undefined || group === undefined || more.length > 0 || !NAME_PATTERN.test(app) || !NAME_PATTERN.test(group)) {
        throw new ApiError('InvalidArnException', `ResourceArn ${arn} must end deploymentgroup:<application>/<group>`);
      }
      await requireApplication(store, app);
      return { resourceId: (await requireGroup(store, app, group)).deploymentGroupId };
    }
    default:
      throw new ApiError('ArnNotSupportedException', `ResourceArn ${arn}: only applications and deployment groups take tags here (on-premises instances use AddTagsToOnPremisesInstances)`);
  }
}

/** resourceTagOperations are TagResource, UntagResource and ListTagsForResource. */
export const resourceTagOperations = {
  async TagResource(input: Input, ctx: ApiContext) {
    if (input.Tags === undefined || input.Tags === null || (Array.isArray(input.Tags) && input.Tags.length === 0)) {
      throw new ApiError('TagRequiredException', 'Tags is required: give at least one {Key, Value}');
    }
    const add = parseResourceTags(input.Tags, 'Tags');
    await ctx.store.transaction(async (tx) => {
      const { resourceId } = await resolveArn(ctx, tx, input);
      const tags = withTags(await tx.getResourceTags(resourceId), add);
      if (tags.length > MAX_RESOURCE_TAGS) throw new ApiError('InvalidTagsToAddException', `the resource would have ${tags.length} tags; at most ${MAX_RESOURCE_TAGS} are allowed`);
      await tx.putResourceTags(resourceId, tags);
    });
    return {};
  },

  async UntagResource(input: Input, ctx: ApiContext) {
    const keys = input.TagKeys;
    if (keys === undefined || keys === null || (Array.isArray(keys) && keys.length === 0)) throw new ApiError('TagRequiredException', 'TagKeys is required: give at least one key');
    if (!Array.isArray(keys)) throw new ApiError('InvalidTagsToAddException', 'TagKeys must be a list of keys');
    keys.forEach((k, i) => {
      if (typeof k !== 'string' || k === '') throw new ApiError('InvalidTagsToAddException', `TagKeys[${i}] must be a non-empty key`);
    });
    await ctx.store.transaction(async (tx) => {
      const { resourceId } = await resolveArn(ctx, tx, input);
      const remove = new Set(keys as string[]);
      await tx.putResourceTags(resourceId, (await tx.getResourceTags(resourceId)).filter((t) => !remove.has(t.Key)));
    });
    return {};
  },

  async ListTagsForResource(input: Input, ctx: ApiContext) {
    const { resourceId } = await resolveArn(ctx, ctx.store, input);
    const { items, nextToken } = page(await ctx.store.getResourceTags(resourceId), pageStart(input, 'NextToken'), TAGS_PAGE);
    return { Tags: items, NextToken: nextToken };
  },
};
