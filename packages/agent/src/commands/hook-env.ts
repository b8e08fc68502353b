import { shortDeploymentId } from '@fleetdeploy/shared';
import type { DeploymentSpec } from '@fleetdeploy/shared';

/**
 * hookEnvironment is what every hook script sees besides the agent's own environment. BUNDLE_*
 * variables describe the revision; one whose value is unknown is left unset, never set empty, so
 * scripts can test `${BUNDLE_VERSION+x}` as they can under the AWS agent.
 */
export function hookEnvironment(event: string, spec: DeploymentSpec): Record<string, string> {
  const env: Record<string, string> = {
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
