/**
 * The Lambda router: moves an alias's traffic from CurrentVersion to TargetVersion with the alias's
 * RoutingConfig.AdditionalVersionWeights, as CodeDeploy does, and invokes hook functions
 * asynchronously. The client is configured as every AWS SDK client is, from the coordinator's
 * environment and shared files (AWS_REGION, credentials, AWS_ENDPOINT_URL_LAMBDA or AWS_ENDPOINT_URL).
 *
 *   weight  0 < w < 100 : alias → CurrentVersion, AdditionalVersionWeights {TargetVersion: w/100}
 *   weight 100          : alias → TargetVersion, no additional weights
 *   rollback            : alias → CurrentVersion, no additional weights
 */
import { GetAliasCommand, InvokeCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import type { LambdaDeploymentSpec } from '../store/records.js';
import type { TrafficRouter } from '../deployment/traffic/router.js';
import { RouterError } from '../deployment/traffic/router.js';
import { describeAwsError } from '../aws-error.js';

const CONNECTION_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * lazyLambdaClient gives the one client the coordinator's Lambda routers share, made from the
 * environment on first use: a coordinator that never deploys to Lambda never resolves AWS settings.
 */
export function lazyLambdaClient(): () => LambdaClient {
  let client: LambdaClient | undefined;
  return () => (client ??= new LambdaClient({ requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS } }));
}

/** createLambdaRouter builds the router of one Lambda deployment. */
export function createLambdaRouter(client: LambdaClient, spec: LambdaDeploymentSpec): TrafficRouter {
  const { functionName, alias, currentVersion, targetVersion } = spec;
  const where = `alias ${alias} of Lambda function ${functionName}`;

  async function update(version: string, weights: Record<string, number>): Promise<void> {
    try {
      await client.send(new UpdateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: weights } }));
    } catch (err) {
      throw new RouterError(notFound(err) ? 'INVALID_LAMBDA_FUNCTION' : 'INVALID_LAMBDA_CONFIGURATION', `Could not update the ${where}: ${describeAwsError(err)}`);
    }
  }

  return {
    async check() {
      let got;
      try {
        got = await client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
      } catch (err) {
        throw new RouterError(notFound(err) ? 'INVALID_LAMBDA_FUNCTION' : 'INVALID_LAMBDA_CONFIGURATION', `Could not read the ${where}: ${describeAwsError(err)}`);
      }
      if (got.FunctionVersion !== currentVersion) {
        throw new RouterError('INVALID_LAMBDA_CONFIGURATION', `The AppSpec's CurrentVersion is ${currentVersion}, but the ${where} points to version ${got.FunctionVersion ?? '(none)'}`);
      }
      const extra = Object.keys(got.RoutingConfig?.AdditionalVersionWeights ?? {});
      if (extra.length > 0 && !(extra.length === 1 && extra[0] === targetVersion)) {
        throw new RouterError('INVALID_LAMBDA_CONFIGURATION', `The ${where} already routes traffic to version(s) ${extra.join(', ')}; another deployment may be shifting it`);
      }
    },
    shift(weight) {
      return weight >= 100 ? update(targetVersion, {}) : update(currentVersion, { [targetVersion]: weight / 100 });
    },
    rollback() {
      return update(currentVersion, {});
    },
    invokeHook: (hookFunction, payload) => invokeHookFunction(client, hookFunction, payload),
  };
}

/** invokeHookFunction starts a validation function asynchronously (InvocationType Event), as CodeDeploy does for Lambda and ECS hooks. */
export async function invokeHookFunction(client: LambdaClient, hookFunction: string, payload: { DeploymentId: string; LifecycleEventHookExecutionId: string }): Promise<void> {
  try {
    await client.send(new InvokeCommand({ FunctionName: hookFunction, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(payload)) }));
  } catch (err) {
    throw new RouterError('HOOK_EXECUTION_FAILURE', `Could not invoke the hook function ${hookFunction}: ${describeAwsError(err)}`);
  }
}

function notFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'ResourceNotFoundException';
}
