/**
 * Store is everything the coordinator persists, behind one interface so that a PostgreSQL store can
 * take SQLite's place for replicated coordinators. The engine's rule — every transition is persisted
 * before it is acted on — rests on {@link Store.transaction}: all writes inside it commit together
 * or not at all.
 *
 * The interface is synchronous because the embedded SQLite store is (better-sqlite3), which keeps
 * the driver's decide-then-persist step atomic without locks. A networked store would implement it
 * behind a worker or make these methods async; the callers are few (api handlers and the driver).
 */
import type {
  ApplicationRecord,
  CommandRecord,
  DeploymentConfigRecord,
  DeploymentGroupRecord,
  DeploymentRecord,
  DeploymentStatus,
  InstanceHealthRecord,
  InstanceRecord,
  PendingReportRecord,
  RevisionRecord,
  TargetRecord,
  TargetStatus,
} from './records.js';
import type { Tag, TagFilter } from '../fleet/tag-match.js';

/** DeploymentQuery narrows ListDeployments. */
export interface DeploymentQuery {
  applicationName?: string;
  deploymentGroupName?: string;
  statuses?: readonly DeploymentStatus[];
  createdAfter?: number;
  createdBefore?: number;
}

/** Store is the coordinator's persistent state. */
/** RegisterOutcome is registerInstance's answer: stored, or what refused it. */
export type RegisterOutcome = 'registered' | 'nameTaken' | 'iamUserArnTaken' | 'iamSessionArnTaken';

export interface Store {
  /** transaction runs `fn` so that every write inside it commits together, or none does. */
  transaction<T>(fn: () => T): T;
  /**
   * changeCount is how many rows every write so far inserted, changed or deleted (SQLite's
   * total_changes()): a transaction that committed and raised it stored something.
   */
  changeCount(): number;
  close(): void;

  putApplication(app: ApplicationRecord): void;
  getApplication(name: string): ApplicationRecord | undefined;
  listApplications(): ApplicationRecord[];
  /** deleteApplication removes an application with its groups and revisions (deployments stay, as history). */
  deleteApplication(name: string): void;

  putInstance(instance: InstanceRecord): void;
  getInstance(name: string): InstanceRecord | undefined;
  listInstances(): InstanceRecord[];
  /**
   * instancesTagged returns the registered instances carrying a tag that one of `filters` matches,
   * each once, by name: the candidates a group's selector then decides on (deployment/targets.ts).
   */
  instancesTagged(filters: readonly TagFilter[]): InstanceRecord[];
  /**
   * registerInstance stores `instance` as a new registration (no deregisterTime, no tags), over a
   * deregistered record of the same name if there is one; refused, naming what is in the way, when
   * the name is registered already or its IAM ARN is another registered instance's. One write on
   * PostgreSQL, which the unique indexes of migration 20 refuse: no read that a concurrent
   * registration could write under.
   */
  registerInstance(instance: InstanceRecord): RegisterOutcome;
  /** registeredInstanceWithArn names the registered instance registered with this IAM user or session ARN, if any. */
  registeredInstanceWithArn(kind: 'iamUserArn' | 'iamSessionArn', arn: string): string | undefined;

  putGroup(group: DeploymentGroupRecord): void;
  getGroup(applicationName: string, groupName: string): DeploymentGroupRecord | undefined;
  getGroupById(groupId: string): DeploymentGroupRecord | undefined;
  listGroups(applicationName?: string): DeploymentGroupRecord[];
  deleteGroup(applicationName: string, groupName: string): void;

  putConfig(config: DeploymentConfigRecord): void;
  getConfig(name: string): DeploymentConfigRecord | undefined;
  listConfigs(): DeploymentConfigRecord[];
  deleteConfig(name: string): void;

  putRevision(revision: RevisionRecord): void;
  getRevision(applicationName: string, revisionKey: string): RevisionRecord | undefined;
  listRevisions(applicationName: string): RevisionRecord[];

  putDeployment(deployment: DeploymentRecord): void;
  getDeployment(deploymentId: string): DeploymentRecord | undefined;
  /** listDeploymentIds returns the ids of matching deployments, newest first (filtered on columns: no record is read). */
  listDeploymentIds(query: DeploymentQuery): string[];
  /** activeDeployments are those not yet Succeeded, Failed or Stopped, oldest first. */
  activeDeployments(): DeploymentRecord[];
  /** activeDeploymentOfGroup is the group's oldest active deployment, if it has one. */
  activeDeploymentOfGroup(groupId: string): DeploymentRecord | undefined;
  /** activeGroupIds are the ids of the groups with an active deployment. */
  activeGroupIds(): Set<string>;

  putTarget(target: TargetRecord): void;
  /** addTargets inserts targets new to their deployment (a deployment being created), in order, in a few statements. */
  addTargets(targets: readonly TargetRecord[]): void;
  /** putTargets stores several targets as putTarget does each (one statement per few hundred on PostgreSQL). */
  putTargets(targets: readonly TargetRecord[]): void;
  /** getTargetsOf are those of the deployment's targets with these ids that exist, in no particular order (one read). */
  getTargetsOf(deploymentId: string, targetIds: readonly string[]): TargetRecord[];
  getTarget(deploymentId: string, targetId: string): TargetRecord | undefined;
  listTargets(deploymentId: string): TargetRecord[];
  /** countTargets counts a deployment's targets by status, without reading their records. */
  countTargets(deploymentId: string): Partial<Record<TargetStatus, number>>;
  /**
   * targetIdsWithStatus names a deployment's targets in one of `statuses`, in no particular order,
   * from the status index alone (neither their records nor their order are read: it is asked at
   * every GetDeployment, and the caller keeps only a few of the names).
   */
  targetIdsWithStatus(deploymentId: string, statuses: readonly TargetStatus[]): string[];
  /**
   * targetIdsAwaitingAgent names the deployment's Pending and InProgress targets whose instance's
   * agent has no open session (agent_sessions): it never connected, or it is offline. One read
   * answering about those alone, for GetDeployment's waiting messages, which it polls.
   */
  targetIdsAwaitingAgent(deploymentId: string): string[];
  /** lastTargetOf is the instance's record in the latest deployment that targeted it, if any. */
  lastTargetOf(instanceName: string): TargetRecord | undefined;

  putCommand(command: CommandRecord): void;
  getCommand(commandId: string): CommandRecord | undefined;
  /** putCommands stores several commands at once (one statement on PostgreSQL, not one per command). */
  putCommands(commands: readonly CommandRecord[]): void;
  /** getCommands are those of the commands with these ids that exist, in no particular order (one read). */
  getCommands(commandIds: readonly string[]): CommandRecord[];
  /** openCommands are commands without a result yet, for one instance or for all. */
  openCommands(instanceName?: string): CommandRecord[];
  /** openCommandsOf are the open commands of these instances, in the order they were made (one read). */
  openCommandsOf(instanceNames: readonly string[]): CommandRecord[];

  /** addPendingReports stores agents' reports for the replicas driving their deployments, numbered (seq) in the order given, in one statement on PostgreSQL. */
  addPendingReports(reports: ReadonlyArray<Omit<PendingReportRecord, 'seq'>>): void;
  /** pendingReports are the stored reports of one deployment, or of all, oldest first. */
  pendingReports(deploymentId?: string): PendingReportRecord[];
  /** deletePendingReport removes one, once it has been applied. */
  deletePendingReport(deploymentId: string, seq: number): void;
  /** deletePendingReports removes several (one statement on PostgreSQL). */
  deletePendingReports(keys: ReadonlyArray<{ deploymentId: string; seq: number }>): void;

  putHealth(health: InstanceHealthRecord): void;
  getHealth(groupId: string, instanceName: string): InstanceHealthRecord | undefined;
  listHealth(groupId: string): InstanceHealthRecord[];

  /** getResourceTags returns the tags of an application or group (by its id), in the order they were added. */
  getResourceTags(resourceId: string): Tag[];
  /** putResourceTags replaces a resource's tags; an empty list removes them all. */
  putResourceTags(resourceId: string, tags: readonly Tag[]): void;
}
