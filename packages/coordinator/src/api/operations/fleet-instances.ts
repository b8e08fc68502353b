/**
 * `FleetDeploy_20261204.ListInstances`: the fleet as the coordinator sees it, which CodeDeploy's API
 * has no call for (the `nomad node status` of fleetdeploy). For each registered on-premises instance:
 * its tags, whether its agent is connected, when it was last heard from, the agent's version, when
 * its client certificate expires, and the latest deployment that targeted it with that deployment's
 * revision. Same protocol, signatures and roles as the CodeDeploy operations (a read: any key).
 *
 *   {"instances": [{"instanceName": "web-01", "tags": [...], "registerTime": 1765065001.2,
 *     "agent": {"status": "Connected", "agentVersion": "0.1.0", "connectedTime": ..., "lastHeartbeatTime": ...},
 *     "certificateExpiryTime": ..., "lastDeployment": {"deploymentId": "d-...", "instanceStatus": "Succeeded", "revision": {...}, ...}}],
 *   "nextToken": "100"}
 *
 * Times are epoch seconds, as in CodeDeploy's responses.
 */
import type { ApiContext } from '../context.js';
import type { Input } from '../input.js';
import { epochSeconds, page, pageStart } from '../input.js';
import type { InstanceRecord } from '../../store/records.js';
import { isRegistered } from './instances.js';
import { windowOperations } from './deployment-windows.js';
import { guidedFailureOperations } from './guided-failure.js';
import { scheduleOperations } from './deployment-schedules.js';

/** INSTANCES_PAGE is how many instances one ListInstances answer holds. */
const INSTANCES_PAGE = 100;

/** AgentStatus is an instance's agent: connected now, connected before, or never. */
export type AgentStatus = 'Connected' | 'Disconnected' | 'NeverConnected';

/** fleetInstance is one instance of the ListInstances answer. */
export async function fleetInstance(ctx: ApiContext, instance: InstanceRecord) {
  const session = await ctx.agents.session(instance.instanceName);
  const status: AgentStatus = session === undefined ? 'NeverConnected' : session.disconnectedAt === undefined ? 'Connected' : 'Disconnected';
  const target = await ctx.store.lastTargetOf(instance.instanceName);
  const deployment = target === undefined ? undefined : await ctx.store.getDeployment(target.deploymentId);
  const certificateNotAfter = await ctx.agents.certificateNotAfter(instance.instanceName);
  return {
    instanceName: instance.instanceName,
    tags: instance.tags,
    registerTime: epochSeconds(instance.registerTime),
    agent: {
      status,
      ...(session === undefined
        ? {}
        : {
            agentVersion: session.agentVersion,
            connectedTime: epochSeconds(session.connectedAt),
            lastHeartbeatTime: epochSeconds(session.lastHeartbeatAt),
            disconnectedTime: epochSeconds(session.disconnectedAt),
          }),
    },
    certificateExpiryTime: epochSeconds(certificateNotAfter),
    ...(target === undefined || deployment === undefined
      ? {}
      : {
          lastDeployment: {
            deploymentId: deployment.deploymentId,
            applicationName: deployment.applicationName,
            deploymentGroupName: deployment.deploymentGroupName,
            deploymentStatus: deployment.status,
            instanceStatus: target.status,
            revision: deployment.revision,
            createTime: epochSeconds(deployment.createTime),
            lastUpdatedAt: epochSeconds(target.lastUpdatedAt),
          },
        }),
  };
}

/** fleetOperations are fleetdeploy's own operations, served beside CodeDeploy's under `FleetDeploy_20261204.` (api/codedeploy.ts). */
export const fleetOperations = {
  ...windowOperations,
  ...scheduleOperations,
  ...guidedFailureOperations,
  async ListInstances(input: Input, ctx: ApiContext) {
    const registered = (await ctx.store.listInstances()).filter(isRegistered);
    const { items, nextToken } = page(registered, pageStart(input), INSTANCES_PAGE);
    return { instances: await Promise.all(items.map((i) => fleetInstance(ctx, i))), nextToken };
  },
};
