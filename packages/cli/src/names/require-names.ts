/**
 * Checking the names a command was given (application, deployment group, deployment configuration)
 * before it does anything that leaves a trace, such as uploading a bundle; an unknown name fails with
 * one line that keeps the AWS exception and suggests the nearest existing name.
 */
import {
  GetApplicationCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  paginateListApplications,
  paginateListDeploymentConfigs,
} from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { listGroupNames } from '../commands/group.js';
import { closestName } from './closest-name.js';

/** requireApplication fails with a suggestion when no application is called `name`. */
export async function requireApplication(aws: AwsContext, name: string): Promise<void> {
  await ifMissing(aws, `GetApplication ${name}`, 'ApplicationDoesNotExistException', () => aws.codedeploy.send(new GetApplicationCommand({ applicationName: name })), async () => {
    const names = await listAll(aws, 'ListApplications', async function* () {
      for await (const page of paginateListApplications({ client: aws.codedeploy }, {})) yield page.applications ?? [];
    });
    return unknownName(`application ${name} does not exist (ApplicationDoesNotExistException)`, name, names, 'fleetdeploy app list shows the applications');
  });
}

/** requireGroup fails with a suggestion when `application` has no deployment group called `name`. */
export async function requireGroup(aws: AwsContext, application: string, name: string): Promise<void> {
  await ifMissing(aws, `GetDeploymentGroup ${application}/${name}`, 'DeploymentGroupDoesNotExistException', () => aws.codedeploy.send(new GetDeploymentGroupCommand({ applicationName: application, deploymentGroupName: name })), async () =>
    unknownName(`deployment group ${name} of ${application} does not exist (DeploymentGroupDoesNotExistException)`, name, await listGroupNames(aws, application), `fleetdeploy group list -a ${application} shows its groups`),
  );
}

/** requireDeploymentConfig fails with a suggestion when no deployment configuration is called `name`. */
export async function requireDeploymentConfig(aws: AwsContext, name: string): Promise<void> {
  await ifMissing(aws, `GetDeploymentConfig ${name}`, 'DeploymentConfigDoesNotExistException', () => aws.codedeploy.send(new GetDeploymentConfigCommand({ deploymentConfigName: name })), async () => {
    const names = await listAll(aws, 'ListDeploymentConfigs', async function* () {
      for await (const page of paginateListDeploymentConfigs({ client: aws.codedeploy }, {})) yield page.deploymentConfigsList ?? [];
    });
    return unknownName(`deployment configuration ${name} does not exist (DeploymentConfigDoesNotExistException)`, name, names, `the configurations are ${names.join(', ')}`);
  });
}

/** listAll gathers every page of names that `pages` yields. */
async function listAll(aws: AwsContext, call: string, pages: () => AsyncIterable<string[]>): Promise<string[]> {
  return callApi(call, aws.endpoint, async () => {
    const all: string[] = [];
    for await (const names of pages()) all.push(...names);
    return all;
  });
}

/** ifMissing runs `get`; when it fails with `missing`, throws what `explain` makes instead (other failures as callApi explains them). */
async function ifMissing(aws: AwsContext, call: string, missing: string, get: () => Promise<unknown>, explain: () => Promise<CliError>): Promise<void> {
  try {
    await get();
  } catch (err) {
    if ((err as { name?: string }).name === missing) throw await explain();
    await callApi(call, aws.endpoint, () => Promise.reject(err));
  }
}

/** unknownName is `what`, then "did you mean X?" when an existing name is near, else `otherwise`. */
export function unknownName(what: string, typed: string, existing: readonly string[], otherwise: string): CliError {
  const near = closestName(typed, existing);
  return new CliError(CliErrorCode.API_FAILED, `${what}: ${near === undefined ? otherwise : `did you mean ${near}?`}`);
}
