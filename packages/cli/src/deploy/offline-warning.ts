/**
 * Warning, right after CreateDeployment, about target instances whose agent is not connected: their
 * lifecycle events wait (Pending) until the agent connects or the pick-up timeout fails them. The
 * coordinator names them in the new deployment's status messages; each becomes a `WARNING:` line.
 */
import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callApi } from '../aws-failure.js';
import { snapshotWaitingLines } from '../watch/agent-waiting.js';

/** offlineWarnings are the `WARNING: ...` lines for a just-created deployment's offline targets (none when all are connected). */
export async function offlineWarnings(aws: AwsContext, deploymentId: string): Promise<string[]> {
  const info = await callApi(`GetDeployment ${deploymentId}`, aws.endpoint, () => aws.codedeploy.send(new GetDeploymentCommand({ deploymentId })));
  return snapshotWaitingLines(info.deploymentInfo?.deploymentStatusMessages).map((m) => `WARNING: ${m}`);
}
