/**
 * Application revisions: Register, Get, BatchGet and List. A revision is known by its
 * {@link revisionKey} within its application; deployments also record their revision here
 * (see {@link noteRevisionUsed}), which is what firstUsedTime, lastUsedTime and deploymentGroups show.
 */
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { optionalArray, optionalString, page, pageStart } from '../input.js';
import type { RevisionLocation, RevisionRecord } from '../../store/records.js';
import { applicationNameField, requireApplication } from './applications.js';
import { BUCKET_NAME, genericRevisionInfo, parseRevisionLocation, revisionInfoShape, revisionKey } from './revision-location.js';
import type { AsyncStore } from '../../store/async-store.js';

/** MAX_DESCRIPTION is CodeDeploy's description length. */
export const MAX_DESCRIPTION = 256;
/** MAX_BATCH_REVISIONS is BatchGetApplicationRevisions' limit. */
export const MAX_BATCH_REVISIONS = 25;

const SORT_BY = ['registerTime', 'firstUsedTime', 'lastUsedTime'] as const;
type SortBy = (typeof SORT_BY)[number];

/** descriptionField reads an optional description of at most 256 characters (DescriptionTooLongException). */
export function descriptionField(input: Input): string | undefined {
  const value = input.description;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ApiError('InvalidInputException', 'description must be a string');
  if (value.length > MAX_DESCRIPTION) throw new ApiError('DescriptionTooLongException', `description is ${value.length} characters long; at most ${MAX_DESCRIPTION} are allowed`);
  return value;
}

/** requireRevision finds a registered revision of an application or refuses with RevisionDoesNotExistException. */
export async function requireRevision(store: AsyncStore, applicationName: string, location: RevisionLocation): Promise<RevisionRecord> {
  const record = await store.getRevision(applicationName, revisionKey(location));
  if (record === undefined) throw new ApiError('RevisionDoesNotExistException', `No revision ${revisionKey(location)} is registered for application ${applicationName}`);
  return record;
}

/**
 * noteRevisionUsed records that a deployment of `groupName` uses a revision: it registers the
 * revision if it was not, sets firstUsedTime once and lastUsedTime each time, and adds the group.
 * Call it inside the transaction that stores the deployment, with its `tx`.
 */
export async function noteRevisionUsed(ctx: ApiContext, tx: AsyncStore, applicationName: string, location: RevisionLocation, groupName: string): Promise<RevisionRecord> {
  const now = ctx.clock.now();
  const key = revisionKey(location);
  const existing = await tx.getRevision(applicationName, key);
  const record: RevisionRecord = existing === undefined
    ? { applicationName, revisionKey: key, revisionLocation: location, registerTime: now, firstUsedTime: now, lastUsedTime: now, deploymentGroups: [groupName] }
    : {
        ...existing,
        firstUsedTime: existing.firstUsedTime ?? now,
        lastUsedTime: now,
        deploymentGroups: existing.deploymentGroups.includes(groupName) ? existing.deploymentGroups : [...existing.deploymentGroups, groupName],
      };
  await tx.putRevision(record);
  return record;
}

function enumField<T extends string>(input: Input, field: string, values: readonly T[], invalid: string): T | undefined {
  const value = optionalString(input, field, { invalid });
  if (value === undefined || value === '') return undefined;
  if (!(values as readonly string[]).includes(value)) throw new ApiError(invalid, `${field} must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** revisionOperations are the application revision operations of the CodeDeploy API. */
export const revisionOperations = {
  async RegisterApplicationRevision(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const description = descriptionField(input);
    const location = parseRevisionLocation(input.revision);
    await ctx.store.transaction(async (tx) => {
      await requireApplication(tx, appName);
      const key = revisionKey(location);
      const existing = await tx.getRevision(appName, key);
      // Registering a known revision again keeps its history and takes the new description.
      const record: RevisionRecord = existing === undefined
        ? { applicationName: appName, revisionKey: key, revisionLocation: location, registerTime: ctx.clock.now(), deploymentGroups: [], ...(description !== undefined ? { description } : {}) }
        : { ...existing, ...(description !== undefined ? { description } : {}) };
      await tx.putRevision(record);
    });
    return {};
  },

  async GetApplicationRevision(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const location = parseRevisionLocation(input.revision);
    await requireApplication(ctx.store, appName);
    const record = await requireRevision(ctx.store, appName, location);
    return { applicationName: appName, revision: record.revisionLocation, revisionInfo: genericRevisionInfo(record) };
  },

  async BatchGetApplicationRevisions(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const list = optionalArray(input, 'revisions', 'InvalidRevisionException');
    if (list === undefined || list.length === 0) throw new ApiError('RevisionRequiredException', 'revisions is required');
    if (list.length > MAX_BATCH_REVISIONS) throw new ApiError('BatchLimitExceededException', `at most ${MAX_BATCH_REVISIONS} revisions per call, got ${list.length}`);
    const locations = list.map((r, i) => parseRevisionLocation(r, `revisions[${i}]`));
    await requireApplication(ctx.store, appName);
    const found: ReturnType<typeof revisionInfoShape>[] = [];
    const missing: string[] = [];
    for (const location of locations) {
      const record = await ctx.store.getRevision(appName, revisionKey(location));
      if (record === undefined) missing.push(revisionKey(location));
      else found.push(revisionInfoShape(record));
    }
    return { applicationName: appName, revisions: found, errorMessage: missing.length > 0 ? `No revision is registered for: ${missing.join(', ')}` : undefined };
  },

  async ListApplicationRevisions(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const sortBy = enumField<SortBy>(input, 'sortBy', SORT_BY, 'InvalidSortByException');
    const sortOrder = enumField(input, 'sortOrder', ['ascending', 'descending'] as const, 'InvalidSortOrderException') ?? 'ascending';
    const deployed = enumField(input, 'deployed', ['include', 'exclude', 'ignore'] as const, 'InvalidDeployedStateFilterException') ?? 'ignore';
    const bucket = optionalString(input, 's3Bucket', { invalid: 'InvalidBucketNameFilterException' });
    const prefix = optionalString(input, 's3KeyPrefix', { invalid: 'InvalidKeyPrefixFilterException', max: 1024 });
    if (bucket !== undefined && bucket !== '' && !BUCKET_NAME.test(bucket)) throw new ApiError('InvalidBucketNameFilterException', `s3Bucket ${JSON.stringify(bucket)} is not a valid bucket name`);
    if (prefix !== undefined && prefix !== '' && (bucket === undefined || bucket === '')) throw new ApiError('BucketNameFilterRequiredException', 's3KeyPrefix needs s3Bucket as well');
    const start = pageStart(input);
    await requireApplication(ctx.store, appName);

    const targets = new Set((await ctx.store.listGroups(appName)).flatMap((g) => (g.targetRevision === undefined ? [] : [revisionKey(g.targetRevision)])));
    let revisions = (await ctx.store.listRevisions(appName)).filter((r) => {
      const s3 = r.revisionLocation.s3Location;
      if (bucket !== undefined && bucket !== '' && (r.revisionLocation.revisionType !== 'S3' || s3?.bucket !== bucket)) return false;
      if (prefix !== undefined && prefix !== '' && !(s3?.key.startsWith(prefix) ?? false)) return false;
      if (deployed === 'include') return targets.has(r.revisionKey);
      if (deployed === 'exclude') return !targets.has(r.revisionKey);
      return true;
    });
    if (sortBy !== undefined || sortOrder === 'descending') {
      const by = sortBy ?? 'registerTime';
      // A revision never used sorts before every used one in ascending order.
      const time = (r: RevisionRecord): number => r[by] ?? Number.NEGATIVE_INFINITY;
      revisions = [...revisions].sort((a, b) => (time(a) - time(b) || a.revisionKey.localeCompare(b.revisionKey)) * (sortOrder === 'descending' ? -1 : 1));
    }
    const { items, nextToken } = page(revisions.map((r) => r.revisionLocation), start, 100);
    return { revisions: items, nextToken };
  },
};
