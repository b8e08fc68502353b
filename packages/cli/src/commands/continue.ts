/**
 * `fleetdeploy continue ID`: ContinueDeployment. Without flags it ends a blue/green deployment's wait
 * in Ready (READY_WAIT: the traffic moves to the replacement now); with --termination-wait it ends the
 * wait before the original instances or task set are retired (TERMINATION_WAIT).
 */
import { ContinueDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { DeploymentWaitType } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';

/** ContinueOptions are the flags of `continue`. */
export interface ContinueOptions {
  readonly terminationWait: boolean;
}

/** waitType is the ContinueDeployment wait type the flags ask to end. */
export function waitType(opts: ContinueOptions): DeploymentWaitType {
  return opts.terminationWait ? 'TERMINATION_WAIT' : 'READY_WAIT';
}

/** continuedLine says what happens now that the wait is over. */
export function continuedLine(deploymentId: string, type: DeploymentWaitType): string {
  const what = type === 'READY_WAIT' ? 'the traffic moves to the replacement now' : 'the original is retired now, without waiting out its termination wait';
  return `Continued ${deploymentId}: ${what}; fleetdeploy status ${deploymentId} --watch follows it`;
}

/** runContinue calls ContinueDeployment and says what follows; the coordinator's refusal (e.g. not in Ready) is the error. */
export async function runContinue(aws: AwsContext, deploymentId: string, opts: ContinueOptions, line: (text: string) => void): Promise<number> {
  const type = waitType(opts);
  await callApi(`ContinueDeployment ${deploymentId} ${type}`, aws.endpoint, () => aws.codedeploy.send(new ContinueDeploymentCommand({ deploymentId, deploymentWaitType: type })));
  line(continuedLine(deploymentId, type));
  return 0;
}
