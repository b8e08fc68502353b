/**
 * Lifecycle events of EC2/on-premises deployments, in the order an in-place deployment runs them.
 * `DownloadBundle` and `Install` are performed by the agent itself; the others run AppSpec scripts.
 * `BlockTraffic` and `AllowTraffic` belong to the coordinator and never reach an agent.
 */
export const InPlaceEvents = [
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
  'ApplicationStop',
  'DownloadBundle',
  'BeforeInstall',
  'Install',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

/** LifecycleEvent is one of the default agent-side events; custom event names are plain strings. */
export type LifecycleEvent = (typeof InPlaceEvents)[number];

/** RevisionSource says which revision's AppSpec and scripts a hook runs. */
export type RevisionSource = 'current' | 'lastSuccessfulInstall' | 'mostRecentInstall';

/**
 * hookRevisionSource applies the AWS agent's rule for hooks that run before the current revision is
 * unpacked: ApplicationStop and the block-traffic hooks run the scripts of the group's last successful
 * install; a blue/green rollback swaps the block hooks to the most recent install and the allow hooks
 * to the last successful one. Once the current archive exists every hook uses it (the caller checks).
 */
export function hookRevisionSource(
  event: string,
  opts: { creator?: string; deploymentType?: string } = {},
): RevisionSource {
  const blueGreenRollback = opts.creator === 'codeDeployRollback' && opts.deploymentType === 'BLUE_GREEN';
  switch (event) {
    case 'BeforeBlockTraffic':
    case 'AfterBlockTraffic':
      return blueGreenRollback ? 'mostRecentInstall' : 'lastSuccessfulInstall';
    case 'ApplicationStop':
      return 'lastSuccessfulInstall';
    case 'BeforeAllowTraffic':
    case 'AfterAllowTraffic':
      return blueGreenRollback ? 'lastSuccessfulInstall' : 'current';
    default:
      return 'current';
  }
}

/** Events whose failures `ignoreApplicationStopFailures` forgives. */
export const StopEvents = ['ApplicationStop', 'BeforeBlockTraffic', 'AfterBlockTraffic'] as const;

/**
 * ON_FAILURE_EVENT is fleetdeploy's extra Server hook: the agent runs its scripts on an instance
 * right after a lifecycle event fails there, for cleanup. FAILED_EVENT_ENV names the event that
 * failed, FAILED_ERROR_CODE_ENV its error code. Lambda and ECS AppSpecs refuse it: they have no
 * instance to run it on.
 */
export const ON_FAILURE_EVENT = 'OnFailure';
export const FAILED_EVENT_ENV = 'FLEETDEPLOY_FAILED_EVENT';
export const FAILED_ERROR_CODE_ENV = 'FLEETDEPLOY_FAILED_ERROR_CODE';
