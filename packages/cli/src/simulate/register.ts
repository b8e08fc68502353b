/**
 * Registering the simulated hosts through the CodeDeploy API, as an operator registers real ones:
 * RegisterOnPremisesInstance per host, then AddTagsToOnPremisesInstances per tag. A host already
 * registered (a reused --data-dir) is kept as it is and tagged again.
 */
import { AddTagsToOnPremisesInstancesCommand, RegisterOnPremisesInstanceCommand } from '@aws-sdk/client-codedeploy';
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { CliError, CliErrorCode } from '../cli-error.js';
import { SIM_ACCOUNT_ID } from './credentials.js';
import type { SimHost } from './sandbox.js';

/** TAG_BATCH is how many instance names one AddTagsToOnPremisesInstances call carries. */
const TAG_BATCH = 100;

/** registerHosts registers and tags every host; throws API_FAILED naming the call and host. */
export async function registerHosts(codedeploy: CodeDeployClient, hosts: readonly SimHost[]): Promise<void> {
  for (const host of hosts) {
    try {
      await codedeploy.send(new RegisterOnPremisesInstanceCommand({ instanceName: host.name, iamUserArn: `arn:aws:iam::${SIM_ACCOUNT_ID}:user/${host.name}` }));
    } catch (err) {
      if ((err as { name?: string }).name !== 'InstanceNameAlreadyRegisteredException') throw apiFailure(`RegisterOnPremisesInstance ${host.name}`, err);
    }
  }
  // One call per distinct tag, each naming the hosts that carry it.
  const byTag = new Map<string, { tag: { Key: string; Value: string }; names: string[] }>();
  for (const host of hosts) {
    for (const tag of host.tags) {
      const key = `${tag.Key}=${tag.Value}`;
      const entry = byTag.get(key) ?? { tag: { Key: tag.Key, Value: tag.Value }, names: [] };
      entry.names.push(host.name);
      byTag.set(key, entry);
    }
  }
  for (const [key, { tag, names }] of byTag) {
    for (let i = 0; i < names.length; i += TAG_BATCH) {
      try {
        await codedeploy.send(new AddTagsToOnPremisesInstancesCommand({ tags: [tag], instanceNames: names.slice(i, i + TAG_BATCH) }));
      } catch (err) {
        throw apiFailure(`AddTagsToOnPremisesInstances ${key}`, err);
      }
    }
  }
}

/** apiFailure wraps an SDK error as API_FAILED with the call, the error's name and message. */
export function apiFailure(call: string, err: unknown): CliError {
  const e = err as { name?: string; message?: string; code?: string };
  const what = e.code === 'ECONNREFUSED' ? 'the coordinator refused the connection' : `${e.name ?? 'Error'}: ${e.message ?? String(err)}`;
  return new CliError(CliErrorCode.API_FAILED, `${call} failed: ${what}`, { cause: err });
}
