/**
 * `fleetdeploy stop`: StopDeployment, optionally rolling back to the last good revision.
 */
import { StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';

/** runStop asks the coordinator to stop a deployment and prints its answer; resolves with the exit code. */
export async function runStop(aws: AwsContext, deploymentId: string, rollback: boolean, line: (text: string) => void): Promise<number> {
  const out = await callApi(`StopDeployment ${deploymentId}`, aws.endpoint, () => aws.codedeploy.send(new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: rollback })));
  line(`Stopping ${deploymentId}: ${out.status ?? 'Pending'}${out.statusMessage ? ` (${out.statusMessage})` : ''}`);
  line(rollback ? `Once stopped, a rollback deployment redeploys the last successful revision; fleetdeploy status ${deploymentId} names it.` : `fleetdeploy status ${deploymentId} shows where it stopped.`);
  return 0;
}
