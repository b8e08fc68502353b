/**
 * Deployment ownership, for several coordinator replicas on one database (issue 13): each
 * deployment is driven by the one replica holding its lease `deployment:<id>` (lease/leaser.ts), and
 * every engine step that writes a deployment's state checks, inside its own transaction, that this
 * replica's tenure is still the current one (LeaseStore.holds), so a replica that lost the lease
 * (paused, cut off, presumed dead) cannot commit over the work of the one that took it over.
 *
 * This module is the engine's view of that: which deployments it drives now, the fencing check, and
 * the hooks that tell other replicas what a step wrote (PostgreSQL wake-ups, store/pg/pg-wakeups.ts).
 * Without it (one coordinator alone) the engine drives every deployment, as it always did.
 */
import type { DeploymentEvent } from './events.js';
import type { AsyncStore } from '../store/async-store.js';
import type { LeaseStore } from '../lease/lease-store.js';
import type { HeldLease, Leaser, LeaserOptions } from '../lease/leaser.js';
import { createLeaser } from '../lease/leaser.js';

/**
 * DEFAULT_DEPLOYMENT_LEASE_TTL_MS: a deployment whose replica died is taken over within about this
 * long (renewed every 5 s; a replica cut off stops driving it before another may take it).
 */
export const DEFAULT_DEPLOYMENT_LEASE_TTL_MS = 15_000;

/** LEASE_PREFIX names a deployment's lease: `deployment:<id>`. */
export const LEASE_PREFIX = 'deployment:';

/** leaseName is the name of the lease that says who drives `deploymentId`. */
export const leaseName = (deploymentId: string): string => `${LEASE_PREFIX}${deploymentId}`;

/** OwnershipEvents is what the engine is told as leases come and go. */
export interface OwnershipEvents {
  /** acquired: this replica drives the deployment from now on (resume it as a restart would). */
  acquired(deploymentId: string): void;
  /** lost: stop driving it at once; another replica may take it over. */
  lost(deploymentId: string, reason: string): void;
}

/** DeploymentOwnership is the engine's `ownership` dependency. */
export interface DeploymentOwnership {
  /** replicaId is this replica's id (the owner of its leases). */
  readonly replicaId: string;
  /**
   * listen adds handlers, each told every acquisition and loss from then on: the engine's (called
   * before its first claim) and the traffic driver's (which drives the Lambda and ECS deployments
   * among them).
   */
  listen(events: OwnershipEvents): void;
  /** claim wants to drive the deployment: taken now if free, else whenever its holder lets it expire. */
  claim(deploymentId: string): void;
  /** release stops wanting it and gives the lease up at once (a finished deployment). */
  release(deploymentId: string): Promise<void>;
  /** claimed lists the deployments claimed (held or wanted). */
  claimed(): string[];
  /** held is every lease this replica holds and trusts now (for /healthz's `owns` and the metrics). */
  held(): HeldLease[];
  /** owns tells whether this replica holds the deployment's lease and trusts it now. */
  owns(deploymentId: string): boolean;
  /**
   * holdsIn is the fencing check, made through the step's transaction `tx`: true while this
   * replica's tenure is current. On PostgreSQL it also keeps the lease from being taken over until
   * `tx` ends (pg-lease-store.ts), so what `tx` writes lands before any takeover.
   */
  holdsIn(tx: AsyncStore, deploymentId: string): Promise<boolean>;
  /** commandsWritten tells the other replicas, when `tx` commits, that these instances have commands (or cancels) to deliver. */
  commandsWritten?(tx: AsyncStore, instanceNames: readonly string[]): Promise<void>;
  /** eventsWritten sends the other replicas, when `tx` commits, the events of its steps, for their event streams (event-relay.ts). */
  eventsWritten?(tx: AsyncStore, events: readonly DeploymentEvent[]): Promise<void>;
  /**
   * reportsStored tells the owners, when `tx` commits, that agents' reports for these deployments
   * wait for them (or, for a Lambda or ECS deployment, that another replica's API recorded something
   * in its traffic journal: a hook's report, a stop).
   */
  reportsStored?(tx: AsyncStore, deploymentIds: readonly string[]): Promise<void>;
  /** agentsOnline names those of `instanceNames` whose agent is connected to some replica now (not gone, only elsewhere). */
  agentsOnline?(instanceNames: readonly string[]): Promise<Set<string>>;
  /** stop releases every lease and claims nothing more (a claim after it is ignored: the replica is stopping). */
  stop(): Promise<void>;
}

/** OwnershipOptions: the leases, this replica's id, and how the lease store is reached through a transaction. */
export interface OwnershipOptions extends Pick<LeaserOptions, 'ttlMs' | 'safetyMs' | 'clock' | 'onError'> {
  replicaId: string;
  /** leases is the lease store on the database's own connection (renewals are not held up by engine steps). */
  leases: LeaseStore;
  /** leasesIn is the lease store over a step's transaction (pgLeaseStore(tx), sqliteLeaseStore over the same connection). */
  leasesIn(tx: AsyncStore): LeaseStore;
  commandsWritten?: DeploymentOwnership['commandsWritten'];
  eventsWritten?: DeploymentOwnership['eventsWritten'];
  reportsStored?: DeploymentOwnership['reportsStored'];
  agentsOnline?: DeploymentOwnership['agentsOnline'];
}

/** createDeploymentOwnership holds the deployments' leases for one replica through a Leaser. */
export function createDeploymentOwnership(options: OwnershipOptions): DeploymentOwnership {
  const { replicaId } = options;
  const listeners: OwnershipEvents[] = [];
  /** The generation of each tenure held, by deployment id: what the fencing check asks the store about. */
  const generations = new Map<string, number>();
  const wanted = new Set<string>();
  let stopped = false;
  const idOf = (name: string): string | undefined => (name.startsWith(LEASE_PREFIX) ? name.slice(LEASE_PREFIX.length) : undefined);
  const leaser: Leaser = createLeaser({
    leases: options.leases,
    owner: replicaId,
    ttlMs: options.ttlMs,
    ...(options.safetyMs === undefined ? {} : { safetyMs: options.safetyMs }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    onAcquired(lease) {
      const id = idOf(lease.name);
      if (id === undefined) return;
      // Each acquisition follows a loss or nothing (the Leaser's order), so the engine resumes it
      // afresh even when it was taken back at the same generation (a renewal answered too late).
      generations.set(id, lease.generation);
      for (const l of listeners) l.acquired(id);
    },
    onLost(name, generation, reason) {
      const id = idOf(name);
      if (id === undefined || generations.get(id) !== generation) return;
      generations.delete(id);
      for (const l of listeners) l.lost(id, reason);
    },
  });
  return {
    replicaId,
    listen(events) {
      listeners.push(events);
    },
    claim(deploymentId) {
      // A step still finishing as the replica stops (a rollback it made) leaves the deployment to the others.
      if (stopped) return;
      wanted.add(deploymentId);
      leaser.claim(leaseName(deploymentId));
    },
    async release(deploymentId) {
      wanted.delete(deploymentId);
      generations.delete(deploymentId);
      await leaser.release(leaseName(deploymentId));
    },
    claimed: () => [...wanted],
    held: () => leaser.held(),
    owns(deploymentId) {
      const generation = generations.get(deploymentId);
      return generation !== undefined && leaser.holds(leaseName(deploymentId), generation);
    },
    async holdsIn(tx, deploymentId) {
      const generation = generations.get(deploymentId);
      if (generation === undefined) return false;
      return options.leasesIn(tx).holds(leaseName(deploymentId), replicaId, generation);
    },
    ...(options.commandsWritten === undefined ? {} : { commandsWritten: options.commandsWritten }),
    ...(options.eventsWritten === undefined ? {} : { eventsWritten: options.eventsWritten }),
    ...(options.reportsStored === undefined ? {} : { reportsStored: options.reportsStored }),
    ...(options.agentsOnline === undefined ? {} : { agentsOnline: options.agentsOnline }),
    async stop() {
      stopped = true;
      wanted.clear();
      generations.clear();
      await leaser.stop();
    },
  };
}
