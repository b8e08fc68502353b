/**
 * Deregistering on-premises instances in the store, as CodeDeploy does: the instance is kept with its
 * deregistration time and loses its tags (so no group selects it any more). Used by
 * DeregisterOnPremisesInstance and by a TERMINATE blue/green deployment retiring its originals; the
 * callers then revoke the agents' certificates and tell the engine the fleet changed.
 */
import type { AsyncStore } from '../store/async-store.js';
import type { InstanceRecord } from '../store/records.js';

/** deregisterInstancesAsync marks the registered ones of `names` deregistered at `now`, in one transaction; returns those it changed. */
export function deregisterInstancesAsync(store: Pick<AsyncStore, 'transaction'>, names: readonly string[], now: number): Promise<string[]> {
  return store.transaction(async (tx) => {
    const changed: string[] = [];
    for (const name of names) {
      const instance = await tx.getInstance(name);
      if (instance === undefined || instance.deregisterTime !== undefined) continue;
      await tx.putInstance(deregistered(instance, now));
      changed.push(name);
    }
    return changed;
  });
}

/** deregistered is an instance as deregistration leaves it: its time set, its tags gone. */
function deregistered(instance: InstanceRecord, now: number): InstanceRecord {
  return { ...instance, deregisterTime: now, tags: [] };
}
