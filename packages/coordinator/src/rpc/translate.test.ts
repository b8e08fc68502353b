import { describe, expect, it } from 'vitest';
import { fromDiagnostics, toLifecycleCommand } from './translate.js';
import { deploymentRecord } from '../testing/record-builders.js';

describe('agent protocol translation', () => {
  it('maps every wire error code to CodeDeploy diagnostics, and a missing one to UnknownError', () => {
    expect(fromDiagnostics({ errorCode: 'ERROR_CODE_SCRIPT_TIMED_OUT', scriptName: 's.sh', message: 'm', logTail: 't' })).toEqual({ errorCode: 'ScriptTimedOut', scriptName: 's.sh', message: 'm', logTail: 't' });
    expect(fromDiagnostics({ errorCode: 'ERROR_CODE_FAILED_AFTER_RESTART', scriptName: '', message: '', logTail: '' }).errorCode).toBe('FailedAfterRestart');
    expect(fromDiagnostics(null)).toEqual({ errorCode: 'UnknownError', scriptName: '', message: '', logTail: '' });
  });

  it('sends the deployment spec, the stored bundle digest and the timeout with each command', () => {
    const d = deploymentRecord({ deploymentId: 'd-1', fileExistsBehavior: 'OVERWRITE', bundle: { sha256: 'ab'.repeat(32), size: 10, bundleType: 'tgz' }, revision: { revisionType: 'S3', s3Location: { bucket: 'b', key: 'k', bundleType: 'tgz', eTag: 'e' } } });
    const cmd = toLifecycleCommand({ commandId: 'c', deploymentId: 'd-1', instanceName: 'h', lifecycleEvent: 'Install', state: 'pending', createdAt: 0, deadlineAt: 0 }, d, 90);
    expect(cmd).toMatchObject({
      commandId: 'c',
      lifecycleEvent: 'Install',
      timeoutSeconds: 90,
      deployment: {
        deploymentId: 'd-1', deploymentGroupId: 'gid', applicationName: 'app', deploymentCreator: 'user', deploymentType: 'IN_PLACE', fileExistsBehavior: 'OVERWRITE',
        revision: { s3: { bucket: 'b', key: 'k', version: '', etag: 'e' }, bundleType: 'tgz', sha256: 'ab'.repeat(32), size: '10' },
      },
    });
  });
});
