/**
 * What each access key's role may do, as pure functions of the role and the operation name.
 *
 *   role        CodeDeploy API                                        revision bucket
 *   ─────────   ───────────────────────────────────────────────────   ─────────────────────────────
 *   read-only   Get*, List*, BatchGet*                                 list buckets, objects, uploads, parts;
 *                                                                      get and head objects
 *   deployer    read-only's, and RegisterApplicationRevision,          read-only's, and upload:
 *               CreateDeployment, StopDeployment, ContinueDeployment,  PutObject, CopyObject, multipart
 *               ResolveInstanceFailure
 *   admin       everything                                             everything
 *
 * A request with no valid signature has no role and may do nothing (anonymous reads included).
 * Operations not named here (a new one, say) are the admin's until a line says otherwise.
 */
import type { S3OperationName } from '../api/s3-route.js';

/** ROLES are the roles a key can have. */
export const ROLES = { admin: 'admin', deployer: 'deployer', readOnly: 'read-only' } as const;

/** Role is one of {@link ROLES}. */
export type Role = (typeof ROLES)[keyof typeof ROLES];

/** ROLE_NAMES lists every role, for option parsing and messages. */
export const ROLE_NAMES: readonly Role[] = Object.values(ROLES);

/** isRole tells a role name from any other string. */
export function isRole(value: string): value is Role {
  return (ROLE_NAMES as readonly string[]).includes(value);
}

const READ_OPERATION = /^(Get|List|BatchGet)[A-Z]/;

/** isReadOperation tells an operation that changes nothing (Get*, List*, BatchGet*): any key may call it, and it is not audited. */
export function isReadOperation(operation: string): boolean {
  return READ_OPERATION.test(operation);
}

/** DEPLOYER_OPERATIONS are the CodeDeploy operations that change something and a deployer may call. */
export const DEPLOYER_OPERATIONS: ReadonlySet<string> = new Set([
  'RegisterApplicationRevision',
  'CreateDeployment',
  'StopDeployment',
  'ContinueDeployment',
  // fleetdeploy's: a schedule creates a deployment later, so whoever may deploy may schedule.
  'CreateDeploymentSchedule',
  'DeleteDeploymentSchedule',
  // fleetdeploy's guided failure: answering a held deployment is part of running it, like StopDeployment.
  'ResolveInstanceFailure',
]);

/** mayCallCodeDeploy says whether a key with `role` may call the CodeDeploy operation `operation`. */
export function mayCallCodeDeploy(role: Role, operation: string): boolean {
  switch (role) {
    case 'admin':
      return true;
    case 'deployer':
      return isReadOperation(operation) || DEPLOYER_OPERATIONS.has(operation);
    case 'read-only':
      return isReadOperation(operation);
    default:
      return assertNever(role);
  }
}

const BUCKET_READS: ReadonlySet<S3OperationName> = new Set<S3OperationName>([
  'ListBuckets',
  'HeadBucket',
  'GetBucketLocation',
  'ListObjects',
  'ListObjectsV2',
  'GetObject',
  'HeadObject',
  'ListParts',
  'ListMultipartUploads',
]);

/** isBucketRead tells a bucket request that changes nothing: it is not audited. */
export function isBucketRead(operation: S3OperationName): boolean {
  return BUCKET_READS.has(operation);
}

const BUCKET_UPLOADS: ReadonlySet<S3OperationName> = new Set<S3OperationName>([
  'PutObject',
  'CopyObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
]);

/** mayCallBucket says whether a key with `role` may make the bucket request `operation`. */
export function mayCallBucket(role: Role, operation: S3OperationName): boolean {
  switch (role) {
    case 'admin':
      return true;
    case 'deployer':
      return BUCKET_READS.has(operation) || BUCKET_UPLOADS.has(operation);
    case 'read-only':
      return BUCKET_READS.has(operation);
    default:
      return assertNever(role);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled role ${String(value)}`);
}
