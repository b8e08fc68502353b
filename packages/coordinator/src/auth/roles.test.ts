import { describe, expect, it } from 'vitest';
import { operations } from '../api/operations/index.js';
import { mayCallBucket, mayCallCodeDeploy } from './roles.js';
import type { Role } from './roles.js';
import type { S3OperationName } from '../api/s3-route.js';

const CHANGES_A_DEPLOYER_MAY_MAKE = ['RegisterApplicationRevision', 'CreateDeployment', 'StopDeployment', 'ContinueDeployment'];

describe('mayCallCodeDeploy', () => {
  it('lets read-only call only Get*, List* and BatchGet*', () => {
    const allowed = Object.keys(operations).filter((op) => mayCallCodeDeploy('read-only', op));
    expect(allowed.length).toBeGreaterThan(5);
    for (const op of allowed) expect(op).toMatch(/^(Get|List|BatchGet)[A-Z]/);
    for (const op of ['CreateDeployment', 'CreateApplication', 'DeleteApplication', 'RegisterOnPremisesInstance', 'Getaway']) {
      expect(mayCallCodeDeploy('read-only', op)).toBe(false);
    }
  });

  it('lets a deployer read, register revisions and create, stop and continue deployments, nothing else', () => {
    for (const op of [...CHANGES_A_DEPLOYER_MAY_MAKE, 'GetDeployment', 'ListApplications', 'BatchGetDeployments']) expect(mayCallCodeDeploy('deployer', op)).toBe(true);
    for (const op of ['CreateApplication', 'DeleteApplication', 'CreateDeploymentGroup', 'RegisterOnPremisesInstance', 'DeregisterOnPremisesInstance', 'CreateDeploymentConfig']) {
      expect(mayCallCodeDeploy('deployer', op)).toBe(false);
    }
  });

  it('lets a deployer answer a guided failure, but not change a group\'s onInstanceFailure; read-only neither', () => {
    expect(mayCallCodeDeploy('deployer', 'ResolveInstanceFailure')).toBe(true);
    expect(mayCallCodeDeploy('read-only', 'ResolveInstanceFailure')).toBe(false);
    expect(mayCallCodeDeploy('deployer', 'SetOnInstanceFailure')).toBe(false);
    expect(mayCallCodeDeploy('admin', 'SetOnInstanceFailure')).toBe(true);
  });

  it('lets an admin call every operation, known or not', () => {
    for (const op of [...Object.keys(operations), 'SomethingNew']) expect(mayCallCodeDeploy('admin', op)).toBe(true);
  });
});

describe('mayCallBucket', () => {
  const ALL: S3OperationName[] = [
    'ListBuckets', 'CreateBucket', 'HeadBucket', 'DeleteBucket', 'GetBucketLocation', 'DeleteObjects', 'ListObjects', 'ListObjectsV2',
    'PutObject', 'GetObject', 'HeadObject', 'DeleteObject', 'CreateMultipartUpload', 'CopyObject', 'UploadPart',
    'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts', 'ListMultipartUploads',
  ];
  const allowed = (role: Role) => ALL.filter((op) => mayCallBucket(role, op));

  it('gives read-only the reads, a deployer the reads and uploads, an admin everything', () => {
    expect(allowed('read-only')).toEqual(['ListBuckets', 'HeadBucket', 'GetBucketLocation', 'ListObjects', 'ListObjectsV2', 'GetObject', 'HeadObject', 'ListParts', 'ListMultipartUploads']);
    expect(allowed('deployer')).toEqual([
      'ListBuckets', 'HeadBucket', 'GetBucketLocation', 'ListObjects', 'ListObjectsV2', 'PutObject', 'GetObject', 'HeadObject',
      'CreateMultipartUpload', 'CopyObject', 'UploadPart', 'CompleteMultipartUpload', 'AbortMultipartUpload', 'ListParts',
      'ListMultipartUploads',
    ]);
    expect(allowed('admin')).toEqual(ALL);
  });
});
