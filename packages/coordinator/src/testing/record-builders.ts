/**
 * Stored records for tests that need one the API cannot make yet (a deployment in some state):
 * complete, valid defaults that a test overrides field by field.
 */
import type { DeploymentGroupRecord, DeploymentRecord } from '../store/records.js';

/** deploymentRecord is an unfinished Server deployment of group `g` of application `app`; override what the test is about. */
export function deploymentRecord(over: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    deploymentId: 'd-ACTIVE001',
    applicationName: 'app',
    deploymentGroupName: 'g',
    deploymentGroupId: 'gid',
    deploymentConfigName: 'CodeDeployDefault.OneAtATime',
    minimumHealthyHosts: { type: 'MOST_CONCURRENCY', value: 1 },
    revision: { revisionType: 'S3', s3Location: { bucket: 'bucket-1', key: 'k', bundleType: 'zip' } },
    status: 'InProgress',
    createTime: 0,
    creator: 'user',
    ignoreApplicationStopFailures: false,
    updateOutdatedInstancesOnly: false,
    fileExistsBehavior: 'DISALLOW',
    eventTimeouts: {},
    deploymentStatusMessages: [],
    ...over,
  };
}

/** groupRecord is an in-place group `g` of application `app` with no tags; override what the test is about. */
export function groupRecord(over: Partial<DeploymentGroupRecord> = {}): DeploymentGroupRecord {
  return {
    applicationName: 'app',
    deploymentGroupId: 'gid',
    deploymentGroupName: 'g',
    deploymentConfigName: 'CodeDeployDefault.OneAtATime',
    serviceRoleArn: 'arn:aws:iam::000000000000:role/codedeploy',
    onPremisesInstanceTagFilters: [],
    onPremisesTagSet: [],
    extra: {},
    ...over,
  };
}
