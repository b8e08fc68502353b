/**
 * serverRouterFactory builds the router of each Server blue/green deployment from the coordinator's
 * configuration: HAProxy's runtime API at `haproxy_socket`, and the retirement of original instances
 * (with `blue_green_terminate_command`). Without a socket every such deployment fails its first
 * step with a message that says what to configure (CreateDeployment refuses new ones already).
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { CoordinatorConfig } from '../config.js';
import type { AsyncStore } from '../store/async-store.js';
import type { DeploymentRecord } from '../store/records.js';
import type { TrafficRouter } from '../deployment/traffic/router.js';
import { RouterError } from '../deployment/traffic/router.js';
import { createRetire } from '../deployment/retire-instances.js';
import { createHaproxyRuntimeApi } from './haproxy/runtime-api.js';
import { createHaproxyRouter } from './haproxy-router.js';

/** ServerRouterDeps are passed in by the composition root. */
export interface ServerRouterDeps {
  /** The coordinator's one AsyncStore. */
  store: AsyncStore;
  clock: Clock;
  config: Pick<CoordinatorConfig, 'haproxySocket' | 'blueGreenTerminateCommand'>;
  deregistered(name: string): void;
  fleetChanged(instanceNames?: readonly string[]): void;
  log: Logger;
}

/** serverRouterFactory returns routerFor for Server blue/green deployments. */
export function serverRouterFactory(deps: ServerRouterDeps): (d: DeploymentRecord) => TrafficRouter {
  const socket = deps.config.haproxySocket;
  const api = socket === undefined ? undefined : createHaproxyRuntimeApi(socket);
  const retire = createRetire({ store: deps.store, clock: deps.clock, deregistered: deps.deregistered, fleetChanged: deps.fleetChanged, log: deps.log, ...(deps.config.blueGreenTerminateCommand === undefined ? {} : { command: deps.config.blueGreenTerminateCommand }) });
  return (d) => {
    const spec = d.blueGreen!;
    if (api === undefined) return unconfigured(spec.backend);
    return createHaproxyRouter({
      api,
      spec,
      liveGreen: async () => (await deps.store.listTargets(d.deploymentId)).filter((t) => t.label === 'Green' && t.status !== 'Failed' && t.status !== 'Skipped').map((t) => t.targetId),
      retire: (names) => retire(d.deploymentId, names),
    });
  };
}

/** unconfigured is the router of a coordinator restarted without its haproxy_socket: every step fails, saying why. */
function unconfigured(backend: string): TrafficRouter {
  const fail = (): Promise<never> => Promise.reject(new RouterError('ELASTIC_LOAD_BALANCING_INVALID', `the deployment reroutes traffic through HAProxy backend ${backend}, but this coordinator has no haproxy_socket configured`));
  return { check: fail, shift: fail, rollback: fail, invokeHook: fail };
}
