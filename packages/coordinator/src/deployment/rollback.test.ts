import { describe, expect, it } from 'vitest';
import type { DeploymentGroupRecord } from '../store/records.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { decideRollback } from './rollback.js';

function group(events: string[]): DeploymentGroupRecord {
  return {
    applicationName: 'app', deploymentGroupId: 'gid', deploymentGroupName: 'g', deploymentConfigName: 'CodeDeployDefault.OneAtATime', serviceRoleArn: 'r',
    onPremisesInstanceTagFilters: [], onPremisesTagSet: [],
    extra: { autoRollbackConfiguration: { enabled: true, events } },
    lastSuccessfulDeployment: { deploymentId: 'd-GOOD', status: 'Succeeded', createTime: 0 },
    targetRevision: { revisionType: 'S3', s3Location: { bucket: 'b', key: 'good.zip', bundleType: 'zip' } },
  };
}

const alarmStopped = deploymentRecord({ alarmStop: { at: 1, message: 'Stopped by alarm monitoring: ...' } });
const requestStopped = deploymentRecord({ stopRequested: { at: 1, autoRollbackEnabled: false } });

describe('decideRollback after a stop', () => {
  it('rolls back an alarm stop on DEPLOYMENT_STOP_ON_ALARM only', () => {
    expect(decideRollback(alarmStopped, group(['DEPLOYMENT_STOP_ON_ALARM']), 'Stopped')).toEqual({ rollback: true });
    expect(decideRollback(alarmStopped, group(['DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_FAILURE']), 'Stopped')).toEqual({ rollback: false });
  });

  it('does not roll back a requested stop on DEPLOYMENT_STOP_ON_ALARM', () => {
    expect(decideRollback(requestStopped, group(['DEPLOYMENT_STOP_ON_ALARM']), 'Stopped')).toEqual({ rollback: false });
    expect(decideRollback(requestStopped, group(['DEPLOYMENT_STOP_ON_REQUEST']), 'Stopped')).toEqual({ rollback: true });
  });

  it('says so when an alarm stop asks for a rollback but there is nothing to return to', () => {
    const { lastSuccessfulDeployment: _l, targetRevision: _t, ...first } = group(['DEPLOYMENT_STOP_ON_ALARM']);
    expect(decideRollback(alarmStopped, first, 'Stopped')).toMatchObject({ rollback: false, message: expect.stringContaining('no earlier successful revision') });
  });
});
