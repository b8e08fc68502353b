/**
 * `fleetdeploy instance register NAME [--tag KEY=VALUE]...`: register an on-premises instance
 * (with a stand-in IAM user ARN, which CodeDeploy requires and a coordinator never uses), tag it, and
 * print the commands to run on the host. The one-time enrolment token and the enrolment port come in
 * RegisterOnPremisesInstance's raw response, outside CodeDeploy's model (see raw-json-body.ts).
 */
import { AddTagsToOnPremisesInstancesCommand, RegisterOnPremisesInstanceCommand } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { CliError, CliErrorCode, isCliError } from '../cli-error.js';
import { parseInstanceTag } from '../flags/tags.js';
import { captureRawJsonBody } from '../raw-json-body.js';

/** DEFAULT_AGENT_CONFIG is where the AWS agent, and so the README, keep the agent's configuration. */
export const DEFAULT_AGENT_CONFIG = '/etc/codedeploy-agent/conf/codedeployagent.yml';

/** RawInstanceRegisterOptions are the option values commander collects. */
export interface RawInstanceRegisterOptions {
  tag?: string[];
  iamUserArn?: string;
  agentConfig?: string;
}

/** stand-in IAM user ARN: unique per name, as RegisterOnPremisesInstance requires. */
function standInUserArn(name: string): string {
  return `arn:aws:iam::000000000000:user/${name}`;
}

/** runInstanceRegister registers and tags the instance and prints how to enrol it; resolves with the exit code. */
export async function runInstanceRegister(aws: AwsContext, name: string, opts: RawInstanceRegisterOptions, line: (text: string) => void): Promise<number> {
  const tags = (opts.tag ?? []).map(parseInstanceTag);
  const register = new RegisterOnPremisesInstanceCommand({ instanceName: name, iamUserArn: opts.iamUserArn ?? standInUserArn(name) });
  const raw = captureRawJsonBody(register);
  await callApi(`RegisterOnPremisesInstance ${name}`, aws.endpoint, () => aws.codedeploy.send(register)).catch((err: unknown) => {
    if (isCliError(err) && (err.cause as { name?: string } | undefined)?.name === 'InstanceNameAlreadyRegisteredException') {
      throw new CliError(
        CliErrorCode.API_FAILED,
        `${err.message}; for a new enrolment token run fleetdeploy-coordinator enrol-token --instance ${name} --data-dir DATA_DIR on the coordinator's host, or deregister it first (aws deploy deregister-on-premises-instance --instance-name ${name})`,
        { cause: err },
      );
    }
    throw err;
  });
  if (tags.length > 0) {
    await callApi(`AddTagsToOnPremisesInstances ${name} (registered, not yet tagged)`, aws.endpoint, () =>
      aws.codedeploy.send(new AddTagsToOnPremisesInstancesCommand({ instanceNames: [name], tags })),
    );
  }
  line(`Registered on-premises instance ${name}${tags.length === 0 ? '' : ` with tags ${tags.map((t) => `${t.Key}=${t.Value}`).join(', ')}`}.`);
  enrolInstructions(name, raw.value ?? {}, aws.endpoint, opts.agentConfig ?? DEFAULT_AGENT_CONFIG).forEach(line);
  return 0;
}

/**
 * enrolInstructions are the lines that tell the operator what to run on the host, from the raw
 * RegisterOnPremisesInstance response: the enrolment address is the API endpoint's host (the name
 * the operator reached the coordinator by) with the enrolment port the coordinator reported. An
 * endpoint that answers without a token (not a fleetdeploy coordinator, or an older one) is an
 * error that says how to get a token by hand.
 */
export function enrolInstructions(name: string, response: Record<string, unknown>, endpoint: string, agentConfig: string): string[] {
  const token = response.enrolmentToken;
  const port = response.enrolmentPort;
  if (typeof token !== 'string' || token === '' || typeof port !== 'number') {
    throw new CliError(
      CliErrorCode.API_FAILED,
      `${name} is registered, but ${endpoint} answered without ${typeof token === 'string' && token !== '' ? 'an enrolment port' : 'an enrolment token'}: ` +
        `make a token on the coordinator's host with fleetdeploy-coordinator enrol-token --instance ${name} --data-dir DATA_DIR, ` +
        `and enrol with fleetdeploy-agent enrol --coordinator HOST:ENROL_PORT (its enrol= address)`,
    );
  }
  const address = `${new URL(endpoint).hostname}:${port}`;
  const config = quoteForShell(agentConfig);
  return [
    `On ${name}, with the agent installed and ${agentConfig} naming instance_name: ${name} and coordinator: <this host>:<agents' port>, run:`,
    `  fleetdeploy-agent enrol --coordinator ${address} --token ${token} --config ${config}`,
    `  fleetdeploy-agent run --config ${config}`,
    'The token works once and expires (24 h unless the coordinator sets enrolment_token_ttl_seconds).',
  ];
}

/** quoteForShell leaves plain paths as they are and single-quotes the rest, so a printed line pastes as is. */
function quoteForShell(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}
