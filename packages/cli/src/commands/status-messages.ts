/**
 * The deployment's status messages in `fleetdeploy status ID`: while it runs, the coordinator says
 * there which instances wait for an offline agent, e.g.
 * `  waiting for the agent of web-01 (offline since 2026-12-06T23:50:01Z) to start ApplicationStop`.
 */
import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';

/** statusMessageLines are the deployment's status messages, one indented line each. */
export function statusMessageLines(d: DeploymentInfo): string[] {
  return (d.deploymentStatusMessages ?? []).map((m) => `  ${m}`);
}
