/**
 * Deployments: CreateDeployment resolves the group's targets and the revision's stored bundle and
 * hands the deployment to the engine; the rest read what the engine records, in CodeDeploy's shapes.
 */
import type { TrafficState } from '../../deployment/traffic/plan.js';
import { refuseOutsideWindow } from './deployment-windows.js';
import { DEFAULT_TIMEOUT_SECONDS, InPlaceEvents } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import { bucketReadsThrough } from '../context.js';
import type { Input } from '../input.js';
import { epochSeconds, optionalBoolean, optionalObject, optionalString, page, pageStart, requiredString, stringList } from '../input.js';
import type { BundleRef, DeploymentRecord, DeploymentStatus, RevisionLocation, TargetRecord, TargetStatus } from '../../store/records.js';
import { DeploymentStatuses, isFinalStatus } from '../../store/records.js';
import { newDeploymentId } from '../../ids.js';
import { newTarget } from '../../deployment/instance-lifecycle.js';
import { BundleLimitError, eventTimeouts, readBundleAppSpec } from '../../artifacts/bundle-appspec.js';
import { findGroupInstances } from '../../deployment/targets.js';
import type { AsyncStore } from '../../store/async-store.js';
import type { AgentSessionRecord } from '../../fleet/agent-sessions.js';
import { agentStateOf, waitingMessages } from '../../deployment/agent-wait.js';
import { GUIDED_ACTIONS, guidedStatusMessages, heldInstances } from '../../deployment/guided-failure.js';
import { applicationNameField, requireApplication } from './applications.js';
import { autoRollbackConfiguration, requireGroup } from './deployment-groups.js';
import { resolveDeploymentConfig } from './deployment-configs.js';
import { deploymentRevision, parseRevisionLocation, revisionAhead, revisionKey } from './revision-location.js';
import { noteRevisionUsed } from './revisions.js';
import type { GitHubArchiveErrorCode } from '../../artifacts/github-archive.js';
import { isGitHubArchiveError } from '../../artifacts/github-archive.js';
import { createLambdaDeployment } from './lambda-deployments.js';
import { createEcsDeployment } from './ecs-deployments.js';
import { lambdaTarget, lambdaTargetId } from './lambda-targets.js';
import { ecsTarget } from './ecs-targets.js';
import { checkServerRouting, serverGroupStyle } from './server-groups.js';
import { refuseTargetInstances, serverBlueGreenSpec } from './server-blue-green.js';
import { blueGreenTarget } from '../../deployment/blue-green.js';

const FILE_EXISTS = ['DISALLOW', 'OVERWRITE', 'RETAIN'] as const;
const MAX_TARGETS = 1000;

/** deploymentIdField reads a deploymentId. */
export function deploymentIdField(input: Input): string {
  return requiredString(input, 'deploymentId', { required: 'DeploymentIdRequiredException', invalid: 'InvalidDeploymentIdException', max: 64 });
}

/** requireDeployment finds a deployment in `store` (the API's store, or a transaction's tx) or refuses as CodeDeploy does. */
export async function requireDeployment(store: AsyncStore, deploymentId: string): Promise<DeploymentRecord> {
  const d = await store.getDeployment(deploymentId);
  if (d === undefined) throw new ApiError('DeploymentDoesNotExistException', `Deployment ${deploymentId} does not exist`);
  return d;
}

/** deploymentOverview counts a deployment's instances by status (a Lambda deployment's one function by the deployment's). */
function deploymentOverview(d: DeploymentRecord, counts: Partial<Record<TargetStatus, number>>) {
  const o = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 };
  if (d.computePlatform === 'Lambda' || d.computePlatform === 'ECS') {
    const one = d.status === 'Created' || d.status === 'Queued' ? 'Pending' : d.status === 'Stopped' ? 'Failed' : d.status === 'Succeeded' || d.status === 'Failed' ? d.status : 'InProgress';
    o[one]++;
    return o;
  }
  for (const status of Object.keys(o) as (keyof typeof o)[]) o[status] = counts[status] ?? 0;
  return o;
}

/** deploymentInfo is CodeDeploy's DeploymentInfo. */
export async function deploymentInfo(ctx: ApiContext, d: DeploymentRecord) {
  // Only the targets a message is about are read: GetDeployment is polled, and a deployment has up to 1,000.
  const targetsNamed = async (names: readonly string[]) => (await Promise.all(names.map((n) => ctx.store.getTarget(d.deploymentId, n)))).filter((t): t is TargetRecord => t !== undefined);
  const messages = !isFinalStatus(d.status) && (d.computePlatform ?? 'Server') === 'Server';
  const held = await targetsNamed(d.plan?.held ?? []);
  // The running instances whose agent is connected to no coordinator, in one read that names those
  // alone (with replicas, most agents not connected here are connected to another one).
  const notHere = messages ? (await ctx.store.targetIdsAwaitingAgent(d.deploymentId)).filter((n) => !ctx.agents.connected(n)) : [];
  const sessions = notHere.length === 0 ? new Map<string, AgentSessionRecord | undefined>() : await ctx.agents.offline(notHere);
  const waiting = await targetsNamed([...sessions.keys()].sort());
  const counts = await ctx.store.countTargets(d.deploymentId);
  const trafficState = await ctx.traffic?.get(d.deploymentId);
  const groupRollback = d.autoRollbackConfiguration === undefined ? (await ctx.store.getGroupById(d.deploymentGroupId))?.extra.autoRollbackConfiguration : undefined;
  return {
    applicationName: d.applicationName,
    deploymentGroupName: d.deploymentGroupName,
    deploymentConfigName: d.deploymentConfigName,
    deploymentId: d.deploymentId,
    previousRevision: d.previousRevision,
    revision: d.revision,
    status: d.status,
    errorInformation: d.errorInformation,
    createTime: epochSeconds(d.createTime),
    startTime: epochSeconds(d.startTime),
    completeTime: epochSeconds(d.completeTime),
    deploymentOverview: deploymentOverview(d, counts),
    description: d.description,
    creator: d.creator,
    ignoreApplicationStopFailures: d.ignoreApplicationStopFailures,
    updateOutdatedInstancesOnly: d.updateOutdatedInstancesOnly,
    deploymentStyle: d.computePlatform === 'Lambda' || d.computePlatform === 'ECS' || d.blueGreen !== undefined ? { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' } : { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' },
    instanceTerminationWaitTimeStarted: trafficState?.replacement?.cleanup !== undefined,
    ...(d.blueGreen === undefined ? {} : serverBlueGreenInfo(d.blueGreen)),
    fileExistsBehavior: d.fileExistsBehavior,
    autoRollbackConfiguration: d.autoRollbackConfiguration ?? groupRollback,
    rollbackInfo: d.rollbackInfo,
    // While it runs, the instances that wait for an offline agent say so (not stored: it changes as agents
    // come and go). Lambda and ECS targets have no agent.
    // Held failures (guided failure) are read from the plan, so the message goes as soon as an operator answers.
    deploymentStatusMessages: messages ? [...d.deploymentStatusMessages, ...guidedStatusMessages(d, held), ...waitingMessages(waiting, (n) => agentStateOf(sessions.get(n)))] : d.deploymentStatusMessages,
    computePlatform: d.computePlatform ?? 'Server',
    ...((d.plan?.held ?? []).length === 0 || isFinalStatus(d.status) ? {} : { guidedFailure: { waitingInstances: heldInstances(d, held), choices: GUIDED_ACTIONS } }),
  };
}

/** instanceTarget is CodeDeploy's InstanceTarget (also the event stream's snapshot of an instance). */
export function instanceTarget(ctx: ApiContext, t: TargetRecord) {
  return {
    deploymentId: t.deploymentId,
    targetId: t.targetId,
    targetArn: `${ctx.arnPrefix}:instance/${t.targetId}`,
    status: t.status,
    lastUpdatedAt: epochSeconds(t.lastUpdatedAt),
    ...(t.label === undefined ? {} : { instanceLabel: t.label }),
    ...(t.attempt === undefined ? {} : { attempt: t.attempt }),
    lifecycleEvents: t.lifecycleEvents.map((e) => ({
      lifecycleEventName: e.lifecycleEventName,
      status: e.status,
      startTime: epochSeconds(e.startTime),
      endTime: epochSeconds(e.endTime),
      diagnostics: e.diagnostics,
    })),
  };
}

/** trafficTarget is the one target of a Lambda or ECS deployment, in its DeploymentTarget shape, from its traffic journal's `state`. */
function trafficTarget(ctx: ApiContext, d: DeploymentRecord, state: TrafficState | undefined) {
  if (d.ecs !== undefined) {
    const ecs = ecsTarget(d, state, ctx.arnPrefix);
    return { status: ecs.status, target: { deploymentTargetType: 'ECSTarget', ecsTarget: ecs } };
  }
  const lambda = lambdaTarget(d, state, ctx.arnPrefix);
  return { status: lambda.status, target: { deploymentTargetType: 'LambdaTarget', lambdaTarget: lambda } };
}

/** lambdaDeploymentTarget is a Lambda or ECS deployment's DeploymentTarget, or DeploymentTargetDoesNotExistException for another id. */
function lambdaDeploymentTarget(ctx: ApiContext, d: DeploymentRecord, targetId: string, state: TrafficState | undefined) {
  if (targetId !== lambdaTargetId(d)) throw new ApiError('DeploymentTargetDoesNotExistException', `Deployment ${d.deploymentId} has no target ${targetId}; its target is ${lambdaTargetId(d)}`);
  return trafficTarget(ctx, d, state).target;
}

/** instanceSummary is the deprecated InstanceSummary that the instance operations return. */
function instanceSummary(ctx: ApiContext, t: TargetRecord) {
  const it = instanceTarget(ctx, t);
  return { deploymentId: it.deploymentId, instanceId: it.targetArn, status: it.status, lastUpdatedAt: it.lastUpdatedAt, lifecycleEvents: it.lifecycleEvents, ...(t.label === undefined ? {} : { instanceType: t.label }) };
}

async function requireTarget(ctx: ApiContext, deploymentId: string, targetId: string, missing: string): Promise<TargetRecord> {
  const t = (await ctx.store.getTarget(deploymentId, targetId)) ?? (await ctx.store.getTarget(deploymentId, targetId.replace(/^arn:.*:instance\//, '')));
  if (t === undefined) throw new ApiError(missing, `Deployment ${deploymentId} has no target ${targetId}`);
  return t;
}

/** requireTargets is {@link requireTarget} for each of `ids`, in order: the first missing one is refused. */
async function requireTargets(ctx: ApiContext, deploymentId: string, ids: readonly string[], missing: string): Promise<TargetRecord[]> {
  const targets: TargetRecord[] = [];
  for (const id of ids) targets.push(await requireTarget(ctx, deploymentId, id, missing));
  return targets;
}

const TARGET_STATUSES: readonly TargetStatus[] = ['Pending', 'InProgress', 'Succeeded', 'Failed', 'Skipped', 'Unknown', 'Ready'];

/** targetStatuses reads a list of TargetStatus values (InvalidInstanceStatusException for any other). */
function targetStatuses(o: Input, field: string, where: string): string[] | undefined {
  const list = stringList(o, field, 'InvalidInstanceStatusException');
  const bad = list?.find((v) => !(TARGET_STATUSES as readonly string[]).includes(v));
  if (bad !== undefined) throw new ApiError('InvalidInstanceStatusException', `${where}: ${JSON.stringify(bad)} is not an instance status (${TARGET_STATUSES.join(', ')})`);
  return list;
}

/**
 * instanceLabels reads a Blue/Green filter. Only blue/green deployments label their instances; for an
 * in-place one a valid label is refused as CodeDeploy refuses it (InvalidDeploymentInstanceTypeException);
 * any other value is InvalidInstanceTypeException.
 */
function instanceLabels(o: Input, field: string, where: string, d: DeploymentRecord): string[] | undefined {
  const list = stringList(o, field, 'InvalidInstanceTypeException');
  if (list === undefined || list.length === 0) return undefined;
  const bad = list.find((v) => v !== 'Blue' && v !== 'Green');
  if (bad !== undefined) throw new ApiError('InvalidInstanceTypeException', `${where}: ${JSON.stringify(bad)} is neither Blue nor Green`);
  if (d.blueGreen === undefined) throw new ApiError('InvalidDeploymentInstanceTypeException', `${where}: Blue and Green label blue/green deployments; this deployment is in-place`);
  return list;
}

/** serverBlueGreenInfo is what DeploymentInfo shows of a Server blue/green deployment's set-up. */
function serverBlueGreenInfo(bg: NonNullable<DeploymentRecord['blueGreen']>) {
  return {
    blueGreenDeploymentConfiguration: {
      terminateBlueInstancesOnDeploymentSuccess: { action: bg.terminate.action, terminationWaitTimeInMinutes: bg.terminate.waitMinutes },
      deploymentReadyOption: bg.readyWaitMinutes === undefined ? { actionOnTimeout: 'CONTINUE_DEPLOYMENT' } : { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: bg.readyWaitMinutes },
      greenFleetProvisioningOption: { action: 'DISCOVER_EXISTING' },
    },
    loadBalancerInfo: { targetGroupInfoList: [{ name: bg.backend }] },
  };
}

/** GitHubBundle is a GitHub revision's archive, fetched before the transaction that creates the deployment. */
interface GitHubBundle {
  revisionKey: string;
  bundle: BundleRef;
}

/**
 * The stored bundle a revision names: an S3 revision's must be in the coordinator's revision bucket;
 * a GitHub revision's is the archive {@link fetchGitHubBundle} fetched for it.
 */
async function resolveBundle(ctx: ApiContext, db: AsyncStore, revision: RevisionLocation, github?: GitHubBundle): Promise<BundleRef> {
  if (revision.revisionType === 'GitHub') {
    if (github === undefined || github.revisionKey !== revisionKey(revision)) {
      throw new ApiError('InvalidRevisionException', `the group's revision changed while ${revisionKey(revision)} was being fetched; try again`);
    }
    return github.bundle;
  }
  if (revision.revisionType !== 'S3' || revision.s3Location === undefined) {
    throw new ApiError('InvalidRevisionException', `revision.revisionType ${revision.revisionType} names no bundle for instances; upload the bundle to the coordinator's bucket and deploy it as an S3 revision, or deploy a GitHub commit`);
  }
  const s3 = revision.s3Location;
  if (s3.bundleType !== 'tar' && s3.bundleType !== 'tgz' && s3.bundleType !== 'zip') {
    throw new ApiError('InvalidRevisionException', `revision.s3Location.bundleType must be tar, tgz or zip for instances, got ${s3.bundleType}`);
  }
  const buckets = bucketReadsThrough(ctx, db);
  const object = (await buckets.getBucket(s3.bucket)) === undefined ? undefined : await buckets.getObject(s3.bucket, s3.key);
  if (object === undefined) {
    throw new ApiError('RevisionDoesNotExistException', `s3://${s3.bucket}/${s3.key} is not in the coordinator's revision bucket; upload it first (aws s3 cp BUNDLE s3://${s3.bucket}/${s3.key} --endpoint-url ...)`);
  }
  if (s3.eTag !== undefined && s3.eTag.replaceAll('"', '') !== object.etag.replaceAll('"', '')) {
    throw new ApiError('InvalidRevisionException', `revision.s3Location.eTag ${s3.eTag} does not match the stored object's ETag ${object.etag}`);
  }
  if (s3.version !== undefined && s3.version !== '' && s3.version !== 'null') {
    throw new ApiError('InvalidRevisionException', `revision.s3Location.version: the coordinator's bucket does not keep object versions; leave version out`);
  }
  return { sha256: object.sha256, size: object.size, bundleType: s3.bundleType };
}

/** The event timeouts of recently deployed bundles, by SHA-256 and bundle type (at most TIMEOUTS_CACHE_SIZE). */
const TIMEOUTS_BY_BUNDLE = new Map<string, Record<string, number>>();
const TIMEOUTS_CACHE_SIZE = 64;

/**
 * bundleTimeouts reads the hooks' timeouts from the stored bundle a request names, before the
 * transaction that validates everything (reading is asynchronous; the bundle is content-addressed,
 * so what was read is what will be served). A bundle past the agents' bundle limits is refused with
 * InvalidRevisionException naming the limit; anything else unreadable leaves the default hour.
 */
async function bundleTimeouts(ctx: ApiContext, revision: unknown, github: GitHubBundle | undefined): Promise<Record<string, number>> {
  let where = github?.revisionKey;
  try {
    let bundle = github?.bundle;
    if (bundle === undefined) {
      const location = parseRevisionLocation(revision);
      bundle = await resolveBundle(ctx, ctx.store, location);
      where = revisionKey(location);
    }
    // Replicas sharing the blob folder spare it now, until the deployment that references it commits.
    await ctx.blobs.refresh(bundle.sha256);
    // Every agent event, the traffic hooks of blue/green deployments included. A stored blob never
    // changes (it is named by its SHA-256), so its timeouts are read once: the next deployments of
    // the same bundle do not wait for the disk behind a busy event loop.
    const key = `${bundle.sha256}:${bundle.bundleType}`;
    const known = TIMEOUTS_BY_BUNDLE.get(key);
    if (known !== undefined) return known;
    const timeouts = eventTimeouts(await readBundleAppSpec(ctx.blobs.path(bundle.sha256), bundle.bundleType), InPlaceEvents);
    TIMEOUTS_BY_BUNDLE.set(key, timeouts);
    if (TIMEOUTS_BY_BUNDLE.size > TIMEOUTS_CACHE_SIZE) TIMEOUTS_BY_BUNDLE.delete(TIMEOUTS_BY_BUNDLE.keys().next().value!);
    return timeouts;
  } catch (err) {
    if (err instanceof BundleLimitError) throw new ApiError('InvalidRevisionException', `the bundle of revision ${where} is refused: ${err.message}; the coordinator applies the agents' default bundle_limits`);
    return { default: DEFAULT_TIMEOUT_SECONDS }; // the transaction below reports what is wrong with the request
  }
}

/** GITHUB_ERRORS maps each way a GitHub download fails to the exception CreateDeployment answers with. */
const GITHUB_ERRORS: Record<GitHubArchiveErrorCode, string> = {
  NOT_FOUND: 'RevisionDoesNotExistException',
  UNAUTHORIZED: 'GitHubAccountTokenDoesNotExistException',
  UNREACHABLE: 'InvalidRevisionException',
  BAD_STATUS: 'InvalidRevisionException',
  NOT_AN_ARCHIVE: 'InvalidRevisionException',
  NO_APPSPEC: 'InvalidRevisionException',
  TOO_LARGE: 'InvalidRevisionException',
};

/**
 * fetchGitHubBundle downloads the archive of the GitHub revision a CreateDeployment names (given, or
 * else the group's current one) before the transaction, so that a bad commit or an unreachable
 * GitHub is refused at once. Any other request, or one that names a missing application or group,
 * fetches nothing: the transaction reports what is wrong with it.
 */
async function fetchGitHubBundle(ctx: ApiContext, input: Input, applicationName: string, groupName: string): Promise<GitHubBundle | undefined> {
  const group = (await ctx.store.getApplication(applicationName)) === undefined ? undefined : await ctx.store.getGroup(applicationName, groupName);
  if (group === undefined) return undefined;
  const revision = revisionAhead(input.revision, group);
  if (revision === undefined || revision.revisionType !== 'GitHub' || revision.gitHubLocation === undefined) return undefined;
  try {
    return { revisionKey: revisionKey(revision), bundle: await ctx.github.bundle(revision.gitHubLocation) };
  } catch (err) {
    if (isGitHubArchiveError(err)) throw new ApiError(GITHUB_ERRORS[err.code], err.message);
    throw err;
  }
}

/** deploymentOperations are the deployment operations of the CodeDeploy API. */
export const deploymentOperations = {
  async CreateDeployment(input: Input, ctx: ApiContext) {
    const applicationName = applicationNameField(input);
    const groupName = requiredString(input, 'deploymentGroupName', { required: 'DeploymentGroupNameRequiredException', invalid: 'InvalidDeploymentGroupNameException', max: 100 });
    const description = optionalString(input, 'description', { invalid: 'InvalidDescriptionException' });
    if (description !== undefined && description.length > 256) throw new ApiError('DescriptionTooLongException', `description is ${description.length} characters long; at most 256 are allowed`);
    const fileExists = optionalString(input, 'fileExistsBehavior', { invalid: 'InvalidFileExistsBehaviorException' }) ?? 'DISALLOW';
    if (!(FILE_EXISTS as readonly string[]).includes(fileExists)) throw new ApiError('InvalidFileExistsBehaviorException', `fileExistsBehavior must be DISALLOW, OVERWRITE or RETAIN, got ${JSON.stringify(fileExists)}`);
    const ignoreStop = optionalBoolean(input, 'ignoreApplicationStopFailures', 'InvalidIgnoreApplicationStopFailuresValueException') ?? false;
    const outdatedOnly = optionalBoolean(input, 'updateOutdatedInstancesOnly', 'InvalidUpdateOutdatedInstancesOnlyValueException') ?? false;
    const rollbackConfig = autoRollbackConfiguration(input);
    await refuseOutsideWindow(ctx, applicationName, groupName);
    const platform = (await ctx.store.getApplication(applicationName))?.computePlatform;
    if (platform === 'Lambda' || platform === 'ECS') {
      const req = { applicationName, groupName, ...(description !== undefined ? { description } : {}), ...(rollbackConfig !== undefined ? { autoRollbackConfiguration: rollbackConfig } : {}) };
      return platform === 'Lambda' ? createLambdaDeployment(input, ctx, req) : createEcsDeployment(input, ctx, req);
    }
    // Refused rather than ignored: a caller who turns alarms off for one deployment must not find them on.
    if (optionalObject(input, 'overrideAlarmConfiguration', 'InvalidAlarmConfigException') !== undefined) {
      throw new ApiError('InvalidAlarmConfigException', "overrideAlarmConfiguration is not supported yet; change the deployment group's alarmConfiguration with UpdateDeploymentGroup instead");
    }

    const github = await fetchGitHubBundle(ctx, input, applicationName, groupName);
    const timeouts = await bundleTimeouts(ctx, input.revision, github);
    const deploymentId = newDeploymentId();
    // Everything asynchronous (the GitHub archive, the bundle's timeouts) is done: the body awaits only tx.
    await ctx.store.transaction(async (tx) => {
      await requireApplication(tx, applicationName);
      const group = await requireGroup(tx, applicationName, groupName);
      const revision = deploymentRevision(input.revision, group);
      const configName = optionalString(input, 'deploymentConfigName', { invalid: 'InvalidDeploymentConfigNameException', max: 100 }) ?? group.deploymentConfigName;
      const config = await resolveDeploymentConfig(tx, configName);
      if (config.computePlatform !== 'Server' || config.minimumHealthyHosts === undefined) {
        throw new ApiError('InvalidDeploymentConfigNameException', `${configName} is a ${config.computePlatform} configuration; instances need a Server one`);
      }
      // A bucket read in the transaction's body, through its handle: on SQLite it runs at once (no turn of the loop passes).
      const bundle = await resolveBundle(ctx, tx, revision, github);
      const active = await tx.activeDeploymentOfGroup(group.deploymentGroupId);
      if (active !== undefined) {
        throw new ApiError('DeploymentLimitExceededException', `The deployment group ${groupName} already has an active deployment ${active.deploymentId}; wait for it to finish or stop it`);
      }
      const key = revisionKey(revision);
      // The group's instances through the tag index: the rest of the fleet is not read.
      let instances = await findGroupInstances(group, tx);
      const style = serverGroupStyle(group.extra);
      if (style.type === 'BLUE_GREEN' && ctx.blueGreenRefused !== undefined) throw new ApiError('UnsupportedActionForDeploymentTypeException', `deployment group ${groupName} deploys blue/green, which is not supported here: ${ctx.blueGreenRefused}`);
      checkServerRouting(style, config.deploymentConfigName, config.trafficRoutingConfig);
      if (style.type === 'IN_PLACE') refuseTargetInstances(input, groupName);
      // A blue/green deployment may name replacement instances outside the group: it reads the fleet.
      const registered = style.type === 'BLUE_GREEN' ? await tx.listInstances() : [];
      const blueGreen = style.type === 'BLUE_GREEN' ? serverBlueGreenSpec(input, style, instances, registered, config.trafficRoutingConfig) : undefined;
      if (blueGreen !== undefined) {
        if (outdatedOnly) throw new ApiError('InvalidUpdateOutdatedInstancesOnlyValueException', 'updateOutdatedInstancesOnly applies to in-place deployments; a blue/green deployment installs every replacement instance');
        if (!ctx.blueGreenReady) throw new ApiError('InvalidLoadBalancerInfoException', `deployment group ${groupName} reroutes traffic through HAProxy backend ${blueGreen.backend}, but this coordinator has no HAProxy runtime API configured: set haproxy_socket in its config file (the path or host:port of a "stats socket ... level admin")`);
      }
      if (outdatedOnly) {
        const current = new Set((await tx.listHealth(group.deploymentGroupId)).filter((h) => h.revisionKey === key).map((h) => h.instanceName));
        instances = instances.filter((i) => !current.has(i.instanceName));
      }
      if (blueGreen !== undefined) instances = registered.filter((i) => blueGreen.green.includes(i.instanceName) || blueGreen.blue.includes(i.instanceName));
      if (instances.length > MAX_TARGETS) throw new ApiError('InvalidTargetInstancesException', `the group selects ${instances.length} instances; at most ${MAX_TARGETS} are allowed in one deployment`);

      const now = ctx.clock.now();
      const deployment: DeploymentRecord = {
        deploymentId,
        applicationName,
        deploymentGroupName: groupName,
        deploymentGroupId: group.deploymentGroupId,
        deploymentConfigName: config.deploymentConfigName,
        minimumHealthyHosts: config.minimumHealthyHosts,
        revision,
        ...(group.targetRevision !== undefined ? { previousRevision: group.targetRevision } : {}),
        bundle,
        status: 'Created',
        createTime: now,
        creator: 'user',
        ...(description !== undefined ? { description } : {}),
        ignoreApplicationStopFailures: ignoreStop,
        updateOutdatedInstancesOnly: outdatedOnly,
        ...(rollbackConfig !== undefined ? { autoRollbackConfiguration: rollbackConfig } : {}),
        fileExistsBehavior: fileExists as DeploymentRecord['fileExistsBehavior'],
        eventTimeouts: timeouts,
        deploymentStatusMessages: [],
        ...(blueGreen !== undefined ? { blueGreen } : {}),
      };
      await tx.putDeployment(deployment);
      if (blueGreen !== undefined) {
        await tx.addTargets([...blueGreen.green.map((name) => blueGreenTarget(deploymentId, name, 'Green', now)), ...blueGreen.blue.map((name) => blueGreenTarget(deploymentId, name, 'Blue', now))]);
      } else {
        await tx.addTargets(instances.map((i) => newTarget(deploymentId, i.instanceName, now)));
      }
      await noteRevisionUsed(ctx, tx, applicationName, revision, groupName);
    });
    await ctx.engine.deploymentCreated(deploymentId);
    return { deploymentId };
  },

  async GetDeployment(input: Input, ctx: ApiContext) {
    return { deploymentInfo: await deploymentInfo(ctx, await requireDeployment(ctx.store, deploymentIdField(input))) };
  },

  async BatchGetDeployments(input: Input, ctx: ApiContext) {
    const ids = stringList(input, 'deploymentIds', 'InvalidDeploymentIdException');
    if (ids === undefined) throw new ApiError('DeploymentIdRequiredException', 'deploymentIds is required');
    if (ids.length > 25) throw new ApiError('BatchLimitExceededException', `at most 25 deploymentIds per call, got ${ids.length}`);
    const found = (await Promise.all(ids.map((id) => ctx.store.getDeployment(id)))).filter((d): d is DeploymentRecord => d !== undefined);
    return { deploymentsInfo: await Promise.all(found.map((d) => deploymentInfo(ctx, d))) };
  },

  async ListDeployments(input: Input, ctx: ApiContext) {
    const applicationName = optionalString(input, 'applicationName', { invalid: 'InvalidApplicationNameException', max: 100 });
    const groupName = optionalString(input, 'deploymentGroupName', { invalid: 'InvalidDeploymentGroupNameException', max: 100 });
    if (groupName !== undefined && applicationName === undefined) throw new ApiError('ApplicationNameRequiredException', 'applicationName is required when deploymentGroupName is given');
    if (applicationName !== undefined && groupName === undefined) throw new ApiError('DeploymentGroupNameRequiredException', 'deploymentGroupName is required when applicationName is given (give both, or neither)');
    // externalId links CloudFormation blue/green deployments, which this coordinator never makes: none matches.
    const externalId = optionalString(input, 'externalId', { invalid: 'InvalidExternalIdException', max: 200 });
    if (applicationName !== undefined) await requireApplication(ctx.store, applicationName);
    if (applicationName !== undefined && groupName !== undefined) await requireGroup(ctx.store, applicationName, groupName);
    const statuses = stringList(input, 'includeOnlyStatuses', 'InvalidDeploymentStatusException');
    for (const s of statuses ?? []) {
      if (!(DeploymentStatuses as readonly string[]).includes(s)) throw new ApiError('InvalidDeploymentStatusException', `includeOnlyStatuses: ${JSON.stringify(s)} is not a deployment status (${DeploymentStatuses.join(', ')})`);
    }
    const range = optionalObject(input, 'createTimeRange', 'InvalidTimeRangeException');
    const bound = (field: 'start' | 'end'): number | undefined => {
      const v = range?.[field];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number') throw new ApiError('InvalidTimeRangeException', `createTimeRange.${field} must be a time`);
      return v * 1000;
    };
    const found = await ctx.store.listDeploymentIds({
      ...(applicationName !== undefined ? { applicationName } : {}),
      ...(groupName !== undefined ? { deploymentGroupName: groupName } : {}),
      ...(statuses !== undefined ? { statuses: statuses as DeploymentStatus[] } : {}),
      createdAfter: bound('start'),
      createdBefore: bound('end'),
    });
    const { items, nextToken } = page(externalId !== undefined && externalId !== '' ? [] : found, pageStart(input), 100);
    return { deployments: items, nextToken };
  },

  async StopDeployment(input: Input, ctx: ApiContext) {
    const deploymentId = deploymentIdField(input);
    const autoRollback = optionalBoolean(input, 'autoRollbackEnabled', 'InvalidAutoRollbackConfigException') ?? false;
    const d = await requireDeployment(ctx.store, deploymentId);
    if (isFinalStatus(d.status)) throw new ApiError('DeploymentAlreadyCompletedException', `Deployment ${deploymentId} has already completed (${d.status})`);
    const status = await ctx.engine.stopRequested(deploymentId, autoRollback);
    const stopping = d.blueGreen !== undefined ? 'Stopping: HAProxy is being put back on the original instances' : d.computePlatform === 'Lambda' ? 'Stopping: the alias is being put back on its original version' : d.computePlatform === 'ECS' ? 'Stopping: the listeners are being put back on the original task set' : 'Stopping: no new lifecycle events start; the running ones are being cancelled';
    return { status, statusMessage: status === 'Succeeded' ? 'Deployment stopped' : stopping };
  },

  async ListDeploymentTargets(input: Input, ctx: ApiContext) {
    const d = await requireDeployment(ctx.store, deploymentIdField(input));
    const filters = optionalObject(input, 'targetFilters', 'InvalidTargetFilterNameException') ?? {};
    const unknown = Object.keys(filters).find((k) => k !== 'TargetStatus' && k !== 'ServerInstanceLabel');
    if (unknown !== undefined) throw new ApiError('InvalidTargetFilterNameException', `targetFilters.${unknown}: the filters are TargetStatus and ServerInstanceLabel`);
    const wanted = targetStatuses(filters, 'TargetStatus', 'targetFilters.TargetStatus');
    const labels = instanceLabels(filters, 'ServerInstanceLabel', 'targetFilters.ServerInstanceLabel', d);
    if (d.computePlatform === 'Lambda' || d.computePlatform === 'ECS') {
      const { status } = trafficTarget(ctx, d, await ctx.traffic?.get(d.deploymentId));
      return { targetIds: wanted === undefined || wanted.length === 0 || wanted.includes(status) ? [lambdaTargetId(d)] : [] };
    }
    const targets = (await ctx.store.listTargets(d.deploymentId)).filter((t) => (wanted === undefined || wanted.length === 0 || wanted.includes(t.status)) && (labels === undefined || (t.label !== undefined && labels.includes(t.label))));
    const { items, nextToken } = page(targets.map((t) => t.targetId), pageStart(input), 100);
    return { targetIds: items, nextToken };
  },

  async GetDeploymentTarget(input: Input, ctx: ApiContext) {
    const d = await requireDeployment(ctx.store, deploymentIdField(input));
    const targetId = requiredString(input, 'targetId', { required: 'DeploymentTargetIdRequiredException', invalid: 'InvalidDeploymentTargetIdException' });
    if (d.computePlatform === 'Lambda' || d.computePlatform === 'ECS') return { deploymentTarget: lambdaDeploymentTarget(ctx, d, targetId, await ctx.traffic?.get(d.deploymentId)) };
    const t = await requireTarget(ctx, d.deploymentId, targetId, 'DeploymentTargetDoesNotExistException');
    return { deploymentTarget: { deploymentTargetType: 'InstanceTarget', instanceTarget: instanceTarget(ctx, t) } };
  },

  async BatchGetDeploymentTargets(input: Input, ctx: ApiContext) {
    const d = await requireDeployment(ctx.store, deploymentIdField(input));
    const ids = stringList(input, 'targetIds', 'InvalidDeploymentTargetIdException');
    if (ids === undefined || ids.length === 0) throw new ApiError('DeploymentTargetIdRequiredException', 'targetIds is required');
    if (ids.length > 25) throw new ApiError('DeploymentTargetListSizeExceededException', `at most 25 targetIds per call, got ${ids.length}`);
    if (d.computePlatform === 'Lambda' || d.computePlatform === 'ECS') {
      const state = await ctx.traffic?.get(d.deploymentId);
      return { deploymentTargets: ids.map((id) => lambdaDeploymentTarget(ctx, d, id, state)) };
    }
    const targets = await requireTargets(ctx, d.deploymentId, ids, 'DeploymentTargetDoesNotExistException');
    return { deploymentTargets: targets.map((t) => ({ deploymentTargetType: 'InstanceTarget', instanceTarget: instanceTarget(ctx, t) })) };
  },

  async ListDeploymentInstances(input: Input, ctx: ApiContext) {
    const d = await requireDeployment(ctx.store, deploymentIdField(input));
    const wanted = targetStatuses(input, 'instanceStatusFilter', 'instanceStatusFilter');
    const labels = instanceLabels(input, 'instanceTypeFilter', 'instanceTypeFilter', d);
    const targets = (await ctx.store.listTargets(d.deploymentId)).filter((t) => (wanted === undefined || wanted.length === 0 || wanted.includes(t.status)) && (labels === undefined || (t.label !== undefined && labels.includes(t.label))));
    const { items, nextToken } = page(targets.map((t) => t.targetId), pageStart(input), 100);
    return { instancesList: items, nextToken };
  },

  async GetDeploymentInstance(input: Input, ctx: ApiContext) {
    const d = await requireDeployment(ctx.store, deploymentIdField(input));
    const instanceId = requiredString(input, 'instanceId', { required: 'InstanceIdRequiredException', invalid: 'InvalidInstanceNameException' });
    return { instanceSummary: instanceSummary(ctx, await requireTarget(ctx, d.deploymentId, instanceId, 'InstanceDoesNotExistException')) };
  },

  async BatchGetDeploymentInstances(input: Input, ctx: ApiContext) {
    const d = await requireDeployment(ctx.store, deploymentIdField(input));
    const ids = stringList(input, 'instanceIds', 'InvalidInstanceNameException');
    if (ids === undefined || ids.length === 0) throw new ApiError('InstanceIdRequiredException', 'instanceIds is required');
    if (ids.length > 25) throw new ApiError('BatchLimitExceededException', `at most 25 instanceIds per call, got ${ids.length}`);
    const targets = await requireTargets(ctx, d.deploymentId, ids, 'InstanceDoesNotExistException');
    return { instancesSummary: targets.map((t) => instanceSummary(ctx, t)), errorMessage: '' };
  },
};
