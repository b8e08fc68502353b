/**
 * ApiContext is what every CodeDeploy operation may use: the store, time, and the engine that runs
 * deployments. Built once by the composition root and passed in.
 */
import type { OutlivingCommand } from '../deployment/outliving-commands.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Clock } from '../clock.js';
import type { AsyncBucketStore } from '../store/pg/pg-bucket-store.js';
import type { BlobStore } from '../artifacts/blob-store.js';
import type { GitHubArchives } from '../artifacts/github-archive.js';
import type { AsyncTrafficStore } from '../store/traffic-store.js';
import type { AgentSessionRecord } from '../fleet/agent-sessions.js';
import type { ScheduleStoreOpener } from '../store/schedule-store.js';

/**
 * DeploymentEngine is the part of the engine the API calls into. Its answers are promises: each is
 * a step of its own (a store transaction), which the API awaits outside its own transactions.
 */
export interface DeploymentEngine {
  /** deploymentCreated starts driving a deployment the API has just stored; resolves once it is queued or held for its window, not once it runs. */
  deploymentCreated(deploymentId: string): Promise<void>;
  /** stopRequested asks the engine to stop a deployment; returns CodeDeploy's StopDeployment status. */
  stopRequested(deploymentId: string, autoRollbackEnabled: boolean): Promise<'Pending' | 'Succeeded'>;
  /**
   * hookReported records a validation function's PutLifecycleEventHookExecutionStatus for a Lambda
   * deployment: `recorded`, or why not.
   */
  hookReported(deploymentId: string, executionId: string, status: 'Succeeded' | 'Failed'): Promise<'recorded' | 'unknownExecution' | 'alreadyReported' | 'deploymentCompleted'>;
  /**
   * skipTerminationWait ends an ECS deployment's wait before the original task set is deleted
   * (ContinueDeployment TERMINATION_WAIT, SkipWaitTimeForInstanceTermination): `skipped`, or
   * `notWaiting` when the deployment is not in that wait. Absent: no deployment ever waits so.
   */
  skipTerminationWait?(deploymentId: string): Promise<'skipped' | 'notWaiting'>;
  /** continueDeployment ends a Server blue/green deployment's wait in Ready (ContinueDeployment READY_WAIT). */
  continueDeployment?(deploymentId: string): Promise<'continued' | 'notReady'>;
  /**
   * resolveInstanceFailure applies an operator's answer to a guided failure: retry, skip or fail the
   * held instance. `notHeld` when the deployment does not wait on that instance; `stillRunning` for a
   * retry while a command the coordinator ended still runs on the instance's agent
   * ({@link stillRunningOn} names it); `accepted` when another replica drives the deployment: the
   * answer is recorded for it, which applies it; `failed` when the step could not be stored.
   */
  resolveInstanceFailure(deploymentId: string, instanceName: string, action: 'retry' | 'skip' | 'fail'): Promise<'resolved' | 'accepted' | 'notHeld' | 'noDeployment' | 'stillRunning' | 'failed'>;
  /** stillRunningOn lists the commands the coordinator ended (timed out) that may still run on the instance's agent. */
  stillRunningOn(instanceName: string): readonly OutlivingCommand[];
  /**
   * fleetChanged tells the engine that instances, their tags or a group's targeting changed (instances
   * may have joined a group): `instanceNames` when only those instances changed, nothing when any may have.
   */
  fleetChanged(instanceNames?: readonly string[]): void;
}

/** InstanceIdentities is the part of agent enrolment that the instance operations call into. */
export interface InstanceIdentities {
  /**
   * registered mints a just-registered instance's one-time enrolment token, writes it to
   * `<dataDir>/enrolment/<name>.token` (0600) and returns it.
   */
  registered(instanceName: string): Promise<string>;
  /** enrolmentPort is the port agents enrol on (`fleetdeploy-agent enrol`), as the coordinator listens. */
  enrolmentPort(): number;
  /** deregistered revokes the instance's certificates and tokens and ends its agent's stream. */
  deregistered(instanceName: string): Promise<void>;
}

/** AgentPresence is what the API may read of the instances' agents: their sessions and certificates. */
export interface AgentPresence {
  /** session is the instance's latest agent session (disconnectedAt unset while it is connected), if one ever connected. */
  session(instanceName: string): Promise<AgentSessionRecord | undefined>;
  /** offline names those of `instanceNames` whose agent is connected to no coordinator, each with its last session (undefined: never connected), in one read. */
  offline(instanceNames: readonly string[]): Promise<Map<string, AgentSessionRecord | undefined>>;
  /**
   * connected says, without reading the store, that the instance's agent has a live stream to this
   * coordinator; false means only "not here" (ask {@link session}).
   */
  connected(instanceName: string): boolean;
  /** certificateNotAfter is when the instance's newest unrevoked client certificate expires (epoch ms), if it has one. */
  certificateNotAfter(instanceName: string): Promise<number | undefined>;
}

/** BucketReadsOpener opens the bucket's reads through an AsyncStore or one of its transactions' handles. */
export type BucketReadsOpener = (db: AsyncStore) => Pick<AsyncBucketStore, 'getBucket' | 'getObject'>;

/** bucketReadsThrough is the bucket's reads through `db` (see {@link ApiContext.bucketReads}). */
export function bucketReadsThrough(ctx: Pick<ApiContext, 'buckets' | 'bucketReads'>, db: AsyncStore): Pick<AsyncBucketStore, 'getBucket' | 'getObject'> {
  return ctx.bucketReads?.(db) ?? ctx.buckets;
}

/** ApiContext is passed to every operation. */
export interface ApiContext {
  /** The store, asynchronously: a transaction's body makes every call through its `tx` and awaits nothing else. */
  store: AsyncStore;
  clock: Clock;
  engine: DeploymentEngine;
  identities: InstanceIdentities;
  buckets: AsyncBucketStore;
  /**
   * The bucket's objects read through `store` or one of its transactions' handles, so that a read in
   * a transaction's body joins it (PostgreSQL: the bucket store over the pool would be refused
   * there); unset, `buckets` (SQLite: one connection).
   */
  bucketReads?: BucketReadsOpener;
  blobs: BlobStore;
  /** `arn:aws:codedeploy:<region>:<account>`, the prefix of every ARN the API shows. */
  arnPrefix: string;
  /** GitHub revisions: their archives, fetched into `blobs`, and the configured GitHub token's name. */
  github: GitHubArchives;
  /** The traffic journal of Lambda deployments, for their targets' progress. */
  traffic?: Pick<AsyncTrafficStore, 'get'>;
  /** Whether blue/green Server deployments can run: an HAProxy runtime API is configured. */
  blueGreenReady?: boolean;
  /**
   * Why Server blue/green deployments are refused here, if they are: replicas on one database, where
   * the deployment's HAProxy runtime socket is one coordinator host's (Lambda and ECS deployments are
   * driven by the replica holding their lease, as in-place ones are).
   */
  blueGreenRefused?: string;
  /** The agents' sessions and certificates, for ListInstances and the deployments' waiting messages. */
  agents: AgentPresence;
  /** Deployments scheduled for a cron time: their records, and the scheduler to tell of each change. */
  /** The deployment schedules, opened through `store` or one of its transactions' handles, and the scheduler to tell of a change (resolved once it set or cancelled the schedule's timer). */
  schedules?: { store: ScheduleStoreOpener; changed(scheduleId: string): Promise<void> };
}
