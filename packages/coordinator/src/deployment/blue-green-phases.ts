/**
 * The engine's half of a Server blue/green deployment: the traffic driver starts each phase on the
 * agents (blue-green.ts says which instances and events), reads how it stands, and ends the
 * instances' records with the deployment. startPhase and endPhases are each one engine step (a
 * store transaction whose commands are sent after the commit, queued behind the engine's other
 * steps), and each is idempotent, so the driver may repeat it after a
 * restart.
 */
import { minimumHealthyCount } from '@fleetdeploy/shared';
import type { Clock } from '../clock.js';
import type { AsyncStore } from '../store/async-store.js';
import type { CommandRecord, DeploymentRecord, TargetRecord } from '../store/records.js';
import type { Outbox } from './engine.js';
import type { FleetStep } from './fleet-plan.js';
import { orderTargets, startFleet } from './fleet-plan.js';
import { healthOf } from './targets.js';
import { revisionKey } from '../api/operations/revision-location.js';
import type { FleetOutcome } from './outcome-messages.js';
import { outcomeMessage } from './outcome-messages.js';
import type { TrafficHookEvent } from './traffic/plan.js';
import type { AgentPhases } from './traffic/driver.js';
import { closeTarget, markCoordinatorEvent, phaseInstances, phaseStatus } from './blue-green.js';

/** PhaseDeps are the engine's own steps that the phases are made of. */
export interface PhaseDeps {
  store: AsyncStore;
  clock: Clock;
  /** act runs `decide` as one engine step (queued behind the others), its reads and writes through `tx`. */
  act(what: string, decide: (tx: AsyncStore, out: Outbox) => Promise<void>): Promise<void>;
  nextCommand(tx: AsyncStore, deployment: DeploymentRecord, target: TargetRecord, out: Outbox): Promise<TargetRecord>;
  saveTarget(tx: AsyncStore, before: TargetRecord, after: TargetRecord, out: Outbox): Promise<void>;
  applyStep(tx: AsyncStore, deployment: DeploymentRecord, step: FleetStep, out: Outbox): Promise<DeploymentRecord>;
  openCommands(deploymentId: string): CommandRecord[];
  forget(commandId: string): void;
  fleetOutcome(reader: AsyncStore, deployment: DeploymentRecord): Promise<FleetOutcome>;
}

/** blueGreenPhases builds the {@link AgentPhases} the traffic driver calls. */
export function blueGreenPhases(deps: PhaseDeps): AgentPhases {
  const { store, clock, act } = deps;

  /** Starts the install on the replacement instances, batched by the minimum healthy hosts, once. */
  async function startInstall(tx: AsyncStore, d: DeploymentRecord, out: Outbox): Promise<void> {
    if (d.plan !== undefined || d.blueGreen === undefined) return;
    const green = new Set(d.blueGreen.green);
    const targets = (await tx.listTargets(d.deploymentId)).filter((t) => green.has(t.targetId));
    const health = await tx.listHealth(d.deploymentGroupId);
    const group = await tx.getGroupById(d.deploymentGroupId);
    const currentKey = group?.targetRevision === undefined ? undefined : revisionKey(group.targetRevision);
    const ordered = orderTargets(targets.map((t) => healthOf(t.targetId, health.find((h) => h.instanceName === t.targetId), currentKey)));
    await deps.applyStep(tx, d, startFleet(ordered, minimumHealthyCount(d.minimumHealthyHosts, ordered.length)), out);
  }

  return {
    startPhase(deploymentId: string, event: TrafficHookEvent) {
      return act(`start ${event}`, async (tx, out) => {
        const d = await tx.getDeployment(deploymentId);
        if (d?.blueGreen === undefined) return;
        if (event === 'Install') return startInstall(tx, d, out);
        const busy = new Set(deps.openCommands(deploymentId).map((c) => c.instanceName));
        const now = clock.now();
        for (const name of phaseInstances(d.blueGreen, event)) {
          const target = await tx.getTarget(deploymentId, name);
          const pending = target?.lifecycleEvents.find((e) => e.lifecycleEventName === event)?.status === 'Pending';
          if (target === undefined || !pending || busy.has(name)) continue;
          await deps.saveTarget(tx, target, await deps.nextCommand(tx, d, markCoordinatorEvent(target, event, now), out), out);
        }
      });
    },

    async phaseStatus(deploymentId: string, event: TrafficHookEvent) {
      const d = await store.getDeployment(deploymentId);
      if (d?.blueGreen === undefined) return { status: 'Failed', failure: { status: 'Failed', code: 'INTERNAL_ERROR', message: `deployment ${deploymentId} is not a blue/green deployment` } };
      const names = new Set(phaseInstances(d.blueGreen, event));
      const targets = (await store.listTargets(deploymentId)).filter((t) => names.has(t.targetId));
      const outcome = await deps.fleetOutcome(store, d);
      return phaseStatus(event, d.plan, targets, (code) => outcomeMessage(code as never, outcome));
    },

    endPhases(deploymentId: string, succeeded: boolean) {
      return act('end blue/green instances', async (tx, out) => {
        // What still runs is cancelled and forgotten: a late result finds its command done.
        for (const c of deps.openCommands(deploymentId)) {
          out.cancel.push({ instanceName: c.instanceName, commandId: c.commandId, reason: succeeded ? 'the deployment ended' : 'the deployment failed or was stopped' });
          await tx.putCommand({ ...c, state: 'done' });
          deps.forget(c.commandId);
        }
        const now = clock.now();
        for (const t of await tx.listTargets(deploymentId)) {
          const closed = closeTarget(t, succeeded, now);
          if (closed !== t) await deps.saveTarget(tx, t, closed, out);
        }
      });
    },
  };
}
