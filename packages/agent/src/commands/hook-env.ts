import { DESTINATION_ROOT_ENV, shortDeploymentId } from '@fleetdeploy/shared';
import type { DeploymentSpec } from '@fleetdeploy/shared';
import type { HookEnv } from '../hooks/run-script.js';

/**
 * hookEnvironment is what every hook script sees besides the agent's own environment. BUNDLE_*
 * variables describe the revision; one whose value is unknown is left unset, never set empty, so
 * scripts can test `${BUNDLE_VERSION+x}` as they can under the AWS agent. FLEETDEPLOY_DESTINATION_ROOT
 * is the agent's `destination_root`, and is removed from what the agent inherited when it has none, so
 * a script never sees a folder its files were not installed under.
 */
export function hookEnvironment(event: string, spec: DeploymentSpec, destinationRoot?: string): HookEnv {
  const env: HookEnv = {
    [DESTINATION_ROOT_ENV]: destinationRoot,
    LIFECYCLE_EVENT: event,
    DEPLOYMENT_ID: shortDeploymentId(spec.deploymentId),
    APPLICATION_NAME: spec.applicationName,
    DEPLOYMENT_GROUP_NAME: spec.deploymentGroupName,
    DEPLOYMENT_GROUP_ID: spec.deploymentGroupId,
  };
  const rev = spec.revision;
  if (rev.type === 'S3') {
    env.BUNDLE_BUCKET = rev.bucket;
    env.BUNDLE_KEY = rev.key;
    if (rev.version) env.BUNDLE_VERSION = rev.version;
    if (rev.etag) env.BUNDLE_ETAG = rev.etag;
  } else if (rev.type === 'GitHub') {
    env.BUNDLE_COMMIT = rev.commitId;
  }
  return env;
}
