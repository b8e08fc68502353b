import { describe, expect, it } from 'vitest';
import { scheduleRequest } from './schedule.js';

const base = { application: 'shop', group: 'web', cron: '0 22 * * 1-5', s3Location: 's3://revisions/shop/v2.tgz' };

describe('fleetdeploy schedule flags', () => {
  it('become a CreateDeploymentSchedule request carrying the deployment options', () => {
    expect(scheduleRequest({ ...base, timeZone: 'Europe/Paris', config: 'CodeDeployDefault.AllAtOnce', description: 'nightly', fileExistsBehavior: 'overwrite', ignoreApplicationStopFailures: true })).toEqual({
      applicationName: 'shop',
      deploymentGroupName: 'web',
      cron: '0 22 * * 1-5',
      timeZone: 'Europe/Paris',
      deployment: {
        revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'shop/v2.tgz', bundleType: 'tgz' } },
        deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
        description: 'nightly',
        fileExistsBehavior: 'OVERWRITE',
        ignoreApplicationStopFailures: true,
      },
    });
    expect(scheduleRequest(base)).not.toHaveProperty('timeZone');
  });

  it('refuses a bad --file-exists-behavior or --bundle-type with a usage error', () => {
    expect(() => scheduleRequest({ ...base, fileExistsBehavior: 'MERGE' })).toThrow('--file-exists-behavior must be DISALLOW, OVERWRITE or RETAIN');
    expect(() => scheduleRequest({ ...base, bundleType: 'rar' })).toThrow(/rar/);
  });
});
