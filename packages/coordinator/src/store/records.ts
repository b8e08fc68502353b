/**
 * The coordinator's persisted records, in CodeDeploy's names and shapes (times are epoch
 * milliseconds here and become epoch seconds at the API edge). The store keeps them; the API and the
 * engine read and write them through {@link Store}.
 */
import type { ComputePlatform, MinimumHealthyHosts, TrafficRoutingConfig } from '@fleetdeploy/shared';
import type { Tag, TagFilter } from '../fleet/tag-match.js';
import type { FleetPlan } from '../deployment/fleet-plan.js';

/** ApplicationRecord is one CodeDeploy application. */
export interface ApplicationRecord {
  applicationId: string;
  applicationName: string;
  computePlatform: ComputePlatform;
  createTime: number;
  linkedToGitHub: boolean;
}

/** InstanceRecord is a registered (or deregistered) on-premises instance. */
export interface InstanceRecord {
  instanceName: string;
  instanceArn: string;
  iamUserArn?: string;
  iamSessionArn?: string;
  registerTime: number;
  deregisterTime?: number;
  tags: Tag[];
}

/** DeploymentGroupRecord is a deployment group: which instances, which configuration, what it last deployed. */
export interface DeploymentGroupRecord {
  applicationName: string;
  deploymentGroupId: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  serviceRoleArn: string;
  onPremisesInstanceTagFilters: TagFilter[];
  /** The tag groups of onPremisesTagSet.onPremisesTagSetList. */
  onPremisesTagSet: TagFilter[][];
  /** Fields stored as given and echoed back (alarms, triggers, auto rollback, style...). */
  extra: Record<string, unknown>;
  targetRevision?: RevisionLocation;
  lastSuccessfulDeployment?: DeploymentSummary;
  lastAttemptedDeployment?: DeploymentSummary;
}

/** DeploymentSummary is CodeDeploy's LastDeploymentInfo. */
export interface DeploymentSummary {
  deploymentId: string;
  status: DeploymentStatus;
  endTime?: number;
  createTime: number;
}

/** DeploymentConfigRecord is a custom deployment configuration (predefined ones live in shared). */
export interface DeploymentConfigRecord {
  deploymentConfigId: string;
  deploymentConfigName: string;
  computePlatform: ComputePlatform;
  minimumHealthyHosts?: MinimumHealthyHosts;
  trafficRoutingConfig?: TrafficRoutingConfig;
  createTime: number;
}

/** RevisionLocation is CodeDeploy's RevisionLocation, as the API receives it. */
export interface RevisionLocation {
  revisionType: 'S3' | 'GitHub' | 'String' | 'AppSpecContent';
  s3Location?: { bucket: string; key: string; bundleType: string; version?: string; eTag?: string };
  gitHubLocation?: { repository: string; commitId: string };
  string?: { content: string; sha256?: string };
  appSpecContent?: { content: string; sha256?: string };
}

/** RevisionRecord is an application revision that was registered or deployed. */
export interface RevisionRecord {
  applicationName: string;
  /** A canonical text form of the location; identifies the revision within its application. */
  revisionKey: string;
  revisionLocation: RevisionLocation;
  description?: string;
  registerTime: number;
  firstUsedTime?: number;
  lastUsedTime?: number;
  deploymentGroups: string[];
}

/** DeploymentStatus is CodeDeploy's DeploymentStatus. */
export const DeploymentStatuses = ['Created', 'Queued', 'InProgress', 'Baking', 'Succeeded', 'Failed', 'Stopped', 'Ready'] as const;
export type DeploymentStatus = (typeof DeploymentStatuses)[number];

/** isFinalStatus tells a deployment status that never changes again. */
export function isFinalStatus(status: DeploymentStatus): boolean {
  return status === 'Succeeded' || status === 'Failed' || status === 'Stopped';
}

/** BundleRef is the stored bundle a deployment serves to its agents. */
export interface BundleRef {
  sha256: string;
  size: number;
  bundleType: 'tar' | 'tgz' | 'zip';
}

/** DeploymentRecord is one deployment and the planner's state for it. */
export interface DeploymentRecord {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentGroupId: string;
  deploymentConfigName: string;
  /** The configuration's minimum, kept so that a later edit of a custom configuration cannot change a running deployment. */
  minimumHealthyHosts: MinimumHealthyHosts;
  revision: RevisionLocation;
  previousRevision?: RevisionLocation;
  bundle?: BundleRef;
  status: DeploymentStatus;
  errorInformation?: { code: string; message: string };
  createTime: number;
  startTime?: number;
  completeTime?: number;
  creator: string;
  description?: string;
  ignoreApplicationStopFailures: boolean;
  updateOutdatedInstancesOnly: boolean;
  fileExistsBehavior: 'DISALLOW' | 'OVERWRITE' | 'RETAIN';
  /** Seconds the coordinator allows each lifecycle event before it fails the instance. */
  eventTimeouts: Record<string, number>;
  plan?: FleetPlan;
  /** The deployment's own autoRollbackConfiguration, overriding its group's. */
  autoRollbackConfiguration?: { enabled?: boolean; events?: string[] };
  /** Links a deployment and its rollback, both ways. */
  rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string; rollbackMessage?: string };
  /** Set by StopDeployment; the driver acts on it. */
  stopRequested?: { at: number; autoRollbackEnabled: boolean };
  /**
   * With replicas: operators' answers to guided failures (ResolveInstanceFailure) that reached a
   * replica not driving the deployment, one per held instance, for the owner to apply and clear.
   */
  guidedAnswers?: GuidedAnswer[];
  /** Set when alarm monitoring stopped the deployment: why (ErrorInformation.message), for the DEPLOYMENT_STOP_ON_ALARM rollback. */
  alarmStop?: { at: number; message: string };
  deploymentStatusMessages: string[];
  /** Absent for the Server deployments made before Lambda existed; Lambda deployments shift traffic instead of running agents. */
  computePlatform?: ComputePlatform;
  /** A Lambda deployment's function, alias, versions, hooks and routing, from its AppSpec and configuration. */
  lambda?: LambdaDeploymentSpec;
  /** An ECS deployment's service, task set, listeners, hooks and routing, from its AppSpec, group and configuration. */
  ecs?: EcsDeploymentSpec;
  /** A Server blue/green deployment's HAProxy backend, its two fleets and its waits (absent for in-place). */
  blueGreen?: ServerBlueGreenSpec;
}

/** GuidedAnswer is an operator's answer to a held instance's failure, recorded for the replica driving its deployment. */
export interface GuidedAnswer {
  instanceId: string;
  action: 'retry' | 'skip' | 'fail';
  /** When the answer was recorded (epoch ms). */
  at: number;
}

/**
 * ServerBlueGreenSpec is what a Server blue/green deployment installs, reroutes and retires: the
 * replacement (green) instances get the revision, then an HAProxy backend's weights move from the
 * original (blue) servers to them. Server names in the backend are the instances' names.
 */
export interface ServerBlueGreenSpec {
  backend: string;
  green: string[];
  blue: string[];
  /** deploymentReadyOption STOP_DEPLOYMENT: minutes to wait in Ready for ContinueDeployment; absent: reroute at once. */
  readyWaitMinutes?: number;
  /** terminateBlueInstancesOnDeploymentSuccess. */
  terminate: { action: 'TERMINATE' | 'KEEP_ALIVE'; waitMinutes: number };
  trafficRoutingConfig: TrafficRoutingConfig;
}

/** EcsDeploymentSpec is what an ECS deployment replaces and shifts, and how. */
export interface EcsDeploymentSpec {
  clusterName: string;
  serviceName: string;
  taskDefinition: string;
  containerName: string;
  containerPort: number;
  platformVersion?: string;
  networkConfiguration?: { subnets: string[]; securityGroups: string[]; assignPublicIp: 'ENABLED' | 'DISABLED' };
  capacityProviderStrategy?: Array<{ capacityProvider: string; base?: number; weight?: number }>;
  /** The group's two target group names; which one is the original is read from the service at check time. */
  targetGroupNames: [string, string];
  prodListenerArns: string[];
  testListenerArns: string[];
  terminationWaitMinutes: number;
  hooks: Partial<Record<'BeforeInstall' | 'AfterInstall' | 'AfterAllowTestTraffic' | 'BeforeAllowTraffic' | 'AfterAllowTraffic', string>>;
  trafficRoutingConfig: TrafficRoutingConfig;
}

/** LambdaDeploymentSpec is what a Lambda deployment shifts, and how. */
export interface LambdaDeploymentSpec {
  functionName: string;
  alias: string;
  currentVersion: string;
  targetVersion: string;
  /** The validation function of each hooked event (BeforeAllowTraffic, AfterAllowTraffic). */
  hooks: Partial<Record<'BeforeAllowTraffic' | 'AfterAllowTraffic', string>>;
  trafficRoutingConfig: TrafficRoutingConfig;
}

/** TargetStatus is CodeDeploy's TargetStatus of one instance in a deployment. */
export type TargetStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown' | 'Ready';

/** LifecycleEventStatus is CodeDeploy's LifecycleEventStatus. */
export type LifecycleEventStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed' | 'Skipped' | 'Unknown';

/** LifecycleEventRecord is one lifecycle event of one instance in a deployment. */
export interface LifecycleEventRecord {
  lifecycleEventName: string;
  status: LifecycleEventStatus;
  startTime?: number;
  endTime?: number;
  diagnostics?: { errorCode: string; scriptName: string; message: string; logTail: string };
}

/** TargetRecord is one instance of a deployment, with its lifecycle events in order. */
export interface TargetRecord {
  deploymentId: string;
  targetId: string;
  status: TargetStatus;
  lastUpdatedAt: number;
  lifecycleEvents: LifecycleEventRecord[];
  /** In a blue/green deployment: an original (Blue) or a replacement (Green) instance. */
  label?: 'Blue' | 'Green';
  /** Guided failure: which attempt this is (absent: the first), and the lifecycle events of the earlier ones, oldest first. */
  attempt?: number;
  previousAttempts?: LifecycleEventRecord[][];
}

/** CommandState is where a lifecycle command is on its way to an agent and back. */
export type CommandState = 'pending' | 'sent' | 'acked' | 'done';

/** CommandRecord is one lifecycle command for one instance: the unit the agent deduplicates on. */
export interface CommandRecord {
  commandId: string;
  deploymentId: string;
  instanceName: string;
  lifecycleEvent: string;
  state: CommandState;
  createdAt: number;
  /** When the coordinator fails the event if no result has come (pick-up or event timeout). */
  deadlineAt: number;
  /**
   * Why the agent is to stop running it, when the coordinator cancelled it (a stop, a timeout). Kept
   * with replicas only (deployment/ownership.ts): the replica the agent is connected to sends the cancel.
   */
  cancelReason?: string;
}

/**
 * PendingReportRecord is an agent's ack or result that reached a replica not driving the command's
 * deployment (migration 19): stored before the agent is acknowledged, and applied, then deleted in
 * the same transaction, by the replica that drives it.
 */
export interface PendingReportRecord {
  /** seq orders the reports as they were stored (given by the store). */
  seq: number;
  deploymentId: string;
  instanceName: string;
  commandId: string;
  receivedAt: number;
  /** The agent's result (the engine's AgentResult, as JSON); absent for an ack. */
  result?: unknown;
}

/** InstanceHealthRecord is what a group knows of one instance, for scheduling order and auto-updates. */
export interface InstanceHealthRecord {
  deploymentGroupId: string;
  instanceName: string;
  health: 'Healthy' | 'Unhealthy';
  /** The revision last installed successfully on the instance by this group. */
  revisionKey?: string;
  /** The revision last attempted on the instance by this group, whatever the outcome. */
  attemptedRevisionKey?: string;
}
