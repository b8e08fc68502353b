/** FileExistsBehavior decides what Install does with a file that no earlier deployment of the group installed. */
export const FileExistsBehaviors = ['DISALLOW', 'OVERWRITE', 'RETAIN'] as const;
export type FileExistsBehavior = (typeof FileExistsBehaviors)[number];

/** AppSpecOs is the `os` an EC2/on-premises AppSpec targets. */
export type AppSpecOs = 'linux' | 'windows';

/** FileMapping is one `files` entry: a bundle path copied into a destination directory. */
export interface FileMapping {
  source: string;
  destination: string;
}

/** HookScript is one script of a lifecycle hook. `timeout` is in seconds (default 3600). */
export interface HookScript {
  location: string;
  timeout: number;
  runas?: string;
  sudo?: boolean;
}

/** PermissionType says whether a permissions entry applies to files, directories or both. */
export type PermissionType = 'file' | 'directory';

/** SelinuxContext is a permissions entry's `context`; `range` is already normalised. */
export interface SelinuxContext {
  name?: string;
  type: string;
  range?: string;
}

/**
 * Permission is one `permissions` entry. `mode` is the octal string padded to at least 3 digits
 * (`"644"`, `"4755"`); `acls` are normalised entries such as `default:user:bob:rw-`.
 */
export interface Permission {
  object: string;
  pattern: string;
  except: string[];
  types: PermissionType[];
  owner?: string;
  group?: string;
  mode?: string;
  acls?: string[];
  context?: SelinuxContext;
}

/** ServerAppSpec is a validated AppSpec of the EC2/on-premises (Server) compute platform. */
export interface ServerAppSpec {
  kind: 'server';
  version: 0;
  os: AppSpecOs;
  files: FileMapping[];
  permissions: Permission[];
  /** Lifecycle event name to its scripts, in the order written. Events whose value is null are absent. */
  hooks: Record<string, HookScript[]>;
  fileExistsBehavior?: FileExistsBehavior;
}

/** FunctionHook is one Lambda/ECS hook: a lifecycle event and the Lambda function that validates it. */
export interface FunctionHook {
  event: string;
  functionName: string;
}

/** LambdaAppSpec is a validated AppSpec of the Lambda compute platform. */
export interface LambdaAppSpec {
  kind: 'lambda';
  version: 0;
  resources: Array<{ logicalName: string; name: string; alias: string; currentVersion: string; targetVersion: string }>;
  hooks: FunctionHook[];
}

/** EcsAppSpec is a validated AppSpec of the ECS compute platform. */
export interface EcsAppSpec {
  kind: 'ecs';
  version: 0;
  taskDefinition: string;
  containerName: string;
  containerPort: number;
  /** Absent means the service's default, `LATEST`. */
  platformVersion?: string;
  networkConfiguration?: EcsNetworkConfiguration;
  capacityProviderStrategy?: EcsCapacityProviderItem[];
  hooks: FunctionHook[];
}

/** EcsNetworkConfiguration is an ECS AppSpec's `NetworkConfiguration.AwsvpcConfiguration`. */
export interface EcsNetworkConfiguration {
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: 'ENABLED' | 'DISABLED';
}

/** EcsCapacityProviderItem is one item of an ECS AppSpec's `CapacityProviderStrategy`. */
export interface EcsCapacityProviderItem {
  capacityProvider: string;
  base?: number;
  weight?: number;
}

export type AppSpec = ServerAppSpec | LambdaAppSpec | EcsAppSpec;
