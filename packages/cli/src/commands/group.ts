/**
 * `fleetdeploy group create|list`: deployment groups, with their targeting, configuration,
 * rollback, alarms and triggers as flags. The service role is filled with a harmless ARN: CodeDeploy
 * requires one, and the coordinator checks only that it looks like an ARN.
 */
import { BatchGetDeploymentGroupsCommand, CreateDeploymentGroupCommand, GetDeploymentGroupCommand, paginateListDeploymentGroups } from '@aws-sdk/client-codedeploy';
import type { CreateDeploymentGroupCommandInput, DeploymentGroupInfo, TagFilter } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { parseAutoRollback, parseTrigger } from '../flags/group-policy.js';
import { formatTagFilter, parseTagFilter } from '../flags/tags.js';
import type { OutputFormat } from '../output/format.js';
import { jsonDocument } from '../output/format.js';
import { formatTable } from '../output/table.js';
import { callFleetApi } from '../fleet/fleet-api.js';
import { describeOnFailure, onFailureMode } from './resolve.js';

/** DEFAULT_SERVICE_ROLE_ARN stands in for the IAM role CodeDeploy requires and a coordinator never uses. */
export const DEFAULT_SERVICE_ROLE_ARN = 'arn:aws:iam::000000000000:role/fleetdeploy';

/** BATCH_GROUPS is how many names one BatchGetDeploymentGroups call takes. */
const BATCH_GROUPS = 25;

/** RawGroupCreateOptions are the option values commander collects for `group create`. */
export interface RawGroupCreateOptions {
  application: string;
  tag?: string[];
  config?: string;
  autoRollback?: string[];
  alarm?: string[];
  ignoreAlarmPollFailure?: boolean;
  trigger?: string[];
  serviceRoleArn?: string;
  onInstanceFailure?: string;
}

/** groupRequest turns the flags into a CreateDeploymentGroup request, or throws a USAGE error naming the flag. */
export function groupRequest(name: string, opts: RawGroupCreateOptions): CreateDeploymentGroupCommandInput {
  const filters = (opts.tag ?? []).map(parseTagFilter);
  const triggers = (opts.trigger ?? []).map(parseTrigger);
  const rollback = opts.autoRollback ?? [];
  const alarms = opts.alarm ?? [];
  return {
    applicationName: opts.application,
    deploymentGroupName: name,
    serviceRoleArn: opts.serviceRoleArn ?? DEFAULT_SERVICE_ROLE_ARN,
    ...(filters.length > 0 ? { onPremisesInstanceTagFilters: filters } : {}),
    ...(opts.config === undefined ? {} : { deploymentConfigName: opts.config }),
    ...(rollback.length > 0 ? { autoRollbackConfiguration: parseAutoRollback(rollback) } : {}),
    ...(alarms.length > 0 ? { alarmConfiguration: { enabled: true, ignorePollAlarmFailure: opts.ignoreAlarmPollFailure ?? false, alarms: alarms.map((a) => ({ name: a })) } } : {}),
    ...(triggers.length > 0 ? { triggerConfigurations: triggers } : {}),
  };
}

/** runGroupCreate creates the group, then prints it as the coordinator stored it (defaults filled in). */
export async function runGroupCreate(aws: AwsContext, name: string, opts: RawGroupCreateOptions, line: (text: string) => void): Promise<number> {
  const request = groupRequest(name, opts);
  const onFailure = opts.onInstanceFailure === undefined ? undefined : onFailureMode(opts.onInstanceFailure);
  const where = `${opts.application}/${name}`;
  const created = await callApi(`CreateDeploymentGroup ${where}`, aws.endpoint, () => aws.codedeploy.send(new CreateDeploymentGroupCommand(request)));
  // The SDK drops fields CodeDeploy does not have: fleetdeploy's own operation sets this one.
  if (onFailure !== undefined) await callFleetApi(aws, 'SetOnInstanceFailure', { applicationName: opts.application, deploymentGroupName: name, onInstanceFailure: onFailure });
  const got = await callApi(`GetDeploymentGroup ${where}`, aws.endpoint, () => aws.codedeploy.send(new GetDeploymentGroupCommand({ applicationName: opts.application, deploymentGroupName: name })));
  const g = got.deploymentGroupInfo ?? {};
  line(`Created deployment group ${name} in ${opts.application} (id ${created.deploymentGroupId ?? '?'}).`);
  const lambda = g.computePlatform === 'Lambda';
  if (!lambda) line(`  instances:  ${targetsOf(g) === '-' ? 'none (no --tag given)' : `tagged ${targetsOf(g)}`}`);
  line(`  config:     ${g.deploymentConfigName ?? '?'}`);
  line(`  rollback:   ${rollbackOf(g) === '-' ? 'off' : `on ${rollbackOf(g)}`}`);
  if (alarmsOf(g) !== '-') line(`  alarms:     ${alarmsOf(g)}${g.alarmConfiguration?.ignorePollAlarmFailure ? ' (poll failures ignored)' : ''}`);
  for (const t of g.triggerConfigurations ?? []) line(`  trigger:    ${t.triggerName ?? '?'} → ${t.triggerTargetArn ?? '?'} on ${(t.triggerEvents ?? []).join(', ')}`);
  if (onFailure !== undefined) line(`  on failure: ${onFailure}: ${describeOnFailure(onFailure)}`);
  if (lambda) line(`Deploy to it: fleetdeploy deploy -a ${opts.application} -g ${name} --appspec appspec.yml --watch`);
  else line(`Deploy to it: fleetdeploy deploy -a ${opts.application} -g ${name} --bundle DIR --watch`);
  return 0;
}

/** listGroupNames is every deployment group name of an application (ApplicationDoesNotExistException for an unknown one). */
export async function listGroupNames(aws: AwsContext, applicationName: string): Promise<string[]> {
  return callApi(`ListDeploymentGroups ${applicationName}`, aws.endpoint, async () => {
    const all: string[] = [];
    for await (const page of paginateListDeploymentGroups({ client: aws.codedeploy }, { applicationName })) all.push(...(page.deploymentGroups ?? []));
    return all;
  });
}

/** runGroupList prints an application's groups: targeting, configuration, rollback, alarms, triggers, last deployment. */
export async function runGroupList(aws: AwsContext, applicationName: string, output: OutputFormat, line: (text: string) => void): Promise<number> {
  const names = await listGroupNames(aws, applicationName);
  const groups: DeploymentGroupInfo[] = [];
  for (let i = 0; i < names.length; i += BATCH_GROUPS) {
    const batch = await callApi('BatchGetDeploymentGroups', aws.endpoint, () =>
      aws.codedeploy.send(new BatchGetDeploymentGroupsCommand({ applicationName, deploymentGroupNames: names.slice(i, i + BATCH_GROUPS) })),
    );
    groups.push(...(batch.deploymentGroupsInfo ?? []));
  }
  groups.sort((a, b) => (a.deploymentGroupName ?? '').localeCompare(b.deploymentGroupName ?? ''));
  if (output === 'json') {
    line(jsonDocument({ applicationName, deploymentGroups: groups }));
    return 0;
  }
  if (groups.length === 0) {
    line(`No deployment groups in ${applicationName} yet: create one with fleetdeploy group create -a ${applicationName} NAME --tag KEY=VALUE`);
    return 0;
  }
  formatTable(
    ['NAME', 'CONFIG', 'INSTANCES', 'ROLLBACK', 'ALARMS', 'TRIGGERS', 'LAST DEPLOYMENT'],
    groups.map((g) => [
      g.deploymentGroupName ?? '?',
      g.deploymentConfigName ?? '?',
      targetsOf(g),
      rollbackOf(g),
      alarmsOf(g),
      (g.triggerConfigurations ?? []).map((t) => t.triggerName ?? '?').join(',') || '-',
      g.lastAttemptedDeployment?.deploymentId ? `${g.lastAttemptedDeployment.deploymentId} ${g.lastAttemptedDeployment.status ?? ''}` : '-',
    ]),
  ).forEach(line);
  return 0;
}

/**
 * targetsOf is a group's instance selection as flags are written: filters are ORed
 * (`role=web|canary`); a tag set ANDs its groups (`(role=web|canary)&(env=prod)`); `-` for none.
 */
function targetsOf(g: DeploymentGroupInfo): string {
  const any = (filters: readonly TagFilter[]): string => filters.map(formatTagFilter).join('|');
  const filters = g.onPremisesInstanceTagFilters ?? [];
  if (filters.length > 0) return any(filters);
  const set = g.onPremisesTagSet?.onPremisesTagSetList ?? [];
  if (set.length > 0) return set.map((f) => `(${any(f)})`).join('&');
  return '-';
}

function rollbackOf(g: DeploymentGroupInfo): string {
  return g.autoRollbackConfiguration?.enabled ? (g.autoRollbackConfiguration.events ?? []).join(',') : '-';
}

function alarmsOf(g: DeploymentGroupInfo): string {
  return g.alarmConfiguration?.enabled ? (g.alarmConfiguration.alarms ?? []).map((a) => a.name ?? '?').join(',') : '-';
}
