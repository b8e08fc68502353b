/**
 * CreateDeployment for a Lambda application: the revision is an AppSpec (inline as String or
 * AppSpecContent, or a YAML/JSON object in the coordinator's revision bucket) naming one function,
 * its alias and both versions, and the validation functions of BeforeAllowTraffic and
 * AfterAllowTraffic. The deployment is stored with everything the traffic driver needs, so a later
 * edit of the group or of a custom configuration never changes a running deployment.
 */
import fs from 'node:fs';
import { parseAppSpec } from '@fleetdeploy/shared';
import type { LambdaAppSpec, TrafficRoutingConfig } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import { bucketReadsThrough } from '../context.js';
import type { AsyncStore } from '../../store/async-store.js';
import type { Input } from '../input.js';
import { optionalString } from '../input.js';
import type { DeploymentGroupRecord, DeploymentRecord, LambdaDeploymentSpec, RevisionLocation } from '../../store/records.js';
import { newDeploymentId } from '../../ids.js';
import { requireApplication } from './applications.js';
import { requireGroup } from './deployment-groups.js';
import { resolveDeploymentConfig } from './deployment-configs.js';
import { deploymentRevision, revisionAhead } from './revision-location.js';
import { noteRevisionUsed } from './revisions.js';

/** LambdaDeploymentRequest is what CreateDeployment read before it knew the application deploys to Lambda. */
export interface LambdaDeploymentRequest {
  applicationName: string;
  groupName: string;
  description?: string;
  autoRollbackConfiguration?: DeploymentRecord['autoRollbackConfiguration'];
}

/** StoredAppSpec is an AppSpec file of the revision bucket, read before the transaction that creates the deployment. */
interface StoredAppSpec {
  bucket: string;
  key: string;
  sha256: string;
  text: string;
}

/** storedObject is the revision bucket's object at `bucket`/`key`, if there is one. */
async function storedObject(ctx: ApiContext, db: AsyncStore, bucket: string, key: string) {
  const buckets = bucketReadsThrough(ctx, db);
  return (await buckets.getBucket(bucket)) === undefined ? undefined : await buckets.getObject(bucket, key);
}

/**
 * readStoredAppSpec reads the AppSpec file a CreateDeployment names in the revision bucket (given,
 * or else the group's current revision) before the transaction, whose body may await nothing but
 * its store calls. Whatever it does not find is left to the transaction to report.
 */
async function readStoredAppSpec(ctx: ApiContext, input: Input, req: LambdaDeploymentRequest): Promise<StoredAppSpec | undefined> {
  const group = await ctx.store.getGroup(req.applicationName, req.groupName);
  if (group === undefined) return undefined;
  const revision = revisionAhead(input.revision, group);
  const s3 = revision?.revisionType === 'S3' ? revision.s3Location : undefined;
  if (s3 === undefined || (s3.bundleType !== 'YAML' && s3.bundleType !== 'JSON')) return undefined;
  const object = await storedObject(ctx, ctx.store, s3.bucket, s3.key);
  if (object === undefined) return undefined;
  return { bucket: s3.bucket, key: s3.key, sha256: object.sha256, text: await fs.promises.readFile(ctx.blobs.path(object.sha256), 'utf8') };
}

/** appSpecText is the AppSpec a Lambda or ECS revision carries (an S3 one as {@link readStoredAppSpec} read it). */
async function appSpecText(ctx: ApiContext, db: AsyncStore, revision: RevisionLocation, platform: 'Lambda' | 'ECS', stored: StoredAppSpec | undefined): Promise<string> {
  switch (revision.revisionType) {
    case 'String':
      return revision.string!.content;
    case 'AppSpecContent':
      return revision.appSpecContent!.content;
    case 'S3': {
      const s3 = revision.s3Location!;
      if (s3.bundleType !== 'YAML' && s3.bundleType !== 'JSON') {
        throw new ApiError('InvalidRevisionException', `revision.s3Location.bundleType must be YAML or JSON for a ${platform} deployment (an AppSpec file), got ${s3.bundleType}`);
      }
      const object = await storedObject(ctx, db, s3.bucket, s3.key);
      if (object === undefined) throw new ApiError('RevisionDoesNotExistException', `s3://${s3.bucket}/${s3.key} is not in the coordinator's revision bucket; upload the AppSpec file first`);
      if (stored === undefined || stored.bucket !== s3.bucket || stored.key !== s3.key || stored.sha256 !== object.sha256) {
        throw new ApiError('InvalidRevisionException', `s3://${s3.bucket}/${s3.key} changed while it was being read; try again`);
      }
      return stored.text;
    }
    case 'GitHub':
      throw new ApiError('InvalidRevisionException', `revision.revisionType GitHub is for EC2/on-premises deployments; a ${platform} deployment takes an AppSpec as String, AppSpecContent or an S3 YAML/JSON file`);
  }
}

/** lambdaSpec validates a Lambda AppSpec, refusing anything else with InvalidRevisionException. */
function lambdaSpec(text: string): LambdaAppSpec {
  let spec: LambdaAppSpec;
  try {
    spec = parseAppSpec(text, { platform: 'linux', computePlatform: 'Lambda' });
  } catch (err) {
    throw new ApiError('InvalidRevisionException', `The AppSpec is not valid for a Lambda deployment: ${err instanceof Error ? err.message.replace(/^appspec: /, '') : String(err)}`);
  }
  if (spec.resources.length !== 1) throw new ApiError('InvalidRevisionException', `The AppSpec's Resources must name exactly one Lambda function, found ${spec.resources.length}`);
  const r = spec.resources[0]!;
  if (r.currentVersion === r.targetVersion) throw new ApiError('InvalidRevisionException', `The AppSpec's CurrentVersion and TargetVersion are both ${r.currentVersion}; there is no traffic to shift`);
  return spec;
}

/** TrafficPlatformSpec is the platform half of a traffic deployment record, built from its AppSpec and group. */
export type TrafficPlatformSpec = (appSpec: string, group: DeploymentGroupRecord, routing: TrafficRoutingConfig) => Pick<DeploymentRecord, 'lambda' | 'ecs'>;

/** createLambdaDeployment stores a Lambda deployment and hands it to the engine. */
export function createLambdaDeployment(input: Input, ctx: ApiContext, req: LambdaDeploymentRequest): Promise<{ deploymentId: string }> {
  return createTrafficDeployment(input, ctx, req, 'Lambda', (text, _group, routing) => {
    const spec = lambdaSpec(text);
    const r = spec.resources[0]!;
    const hooks: LambdaDeploymentSpec['hooks'] = {};
    for (const h of spec.hooks) if (h.event === 'BeforeAllowTraffic' || h.event === 'AfterAllowTraffic') hooks[h.event] = h.functionName;
    return { lambda: { functionName: r.name, alias: r.alias, currentVersion: r.currentVersion, targetVersion: r.targetVersion, hooks, trafficRoutingConfig: routing } };
  });
}

/** createTrafficDeployment stores a Lambda or ECS deployment (its spec from `platformSpec`) and hands it to the engine. */
export async function createTrafficDeployment(input: Input, ctx: ApiContext, req: LambdaDeploymentRequest, platform: 'Lambda' | 'ECS', platformSpec: TrafficPlatformSpec): Promise<{ deploymentId: string }> {
  const deploymentId = newDeploymentId();
  const stored = await readStoredAppSpec(ctx, input, req);
  await ctx.store.transaction(async (tx) => {
    await requireApplication(tx, req.applicationName);
    const group = await requireGroup(tx, req.applicationName, req.groupName);
    const revision = deploymentRevision(input.revision, group);
    const configName = optionalString(input, 'deploymentConfigName', { invalid: 'InvalidDeploymentConfigNameException', max: 100 }) ?? group.deploymentConfigName;
    const config = await resolveDeploymentConfig(tx, configName);
    if (config.computePlatform !== platform) {
      throw new ApiError('InvalidDeploymentConfigNameException', `${configName} is a ${config.computePlatform} configuration; application ${req.applicationName} deploys to ${platform}`);
    }
    // A bucket read in the transaction's body, through its handle: on SQLite it runs at once (no turn of the loop passes).
    const spec = platformSpec(await appSpecText(ctx, tx, revision, platform, stored), group, config.trafficRoutingConfig ?? { type: 'AllAtOnce' });
    const active = (await tx.activeDeployments()).find((d) => d.deploymentGroupId === group.deploymentGroupId);
    if (active !== undefined) {
      throw new ApiError('DeploymentLimitExceededException', `The deployment group ${req.groupName} already has an active deployment ${active.deploymentId}; wait for it to finish or stop it`);
    }
    const deployment: DeploymentRecord = {
      deploymentId,
      applicationName: req.applicationName,
      deploymentGroupName: req.groupName,
      deploymentGroupId: group.deploymentGroupId,
      deploymentConfigName: config.deploymentConfigName,
      minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 },
      revision,
      ...(group.targetRevision !== undefined ? { previousRevision: group.targetRevision } : {}),
      status: 'Created',
      createTime: ctx.clock.now(),
      creator: 'user',
      ...(req.description !== undefined ? { description: req.description } : {}),
      ignoreApplicationStopFailures: false,
      updateOutdatedInstancesOnly: false,
      ...(req.autoRollbackConfiguration !== undefined ? { autoRollbackConfiguration: req.autoRollbackConfiguration } : {}),
      fileExistsBehavior: 'DISALLOW',
      eventTimeouts: {},
      deploymentStatusMessages: [],
      computePlatform: platform,
      ...spec,
    };
    await tx.putDeployment(deployment);
    await noteRevisionUsed(ctx, tx, req.applicationName, revision, req.groupName);
  });
  await ctx.engine.deploymentCreated(deploymentId);
  return { deploymentId };
}
