/**
 * Deregistering on-premises instances in the store, as CodeDeploy does: the instance is kept with its
 * deregistration time and loses its tags (so no group selects it any more). Used by
 * DeregisterOnPremisesInstance and by a TERMINATE blue/green deployment retiring its originals; the
 * callers then revoke the agents' certificates and tell the engine the fleet changed.
 */
import type { Store } from '../store/store.js';

/** deregisterInstances marks the registered ones of `names` deregistered at `now`, in one transaction; returns those it changed. */
export function deregisterInstances(store: Pick<Store, 'transaction' | 'getInstance' | 'putInstance'>, names: readonly string[], now: number): string[] {
  return store.transaction(() =>
    names.filter((name) => {
      const instance = store.getInstance(name);
      if (instance === undefined || instance.deregisterTime !== undefined) return false;
      store.putInstance({ ...instance, deregisterTime: now, tags: [] });
      return true;
    }),
  );
}
