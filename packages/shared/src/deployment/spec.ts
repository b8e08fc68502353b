import type { FileExistsBehavior } from '../appspec/types.js';

/** BundleType is how a revision bundle is packed. */
export const BundleTypes = ['tar', 'tgz', 'zip', 'directory'] as const;
export type BundleType = (typeof BundleTypes)[number];

/**
 * Revision is where a deployment's bundle comes from: CodeDeploy's RevisionLocation as the agent sees
 * it. Optional fields are absent, never empty strings (hook environments leave them unset).
 */
export type Revision =
  | { type: 'S3'; bucket: string; key: string; bundleType: Exclude<BundleType, 'directory'>; version?: string; etag?: string }
  | { type: 'GitHub'; repository: string; commitId: string; bundleType: 'tar' | 'zip' }
  | { type: 'LocalFile'; location: string; bundleType: Exclude<BundleType, 'directory'> }
  | { type: 'LocalDirectory'; location: string };

/**
 * DeploymentSpec is everything an agent needs to know about a deployment to run one of its lifecycle
 * events: the AWS agent's deployment specification in our own, wire-neutral shape.
 */
export interface DeploymentSpec {
  deploymentId: string;
  deploymentGroupId: string;
  deploymentGroupName: string;
  applicationName: string;
  /** `user` by default; `codeDeployRollback` changes which revision some hooks use. */
  deploymentCreator: string;
  deploymentType: 'IN_PLACE' | 'BLUE_GREEN';
  appSpecFilename: string;
  /**
   * The deployment-level behaviour for pre-existing files, upper-cased. Kept as a string: a value
   * outside {@link FileExistsBehavior} is only an error once a file actually conflicts, as with AWS.
   */
  fileExistsBehavior: FileExistsBehavior | string;
  /** When set, Install checks that the AppSpec's hooks are all in this list (codedeploy-local does this). */
  allPossibleLifecycleEvents?: string[];
  revision: Revision;
}

/**
 * shortDeploymentId turns an ARN-form deployment id into its short `d-...` form, as the AWS agent does
 * (everything after the first `/` of the sixth `:` field); other ids pass through.
 */
export function shortDeploymentId(id: string): string {
  if (!id.startsWith('arn:')) return id;
  const resource = id.split(':').slice(5).join(':');
  const slash = resource.indexOf('/');
  return slash >= 0 ? resource.slice(slash + 1) : resource;
}
