/**
 * routeByPlatform is the {@link DeploymentEngine} the API calls: in-place Server deployments go to
 * the engine (agents); Lambda, ECS and Server blue/green deployments to the traffic driver (routers),
 * which has the engine run a blue/green deployment's events on its agents.
 */
import type { DeploymentEngine } from '../api/context.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Engine } from './engine.js';
import type { TrafficDriver } from './traffic/driver.js';
import { isTrafficDeployment } from './traffic/driver.js';

/**
 * routeByPlatform sends each call to the driver of the deployment's compute platform. An in-place
 * deployment starts at the next `later` turn, and deploymentCreated does not wait for it: starting it
 * creates and sends a command per instance (a quarter of a second for 1,000 of them, bench-fleet),
 * which CreateDeployment need not wait for — CodeDeploy answers it as Created, too. A stored
 * deployment that has not started yet is started by the engine when a restarted coordinator finds it Created.
 */
export function routeByPlatform(store: Pick<AsyncStore, 'getDeployment'>, engine: Engine, traffic: TrafficDriver, later: (fn: () => void) => void = setImmediate): DeploymentEngine {
  const isTraffic = async (id: string): Promise<boolean> => {
    const d = await store.getDeployment(id);
    return d !== undefined && isTrafficDeployment(d);
  };
  return {
    async deploymentCreated(id) {
      if (await isTraffic(id)) traffic.deploymentCreated(id);
      else later(() => void engine.deploymentCreated(id));
    },
    stopRequested: async (id, autoRollbackEnabled) => ((await isTraffic(id)) ? traffic.stopRequested(id, autoRollbackEnabled) : engine.stopRequested(id, autoRollbackEnabled)),
    fleetChanged: (instanceNames) => (instanceNames === undefined ? engine.fleetChanged() : engine.fleetChanged(instanceNames)),
    hookReported: (id, executionId, status) => traffic.hookReported(id, executionId, status),
    skipTerminationWait: async (id) => ((await isTraffic(id)) ? traffic.skipTerminationWait(id) : 'notWaiting'),
    continueDeployment: async (id) => ((await isTraffic(id)) ? traffic.continueDeployment(id) : 'notReady'),
    // Only in-place deployments hold failures; the engine answers notHeld for the others.
    resolveInstanceFailure: (id, instance, action) => engine.resolveInstanceFailure(id, instance, action),
    stillRunningOn: (instance) => engine.stillRunningOn(instance),
  };
}
