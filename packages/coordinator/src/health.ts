/**
 * What /healthz answers: whether the coordinator does its work, not only whether its HTTP server
 * answers. It is unavailable until the deployment engine has started, once the engine found its
 * database damaged, while it shuts down, whenever the store is closed, and while its replica is not
 * a live member (its membership row could not be renewed in time: the other replicas may take it
 * for dead).
 *
 * Given the replica's membership, the answer also says which replica answered (issue 13): its id,
 * whether it is ready (the same judgement as `ok`, as a boolean for a load balancer's check), the
 * leases it holds (what it owns; none without a Leaser) and the live replicas it saw at its last look.
 */
import type { HeldLease } from './lease/leaser.js';
import type { MembershipStatus } from './replicas/membership.js';
import type { ReplicaRecord } from './replicas/replica-store.js';

/** LiveReplica is a live replica as /healthz shows it. */
export interface LiveReplica {
  id: string;
  apiUrl: string;
  agentAddress: string;
  startedAt: number;
}

/** ReplicaHealth is what /healthz says of the replica answering. */
export interface ReplicaHealth {
  id: string;
  ready: boolean;
  /** owns is the names of the leases it holds, sorted. */
  owns: string[];
  /** replicas is every live replica it saw, itself included, by id. */
  replicas: LiveReplica[];
}

/** HealthReport is /healthz's answer: ok, or why not; and the replica's part when it has a membership. */
export type HealthReport = ({ ok: true } | { ok: false; reason: string }) & { replica?: ReplicaHealth };

/** ReplicaSources are what the replica's part is read from. */
export interface ReplicaSources {
  membership: { readonly id: string; status(): MembershipStatus; live(): readonly ReplicaRecord[] };
  /** leaser, when the replica holds leases (a Leaser's held leases are what it owns). */
  leaser?: { held(): HeldLease[] };
}

/** CoordinatorHealth moves through starting → serving → stopping; `failed` keeps its first reason until stopping. */
export interface CoordinatorHealth {
  report(): HealthReport;
  /** serving: the engine and the traffic driver have started. */
  serving(): void;
  /** failed: the engine cannot go on (its database is damaged); the reason is shown as is. */
  failed(reason: string): void;
  stopping(): void;
}

type State = { phase: 'starting' | 'serving' | 'stopping' } | { phase: 'failed'; reason: string };

const REASONS = {
  starting: 'the deployment engine has not started yet',
  stopping: 'the coordinator is shutting down',
} as const;

/** createHealth starts in `starting`; `storeOpen` and the replica's sources are asked on every report. */
export function createHealth(storeOpen: () => boolean, replica?: ReplicaSources): CoordinatorHealth {
  let state: State = { phase: 'starting' };
  const judge = (): { ok: true } | { ok: false; reason: string } => {
    if (state.phase === 'stopping' || state.phase === 'starting') return { ok: false, reason: REASONS[state.phase] };
    if (state.phase === 'failed') return { ok: false, reason: state.reason };
    if (!storeOpen()) return { ok: false, reason: 'the database is closed' };
    const membership = replica?.membership.status();
    if (membership?.member === false) return { ok: false, reason: `replica ${replica!.membership.id} is not a live member: ${membership.reason}` };
    return { ok: true };
  };
  return {
    report() {
      const verdict = judge();
      if (replica === undefined) return verdict;
      return {
        ...verdict,
        replica: {
          id: replica.membership.id,
          ready: verdict.ok,
          owns: (replica.leaser?.held() ?? []).map((l) => l.name).sort(),
          replicas: replica.membership.live().map((r) => ({ id: r.id, apiUrl: r.apiUrl, agentAddress: r.agentAddress, startedAt: r.startedAt })),
        },
      };
    },
    serving() {
      if (state.phase === 'starting') state = { phase: 'serving' };
    },
    failed(reason) {
      if (state.phase === 'starting' || state.phase === 'serving') state = { phase: 'failed', reason }; // the first cause is the one to fix
    },
    stopping() {
      state = { phase: 'stopping' };
    },
  };
}

/** healthBody is /healthz's JSON: `status` (and `reason`) as always, then the replica's part when there is one. */
export function healthBody(report: HealthReport): Record<string, unknown> {
  const base = report.ok ? { status: 'ok' } : { status: 'unavailable', reason: report.reason };
  if (report.replica === undefined) return base;
  const { id, ready, owns, replicas } = report.replica;
  return { ...base, replica: id, ready, owns, replicas };
}
