/**
 * `fleetdeploy app create|list|delete`: CodeDeploy applications, without the AWS CLI.
 */
import {
  BatchGetApplicationsCommand,
  CreateApplicationCommand,
  DeleteApplicationCommand,
  GetApplicationCommand,
  paginateListApplications,
} from '@aws-sdk/client-codedeploy';
import type { ApplicationInfo } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { parseComputePlatform } from '../flags/group-policy.js';
import { listGroupNames } from './group.js';
import type { OutputFormat } from '../output/format.js';
import { isoTime, jsonDocument } from '../output/format.js';
import { formatTable } from '../output/table.js';

/** BATCH_APPLICATIONS is how many names one BatchGetApplications call takes. */
const BATCH_APPLICATIONS = 100;

/** runAppCreate creates an application (Server unless `--compute-platform` says otherwise). */
export async function runAppCreate(aws: AwsContext, name: string, platformFlag: string | undefined, line: (text: string) => void): Promise<number> {
  const computePlatform = parseComputePlatform(platformFlag ?? 'Server');
  const out = await callApi(`CreateApplication ${name}`, aws.endpoint, () => aws.codedeploy.send(new CreateApplicationCommand({ applicationName: name, computePlatform })));
  line(`Created application ${name} (${computePlatform}, id ${out.applicationId ?? '?'}).`);
  // a Lambda application's group names no instances: its deployments move a function's alias
  line(computePlatform === 'Lambda' ? `Next: fleetdeploy group create -a ${name} GROUP --config CodeDeployDefault.LambdaCanary10Percent5Minutes` : `Next: fleetdeploy group create -a ${name} GROUP --tag KEY=VALUE`);
  return 0;
}

/** runAppList prints every application: name, compute platform, creation time. */
export async function runAppList(aws: AwsContext, output: OutputFormat, line: (text: string) => void): Promise<number> {
  const names = await callApi('ListApplications', aws.endpoint, async () => {
    const all: string[] = [];
    for await (const page of paginateListApplications({ client: aws.codedeploy }, {})) all.push(...(page.applications ?? []));
    return all;
  });
  const apps: ApplicationInfo[] = [];
  for (let i = 0; i < names.length; i += BATCH_APPLICATIONS) {
    const batch = await callApi('BatchGetApplications', aws.endpoint, () => aws.codedeploy.send(new BatchGetApplicationsCommand({ applicationNames: names.slice(i, i + BATCH_APPLICATIONS) })));
    apps.push(...(batch.applicationsInfo ?? []));
  }
  apps.sort((a, b) => (a.applicationName ?? '').localeCompare(b.applicationName ?? ''));
  if (output === 'json') {
    line(jsonDocument({ applications: apps }));
    return 0;
  }
  if (apps.length === 0) {
    line('No applications yet: create one with fleetdeploy app create NAME');
    return 0;
  }
  formatTable(
    ['NAME', 'PLATFORM', 'CREATED'],
    apps.map((a) => [a.applicationName ?? '?', a.computePlatform ?? '?', isoTime(a.createTime)]),
  ).forEach(line);
  return 0;
}

/**
 * runAppDelete deletes an application with its deployment groups and revision records. CodeDeploy
 * answers a missing name with success; asking first turns a typo into an error instead.
 */
export async function runAppDelete(aws: AwsContext, name: string, line: (text: string) => void): Promise<number> {
  await callApi(`GetApplication ${name}`, aws.endpoint, () => aws.codedeploy.send(new GetApplicationCommand({ applicationName: name })));
  const groups = await listGroupNames(aws, name);
  await callApi(`DeleteApplication ${name}`, aws.endpoint, () => aws.codedeploy.send(new DeleteApplicationCommand({ applicationName: name })));
  line(`Deleted application ${name}${groups.length === 0 ? '' : ` and its deployment group${groups.length === 1 ? '' : 's'} ${groups.join(', ')}`}.`);
  return 0;
}
