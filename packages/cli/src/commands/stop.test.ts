import { describe, expect, it } from 'vitest';
import { stoppedLines } from './stop.js';

describe('stoppedLines', () => {
  it('says how a stopped deployment ended and names its rollback', () => {
    expect(stoppedLines('d-AAAAAAAAA', { status: 'Stopped', errorInformation: { code: 'MANUAL_STOP' }, deploymentOverview: { Succeeded: 1, Failed: 1, Skipped: 1 }, rollbackInfo: { rollbackDeploymentId: 'd-BBBBBBBBB' } }, true)).toEqual([
      'Deployment d-AAAAAAAAA Stopped (MANUAL_STOP): 1 succeeded, 1 failed, 1 skipped',
      'Rolling back as d-BBBBBBBBB (the last successful revision): fleetdeploy status d-BBBBBBBBB --watch follows it',
    ]);
  });

  it('says so when the deployment ended on its own first, and why a rollback that was asked for did not come', () => {
    expect(stoppedLines('d-AAAAAAAAA', { status: 'Succeeded', deploymentOverview: { Succeeded: 3 }, rollbackInfo: { rollbackMessage: 'no previous revision' } }, true)).toEqual([
      'Deployment d-AAAAAAAAA Succeeded: 3 succeeded, 0 failed, 0 skipped',
      'It ended Succeeded before the stop took hold.',
      'No rollback: no previous revision',
    ]);
  });
});
