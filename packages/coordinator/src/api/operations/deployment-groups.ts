/**
 * Deployment groups: Create, Get, BatchGet, Update, List and Delete. A group is stored with the
 * fields the coordinator acts on (on-premises targeting, configuration, role) as record fields, and
 * the ones it only keeps and shows (alarms, triggers, auto rollback, style, EC2 filters...) in
 * `extra`, validated as CodeDeploy validates them.
 */
import { windowPolicyField } from './deployment-windows.js';
import type { ComputePlatform } from '@fleetdeploy/shared';
import { DEFAULT_SERVER_CONFIG, isWebhookUrl } from '@fleetdeploy/shared';
import { ApiError } from '../api-error.js';
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { epochSeconds, nameField, optionalArray, optionalBoolean, optionalObject, optionalString, page, pageStart, stringList } from '../input.js';
import type { DeploymentGroupRecord, DeploymentSummary } from '../../store/records.js';
import type { TagFilter } from '../../fleet/tag-match.js';
import { checkSelector } from '../../fleet/tag-match.js';
import { newUuid } from '../../ids.js';
import type { AsyncStore } from '../../store/async-store.js';
import { applicationNameField, requireApplication } from './applications.js';
import { resolveDeploymentConfig } from './deployment-configs.js';
import { ecsGroupSetup } from './ecs-groups.js';
import { checkServerRouting, serverGroupStyle } from './server-groups.js';
import { parseResourceTags, parseTagFilters } from './tag-input.js';
import { onInstanceFailureField } from './guided-failure.js';

/** MAX_GROUPS_PER_APPLICATION is CodeDeploy's quota of deployment groups per application. */
export const MAX_GROUPS_PER_APPLICATION = 1000;
/** MAX_ALARMS and MAX_TRIGGERS are CodeDeploy's per-group limits. */
export const MAX_ALARMS = 10;
export const MAX_TRIGGERS = 10;
/** MAX_BATCH_GROUPS is BatchGetDeploymentGroups' limit. */
export const MAX_BATCH_GROUPS = 25;

const ROLLBACK_EVENTS = ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'];
const TRIGGER_EVENTS = [
  'DeploymentStart', 'DeploymentSuccess', 'DeploymentFailure', 'DeploymentStop', 'DeploymentRollback', 'DeploymentReady',
  'InstanceStart', 'InstanceSuccess', 'InstanceFailure', 'InstanceReady',
];
/** A service role is taken as given when it looks like an ARN: nothing checks it against IAM here. */
const ROLE_ARN = /^arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:\S+$/;

/** groupNameField reads a deployment group name field. */
export function groupNameField(input: Input, field = 'deploymentGroupName'): string {
  return nameField(input, field, 'DeploymentGroupNameRequiredException', 'InvalidDeploymentGroupNameException');
}

/** requireGroup finds a deployment group or refuses with DeploymentGroupDoesNotExistException. */
export async function requireGroup(store: AsyncStore, applicationName: string, groupName: string): Promise<DeploymentGroupRecord> {
  const group = await store.getGroup(applicationName, groupName);
  if (group === undefined) throw new ApiError('DeploymentGroupDoesNotExistException', `No deployment group found for name: ${groupName} in application ${applicationName}`);
  return group;
}

/** groupSelector is how a group chooses on-premises instances (the engine's rule, shared with the API). */
export { selectorOf as groupSelector } from '../../deployment/targets.js';

function lastDeployment(d: DeploymentSummary | undefined) {
  return d === undefined ? undefined : { deploymentId: d.deploymentId, status: d.status, endTime: epochSeconds(d.endTime), createTime: epochSeconds(d.createTime) };
}

/** defaultStyle is the deploymentStyle a group has when none was given. */
function defaultStyle(platform: ComputePlatform) {
  return platform === 'Server' ? { deploymentType: 'IN_PLACE', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' } : { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' };
}

/** deploymentGroupInfo is CodeDeploy's DeploymentGroupInfo of a stored group (times in epoch seconds). */
export function deploymentGroupInfo(group: DeploymentGroupRecord, computePlatform: ComputePlatform) {
  const x = group.extra;
  return {
    applicationName: group.applicationName,
    deploymentGroupId: group.deploymentGroupId,
    deploymentGroupName: group.deploymentGroupName,
    deploymentConfigName: group.deploymentConfigName,
    ec2TagFilters: x.ec2TagFilters ?? [],
    onPremisesInstanceTagFilters: group.onPremisesInstanceTagFilters,
    autoScalingGroups: [],
    serviceRoleArn: group.serviceRoleArn,
    targetRevision: group.targetRevision,
    triggerConfigurations: x.triggerConfigurations ?? [],
    alarmConfiguration: x.alarmConfiguration ?? { enabled: false, ignorePollAlarmFailure: false, alarms: [] },
    autoRollbackConfiguration: x.autoRollbackConfiguration,
    deploymentStyle: x.deploymentStyle ?? defaultStyle(computePlatform),
    outdatedInstancesStrategy: x.outdatedInstancesStrategy ?? 'UPDATE',
    blueGreenDeploymentConfiguration: x.blueGreenDeploymentConfiguration,
    loadBalancerInfo: x.loadBalancerInfo,
    lastSuccessfulDeployment: lastDeployment(group.lastSuccessfulDeployment),
    lastAttemptedDeployment: lastDeployment(group.lastAttemptedDeployment),
    ec2TagSet: x.ec2TagSet,
    onPremisesTagSet: group.onPremisesTagSet.length > 0 ? { onPremisesTagSetList: group.onPremisesTagSet } : undefined,
    computePlatform,
    ecsServices: x.ecsServices ?? [],
    terminationHookEnabled: x.terminationHookEnabled ?? false,
    deploymentWindows: x.deploymentWindows,
    onInstanceFailure: x.onInstanceFailure,
  };
}

/** tagSetList reads `{<member>: [[TagFilter]]}`, the shape of ec2TagSet and onPremisesTagSet. */
function tagSetList(input: Input, field: string, member: string, invalid: string): TagFilter[][] | undefined {
  const o = optionalObject(input, field, invalid);
  if (o === undefined) return undefined;
  const list = optionalArray(o, member, invalid) ?? [];
  return list.map((g, i) => parseTagFilters(g, `${field}.${member}[${i}]`, invalid) ?? []);
}

function alarmConfiguration(input: Input): Input | undefined {
  const type = 'InvalidAlarmConfigException';
  const o = optionalObject(input, 'alarmConfiguration', type);
  if (o === undefined) return undefined;
  const enabled = optionalBoolean(o, 'enabled', type) ?? false;
  const ignorePollAlarmFailure = optionalBoolean(o, 'ignorePollAlarmFailure', type) ?? false;
  const list = optionalArray(o, 'alarms', type) ?? [];
  if (list.length > MAX_ALARMS) throw new ApiError('AlarmsLimitExceededException', `alarmConfiguration.alarms has ${list.length} alarms; at most ${MAX_ALARMS} are allowed`);
  const names = list.map((a, i) => {
    const name = typeof a === 'object' && a !== null ? (a as Input).name : undefined;
    if (typeof name !== 'string' || name === '') throw new ApiError(type, `alarmConfiguration.alarms[${i}].name is required`);
    if (name.length > 255) throw new ApiError(type, `alarmConfiguration.alarms[${i}].name is longer than 255 characters`);
    return name;
  });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ApiError(type, `alarmConfiguration.alarms names ${JSON.stringify(dup)} more than once`);
  if (enabled && names.length === 0) throw new ApiError(type, 'alarmConfiguration is enabled but names no alarms');
  return { enabled, ignorePollAlarmFailure, alarms: names.map((name) => ({ name })) };
}

/** autoRollbackConfiguration reads CodeDeploy's AutoRollbackConfiguration (of a group, or of one deployment). */
export function autoRollbackConfiguration(input: Input): { enabled: boolean; events: string[] } | undefined {
  const type = 'InvalidAutoRollbackConfigException';
  const o = optionalObject(input, 'autoRollbackConfiguration', type);
  if (o === undefined) return undefined;
  const enabled = optionalBoolean(o, 'enabled', type) ?? false;
  const events = [...new Set(stringList(o, 'events', type) ?? [])];
  const bad = events.find((e) => !ROLLBACK_EVENTS.includes(e));
  if (bad !== undefined) throw new ApiError(type, `autoRollbackConfiguration.events: ${JSON.stringify(bad)} is not one of ${ROLLBACK_EVENTS.join(', ')}`);
  if (enabled && events.length === 0) throw new ApiError(type, 'autoRollbackConfiguration is enabled but names no events');
  return { enabled, events };
}

function triggerConfigurations(input: Input): Input[] | undefined {
  const type = 'InvalidTriggerConfigException';
  const list = optionalArray(input, 'triggerConfigurations', type);
  if (list === undefined) return undefined;
  if (list.length > MAX_TRIGGERS) throw new ApiError('TriggerTargetsLimitExceededException', `triggerConfigurations has ${list.length} triggers; at most ${MAX_TRIGGERS} are allowed`);
  const triggers = list.map((t, i) => {
    const where = `triggerConfigurations[${i}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new ApiError(type, `${where} must be an object`);
    const o = t as Input;
    const triggerName = optionalString(o, 'triggerName', { invalid: type });
    const triggerTargetArn = optionalString(o, 'triggerTargetArn', { invalid: type });
    if (triggerName === undefined || triggerName === '') throw new ApiError(type, `${where}.triggerName is required`);
    if (triggerTargetArn === undefined || !(/^arn:\S+$/.test(triggerTargetArn) || isWebhookUrl(triggerTargetArn))) {
      throw new ApiError(type, `${where}.triggerTargetArn must be an SNS topic ARN or an http:// or https:// webhook URL, got ${JSON.stringify(triggerTargetArn ?? null)}`);
    }
    const triggerEvents = stringList(o, 'triggerEvents', type) ?? [];
    const bad = triggerEvents.find((e) => !TRIGGER_EVENTS.includes(e));
    if (bad !== undefined) throw new ApiError(type, `${where}.triggerEvents: ${JSON.stringify(bad)} is not a trigger event type`);
    return { triggerName, triggerTargetArn, triggerEvents };
  });
  const names = triggers.map((t) => t.triggerName);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ApiError(type, `triggerConfigurations names ${JSON.stringify(dup)} more than once`);
  return triggers;
}

function deploymentStyle(input: Input, platform: ComputePlatform): Input | undefined {
  const type = 'InvalidDeploymentStyleException';
  const o = optionalObject(input, 'deploymentStyle', type);
  if (o === undefined) return undefined;
  const base = defaultStyle(platform);
  const deploymentType = optionalString(o, 'deploymentType', { invalid: type }) ?? base.deploymentType;
  const deploymentOption = optionalString(o, 'deploymentOption', { invalid: type }) ?? base.deploymentOption;
  if (deploymentType !== 'IN_PLACE' && deploymentType !== 'BLUE_GREEN') throw new ApiError(type, `deploymentStyle.deploymentType must be IN_PLACE or BLUE_GREEN, got ${JSON.stringify(deploymentType)}`);
  if (deploymentOption !== 'WITH_TRAFFIC_CONTROL' && deploymentOption !== 'WITHOUT_TRAFFIC_CONTROL') {
    throw new ApiError(type, `deploymentStyle.deploymentOption must be WITH_TRAFFIC_CONTROL or WITHOUT_TRAFFIC_CONTROL, got ${JSON.stringify(deploymentOption)}`);
  }
  if (platform !== 'Server' && (deploymentType !== 'BLUE_GREEN' || deploymentOption !== 'WITH_TRAFFIC_CONTROL')) {
    throw new ApiError(type, `${platform} deployment groups use BLUE_GREEN with WITH_TRAFFIC_CONTROL`);
  }
  return { deploymentType, deploymentOption };
}

/** GroupChanges are the parsed fields of a Create or Update request; absent keys leave a field as it is. */
interface GroupChanges {
  deploymentConfigName?: string;
  serviceRoleArn?: string;
  onPremisesInstanceTagFilters?: TagFilter[];
  onPremisesTagSet?: TagFilter[][];
  extra: Record<string, unknown>;
}

/** parseGroupFields reads every optional group field that is present; one place for Create and Update. */
function parseGroupFields(input: Input, platform: ComputePlatform): GroupChanges {
  const extra: Record<string, unknown> = {};
  const changes: GroupChanges = { extra };

  const config = optionalString(input, 'deploymentConfigName', { invalid: 'InvalidDeploymentConfigNameException', max: 100 });
  if (config !== undefined && config !== '') changes.deploymentConfigName = config;
  const role = optionalString(input, 'serviceRoleArn', { invalid: 'InvalidRoleException', max: 2048 });
  if (role !== undefined && role !== '') {
    if (!ROLE_ARN.test(role)) throw new ApiError('InvalidRoleException', `serviceRoleArn ${JSON.stringify(role)} is not an ARN`);
    changes.serviceRoleArn = role;
  }

  const filters = parseTagFilters(input.onPremisesInstanceTagFilters, 'onPremisesInstanceTagFilters', 'InvalidTagException');
  const tagSet = tagSetList(input, 'onPremisesTagSet', 'onPremisesTagSetList', 'InvalidTagException');
  if (filters !== undefined) changes.onPremisesInstanceTagFilters = filters;
  if (tagSet !== undefined) changes.onPremisesTagSet = tagSet;

  const ec2Filters = parseTagFilters(input.ec2TagFilters, 'ec2TagFilters', 'InvalidEC2TagException');
  const ec2Set = tagSetList(input, 'ec2TagSet', 'ec2TagSetList', 'InvalidEC2TagException');
  const ec2Problem = checkSelector(ec2Filters, ec2Set);
  if (ec2Problem !== undefined) {
    const type = ec2Problem.type === 'InvalidOnPremisesTagCombinationException' ? 'InvalidEC2TagCombinationException' : ec2Problem.type === 'InvalidTagException' ? 'InvalidEC2TagException' : ec2Problem.type;
    throw new ApiError(type, ec2Problem.message.replace('onPremisesInstanceTagFilters and onPremisesTagSet', 'ec2TagFilters and ec2TagSet').replace('onPremisesTagSet', 'ec2TagSet'));
  }
  if (ec2Filters !== undefined) extra.ec2TagFilters = ec2Filters;
  if (ec2Set !== undefined) extra.ec2TagSet = { ec2TagSetList: ec2Set };

  const asgs = stringList(input, 'autoScalingGroups', 'InvalidAutoScalingGroupException');
  if (asgs !== undefined && asgs.length > 0) throw new ApiError('InvalidAutoScalingGroupException', `Auto Scaling groups are EC2's; this coordinator deploys to on-premises instances only (got ${asgs.join(', ')})`);

  const alarms = alarmConfiguration(input);
  if (alarms !== undefined) extra.alarmConfiguration = alarms;
  const rollback = autoRollbackConfiguration(input);
  if (rollback !== undefined) extra.autoRollbackConfiguration = rollback;
  const triggers = triggerConfigurations(input);
  if (triggers !== undefined) extra.triggerConfigurations = triggers;
  const style = deploymentStyle(input, platform);
  if (style !== undefined) extra.deploymentStyle = style;

  const outdated = optionalString(input, 'outdatedInstancesStrategy', { invalid: 'InvalidInputException' });
  if (outdated !== undefined) {
    if (outdated !== 'UPDATE' && outdated !== 'IGNORE') throw new ApiError('InvalidInputException', `outdatedInstancesStrategy must be UPDATE or IGNORE, got ${JSON.stringify(outdated)}`);
    extra.outdatedInstancesStrategy = outdated;
  }
  const hook = optionalBoolean(input, 'terminationHookEnabled', 'InvalidInputException');
  if (hook !== undefined) extra.terminationHookEnabled = hook;
  const blueGreen = optionalObject(input, 'blueGreenDeploymentConfiguration', 'InvalidBlueGreenDeploymentConfigurationException');
  if (blueGreen !== undefined) extra.blueGreenDeploymentConfiguration = blueGreen;
  const loadBalancer = optionalObject(input, 'loadBalancerInfo', 'InvalidLoadBalancerInfoException');
  if (loadBalancer !== undefined) extra.loadBalancerInfo = loadBalancer;
  const ecs = optionalArray(input, 'ecsServices', 'InvalidECSServiceException');
  if (ecs !== undefined) extra.ecsServices = ecs;
  // fleetdeploy's extension; null removes the windows (an undefined value drops out of the stored JSON).
  const windows = windowPolicyField(input);
  if (windows !== undefined) extra.deploymentWindows = windows ?? undefined;
  // fleetdeploy's extension too: guided failure.
  const onFailure = onInstanceFailureField(input, platform);
  if (onFailure !== undefined) extra.onInstanceFailure = onFailure;
  return changes;
}

/** checkGroup validates a group as it would be stored: targeting and configuration. */
async function checkGroup(store: AsyncStore, group: DeploymentGroupRecord, platform: ComputePlatform): Promise<void> {
  const problem = checkSelector(group.onPremisesInstanceTagFilters, group.onPremisesTagSet);
  if (problem !== undefined) throw new ApiError(problem.type, problem.message);
  const config = await resolveDeploymentConfig(store, group.deploymentConfigName);
  if (config.computePlatform !== platform) {
    throw new ApiError('InvalidDeploymentConfigNameException', `${group.deploymentConfigName} is a ${config.computePlatform} configuration; application ${group.applicationName} deploys to ${platform}`);
  }
  if (platform === 'ECS') ecsGroupSetup(group.extra);
  if (platform === 'Server') checkServerRouting(serverGroupStyle(group.extra), group.deploymentConfigName, config.trafficRoutingConfig);
}

function defaultConfig(platform: ComputePlatform): string {
  return platform === 'Server' ? DEFAULT_SERVER_CONFIG : `CodeDeployDefault.${platform}AllAtOnce`;
}

/** deploymentGroupOperations are the deployment group operations of the CodeDeploy API. */
export const deploymentGroupOperations = {
  async CreateDeploymentGroup(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const name = groupNameField(input);
    const app = await requireApplication(ctx.store, appName);
    const changes = parseGroupFields(input, app.computePlatform);
    if (changes.serviceRoleArn === undefined) throw new ApiError('RoleRequiredException', 'serviceRoleArn is required');
    const tags = parseResourceTags(input.tags, 'tags');
    const group: DeploymentGroupRecord = {
      applicationName: appName,
      deploymentGroupId: newUuid(),
      deploymentGroupName: name,
      deploymentConfigName: changes.deploymentConfigName ?? defaultConfig(app.computePlatform),
      serviceRoleArn: changes.serviceRoleArn,
      onPremisesInstanceTagFilters: changes.onPremisesInstanceTagFilters ?? [],
      onPremisesTagSet: changes.onPremisesTagSet ?? [],
      extra: changes.extra,
    };
    const out = await ctx.store.transaction(async (tx) => {
      await requireApplication(tx, appName);
      await checkGroup(tx, group, app.computePlatform);
      if ((await tx.getGroup(appName, name)) !== undefined) throw new ApiError('DeploymentGroupAlreadyExistsException', `A deployment group named ${name} already exists in application ${appName}`);
      if ((await tx.listGroups(appName)).length >= MAX_GROUPS_PER_APPLICATION) {
        throw new ApiError('DeploymentGroupLimitExceededException', `application ${appName} already has ${MAX_GROUPS_PER_APPLICATION} deployment groups, the most allowed`);
      }
      await tx.putGroup(group);
      if (tags.length > 0) await tx.putResourceTags(group.deploymentGroupId, tags);
      return { deploymentGroupId: group.deploymentGroupId };
    });
    ctx.engine.fleetChanged();
    return out;
  },

  async GetDeploymentGroup(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const name = groupNameField(input);
    const app = await requireApplication(ctx.store, appName);
    return { deploymentGroupInfo: deploymentGroupInfo(await requireGroup(ctx.store, appName, name), app.computePlatform) };
  },

  async BatchGetDeploymentGroups(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const names = stringList(input, 'deploymentGroupNames', 'InvalidDeploymentGroupNameException');
    if (names === undefined || names.length === 0) throw new ApiError('DeploymentGroupNameRequiredException', 'deploymentGroupNames is required');
    if (names.length > MAX_BATCH_GROUPS) throw new ApiError('BatchLimitExceededException', `at most ${MAX_BATCH_GROUPS} deploymentGroupNames per call, got ${names.length}`);
    names.forEach((n, i) => groupNameField({ [`deploymentGroupNames[${i}]`]: n }, `deploymentGroupNames[${i}]`));
    const app = await requireApplication(ctx.store, appName);
    const found: ReturnType<typeof deploymentGroupInfo>[] = [];
    const missing: string[] = [];
    for (const n of [...new Set(names)]) {
      const g = await ctx.store.getGroup(appName, n);
      if (g === undefined) missing.push(n);
      else found.push(deploymentGroupInfo(g, app.computePlatform));
    }
    return { deploymentGroupsInfo: found, errorMessage: missing.length > 0 ? `No deployment group found for names: ${missing.join(', ')}` : undefined };
  },

  async ListDeploymentGroups(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    await requireApplication(ctx.store, appName);
    const { items, nextToken } = page((await ctx.store.listGroups(appName)).map((g) => g.deploymentGroupName), pageStart(input), 100);
    return { applicationName: appName, deploymentGroups: items, nextToken };
  },

  async UpdateDeploymentGroup(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const current = groupNameField(input, 'currentDeploymentGroupName');
    const newName = input.newDeploymentGroupName === undefined || input.newDeploymentGroupName === null || input.newDeploymentGroupName === '' ? undefined : groupNameField(input, 'newDeploymentGroupName');
    const app = await requireApplication(ctx.store, appName);
    const changes = parseGroupFields(input, app.computePlatform);
    await ctx.store.transaction(async (tx) => {
      const old = await requireGroup(tx, appName, current);
      const updated: DeploymentGroupRecord = {
        ...old,
        deploymentGroupName: newName ?? old.deploymentGroupName,
        deploymentConfigName: changes.deploymentConfigName ?? old.deploymentConfigName,
        serviceRoleArn: changes.serviceRoleArn ?? old.serviceRoleArn,
        onPremisesInstanceTagFilters: changes.onPremisesInstanceTagFilters ?? old.onPremisesInstanceTagFilters,
        onPremisesTagSet: changes.onPremisesTagSet ?? old.onPremisesTagSet,
        extra: { ...old.extra, ...changes.extra },
      };
      await checkGroup(tx, updated, app.computePlatform);
      if (newName !== undefined && newName !== current) {
        if ((await tx.getGroup(appName, newName)) !== undefined) throw new ApiError('DeploymentGroupAlreadyExistsException', `A deployment group named ${newName} already exists in application ${appName}`);
        for (const r of await tx.listRevisions(appName)) {
          if (r.deploymentGroups.includes(current)) await tx.putRevision({ ...r, deploymentGroups: r.deploymentGroups.map((g) => (g === current ? newName : g)) });
        }
      }
      await tx.putGroup(updated);
    });
    ctx.engine.fleetChanged();
    return { hooksNotCleanedUp: [] };
  },

  async DeleteDeploymentGroup(input: Input, ctx: ApiContext) {
    const appName = applicationNameField(input);
    const name = groupNameField(input);
    const deleted = await ctx.store.transaction(async (tx) => {
      // CodeDeploy lists no "does not exist" error here: deleting a missing group (or one of a missing application) succeeds.
      const group = await tx.getGroup(appName, name);
      if (group === undefined) return false;
      const active = (await tx.activeDeployments()).find((d) => d.deploymentGroupId === group.deploymentGroupId);
      if (active !== undefined) throw new ApiError('InvalidOperationException', `deployment ${active.deploymentId} of ${name} has not finished; stop it before deleting the group`);
      await tx.putResourceTags(group.deploymentGroupId, []);
      await tx.deleteGroup(appName, name);
      return true;
    });
    if (deleted) ctx.engine.fleetChanged();
    return { hooksNotCleanedUp: [] };
  },
};
