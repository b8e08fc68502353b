import { describe, expect, it } from 'vitest';
import type { LifecycleCommand__Output } from '@fleetdeploy/protocol';
import { toParsedCommand, toProtoResult } from './translate.js';

function command(over: Partial<LifecycleCommand__Output['deployment'] & object> = {}, revision: Record<string, unknown> = {}): LifecycleCommand__Output {
  return {
    commandId: 'c-1',
    lifecycleEvent: 'BeforeInstall',
    timeoutSeconds: 60,
    deployment: {
      deploymentId: 'd-ABC',
      deploymentGroupId: 'g-1',
      deploymentGroupName: 'G',
      applicationName: 'A',
      deploymentCreator: '',
      deploymentType: '',
      appspecFilename: '',
      fileExistsBehavior: 'overwrite',
      allPossibleLifecycleEvents: [],
      revision: { location: 's3', s3: { bucket: 'b', key: 'k.tgz', version: '', etag: '' }, bundleType: 'tgz', sha256: 'AB'.repeat(32), size: '42', ...revision },
      ...over,
    },
  };
}

describe('toParsedCommand', () => {
  it('turns empty proto strings into absent fields and defaults, and keeps the digest', () => {
    const parsed = toParsedCommand(command());
    expect(parsed).toEqual({
      ok: true,
      command: {
        commandId: 'c-1',
        event: 'BeforeInstall',
        timeoutSeconds: 60,
        bundle: { sha256: 'ab'.repeat(32), size: 42 },
        spec: {
          deploymentId: 'd-ABC',
          deploymentGroupId: 'g-1',
          deploymentGroupName: 'G',
          applicationName: 'A',
          deploymentCreator: 'user',
          deploymentType: 'IN_PLACE',
          appSpecFilename: '',
          fileExistsBehavior: 'OVERWRITE',
          revision: { type: 'S3', bucket: 'b', key: 'k.tgz', bundleType: 'tgz' },
        },
      },
    });
  });

  it('keeps S3 version and etag, GitHub revisions and the lifecycle event list when given', () => {
    const s3 = toParsedCommand(command({ allPossibleLifecycleEvents: ['Custom'] }, { s3: { bucket: 'b', key: 'k', version: 'v1', etag: 'e1' } }));
    expect(s3.ok && s3.command.spec.revision).toEqual({ type: 'S3', bucket: 'b', key: 'k', bundleType: 'tgz', version: 'v1', etag: 'e1' });
    expect(s3.ok && s3.command.spec.allPossibleLifecycleEvents).toEqual(['Custom']);
    const gh = toParsedCommand(command({}, { location: 'github', s3: null, github: { repository: 'o/r', commitId: 'abc' }, bundleType: 'zip' }));
    expect(gh.ok && gh.command.spec.revision).toEqual({ type: 'GitHub', repository: 'o/r', commitId: 'abc', bundleType: 'zip' });
  });

  it.each([
    ['no event', { ...command(), lifecycleEvent: '' }, 'the command names no lifecycle event'],
    ['no deployment', { ...command(), deployment: null }, 'the command carries no deployment'],
    ['no deployment id', command({ deploymentId: '' }), "the command's deployment has no deployment_id"],
    ['no group id', command({ deploymentGroupId: '' }), "the command's deployment has no deployment_group_id"],
    ['bad type', command({ deploymentType: 'SIDEWAYS' }), 'unknown deployment_type "SIDEWAYS"'],
    ['no revision', command({ revision: null }), "the command's deployment has no revision"],
    ['no location', command({}, { location: undefined, s3: null }), 'the revision names no location (expected s3 or github)'],
    ['bad S3 type', command({}, { bundleType: 'rar' }), 'S3 revision bundle_type must be tar, tgz or zip, got "rar"'],
    ['bad GitHub type', command({}, { location: 'github', github: { repository: 'o/r', commitId: 'c' }, bundleType: 'tgz' }), 'GitHub revision bundle_type must be tar or zip, got "tgz"'],
  ])('refuses a command with %s, naming why', (_name, msg, reason) => {
    expect(toParsedCommand(msg as LifecycleCommand__Output)).toMatchObject({ ok: false, commandId: 'c-1', reason });
  });
});

describe('toProtoResult', () => {
  it('maps status and the numeric error code the proto enum mirrors', () => {
    const proto = toProtoResult({ commandId: 'c', status: 'Failed', noop: false, diagnostics: { errorCode: 'FailedAfterRestart', scriptName: '', message: 'm', logTail: '' }, startedAtMs: 1, endedAtMs: 2 });
    expect(proto).toMatchObject({ commandId: 'c', status: 'COMMAND_STATUS_FAILED', diagnostics: { errorCode: 7, message: 'm' }, startedAtMs: 1, endedAtMs: 2 });
  });
});
