/**
 * A batch of agents' reports (engine.ts writeBatch) is one transaction of up to a hundred steps, and
 * most of them read the same deployment: on PostgreSQL each read is a round trip and a parse of a
 * document that carries the plan of up to 1,000 instances. cachingDeployments reads each deployment
 * once per transaction and keeps what the steps write.
 *
 * A step runs in a nested transaction (a savepoint); when one fails, its writes are undone in the
 * database, and the copies are dropped with them, to be read again.
 *
 * The records are shared between the steps: the engine never changes a record in place (each change
 * is a new object, written with putDeployment).
 */
import type { AsyncStore } from '../store/async-store.js';
import type { DeploymentRecord } from '../store/records.js';

/** cachingDeployments is `tx` with getDeployment answered from the copies read or written through it. */
export function cachingDeployments(tx: AsyncStore): AsyncStore {
  const copies = new Map<string, DeploymentRecord | undefined>();
  const cached: AsyncStore = {
    ...tx,
    async getDeployment(id) {
      if (copies.has(id)) return copies.get(id);
      const d = await tx.getDeployment(id);
      copies.set(id, d);
      return d;
    },
    async putDeployment(d) {
      copies.delete(d.deploymentId); // not kept if the write fails
      await tx.putDeployment(d);
      copies.set(d.deploymentId, d);
    },
    async transaction(fn) {
      try {
        return await tx.transaction(() => fn(cached));
      } catch (err) {
        copies.clear();
        throw err;
      }
    },
  };
  return cached;
}
