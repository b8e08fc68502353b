/**
 * What `status` and `--watch` add for a Server blue/green deployment: its instances grouped by label
 * (the replacement, Green, before the original, Blue), and where it waits for the operator — in Ready
 * until ContinueDeployment reroutes the traffic, or before the original is retired (the termination
 * wait, for ECS too) — with the command that ends the wait. Pure.
 */
import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';

/** LABEL_GROUPS are the groups in the order shown, each with its heading. */
const LABEL_GROUPS = [
  { label: 'Green', heading: 'replacement (green)' },
  { label: 'Blue', heading: 'original (blue)' },
] as const;

/** LabelGroup is one group of instances under its heading. */
export interface LabelGroup<T> {
  readonly heading: string;
  readonly members: T[];
}

/**
 * groupByLabel splits instances by their label (`label` reads it): the replacement, then the
 * original, then any without a label; undefined when none is labelled (an in-place deployment).
 */
export function groupByLabel<T>(items: readonly T[], label: (t: T) => string | undefined): LabelGroup<T>[] | undefined {
  if (!items.some((t) => label(t) !== undefined)) return undefined;
  const groups: LabelGroup<T>[] = LABEL_GROUPS.map((g) => ({ heading: g.heading, members: items.filter((t) => label(t) === g.label) }));
  const other = items.filter((t) => !LABEL_GROUPS.some((g) => g.label === label(t)));
  if (other.length > 0) groups.push({ heading: 'unlabelled', members: other });
  return groups.filter((g) => g.members.length > 0);
}

/** labelWord is how a watch names an instance's side: `green`, `blue`, or nothing. */
export function labelWord(label: string | undefined): string | undefined {
  return label === 'Green' ? 'green' : label === 'Blue' ? 'blue' : undefined;
}

/** continueCommand is how an operator ends a deployment's wait in Ready. */
export function continueCommand(deploymentId: string): string {
  return `fleetdeploy continue ${deploymentId} (or aws deploy continue-deployment --deployment-id ${deploymentId} --deployment-wait-type READY_WAIT)`;
}

/** readyLine is what a deployment waiting in Ready says: the replacement has no traffic yet, and how to reroute. */
export function readyLine(deploymentId: string): string {
  return `the replacement is installed and has no traffic yet; reroute it now with: ${continueCommand(deploymentId)}`;
}

/**
 * waitLines are `status`'s lines for a deployment that waits on the operator, e.g.
 *   `  waiting in Ready: the replacement is installed and has no traffic yet; reroute it now with: fleetdeploy continue d-…`
 *   `  stops by itself after 60 min in Ready (deploymentReadyOption STOP_DEPLOYMENT)`
 *   `  waiting to retire the original (1 min termination wait); end the wait now with: fleetdeploy continue d-… --termination-wait`
 */
export function waitLines(d: DeploymentInfo): string[] {
  const id = d.deploymentId ?? '?';
  const config = d.blueGreenDeploymentConfiguration;
  const lines: string[] = [];
  if (d.status === 'Ready') {
    lines.push(`  waiting in Ready: ${readyLine(id)}`);
    const ready = config?.deploymentReadyOption;
    if (ready?.actionOnTimeout === 'STOP_DEPLOYMENT' && ready.waitTimeInMinutes !== undefined) lines.push(`  stops by itself after ${ready.waitTimeInMinutes} min in Ready (deploymentReadyOption STOP_DEPLOYMENT)`);
  }
  const ended = d.status === 'Succeeded' || d.status === 'Failed' || d.status === 'Stopped';
  if (d.instanceTerminationWaitTimeStarted === true && !ended) {
    const minutes = config?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes;
    const wait = minutes === undefined ? '' : ` (${minutes} min termination wait)`;
    lines.push(`  waiting to retire the original${wait}; end the wait now with: fleetdeploy continue ${id} --termination-wait`);
  }
  return lines;
}
