/**
 * `fleetdeploy instances`: the fleet as the coordinator sees it (fleetdeploy's ListInstances), one
 * line per registered instance: whether its agent is connected, when it was last heard from, its
 * version, when its certificate expires, and the latest deployment on it with that revision.
 *
 *   NAME    AGENT      LAST HEARTBEAT        VERSION  CERT EXPIRES          LAST DEPLOYMENT       REVISION                      TAGS
 *   web-01  connected  2026-12-06T23:50:01Z  0.1.0    2027-01-05T23:40:00Z  d-7K2Q9ZB1X Succeeded s3://revisions/shop/v2.zip (zip) role=web
 *   web-02  offline    2026-12-06T23:41:12Z  0.1.0    2027-01-05T23:40:00Z  -                     -                             role=web
 */
import type { RevisionLocation } from '@aws-sdk/client-codedeploy';
import type { AwsContext } from '../aws-context.js';
import { callFleetApi } from '../fleet/fleet-api.js';
import type { OutputFormat } from '../output/format.js';
import { isoTime, jsonDocument } from '../output/format.js';
import { formatTable } from '../output/table.js';
import { locationText } from './revisions.js';

/** FleetInstance is one instance of ListInstances' answer (times in epoch seconds). */
export interface FleetInstance {
  instanceName: string;
  tags?: { Key?: string; Value?: string }[];
  registerTime?: number;
  agent: { status: 'Connected' | 'Disconnected' | 'NeverConnected'; agentVersion?: string; connectedTime?: number; lastHeartbeatTime?: number; disconnectedTime?: number };
  certificateExpiryTime?: number;
  lastDeployment?: {
    deploymentId: string;
    applicationName?: string;
    deploymentGroupName?: string;
    deploymentStatus?: string;
    instanceStatus?: string;
    revision?: RevisionLocation;
    createTime?: number;
    lastUpdatedAt?: number;
  };
}

/** listFleet reads every page of ListInstances. */
export async function listFleet(aws: AwsContext): Promise<FleetInstance[]> {
  const all: FleetInstance[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callFleetApi<{ instances?: FleetInstance[]; nextToken?: string }>(aws, 'ListInstances', nextToken === undefined ? {} : { nextToken });
    all.push(...(page.instances ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return all;
}

/** runInstances prints the fleet; resolves with the exit code. */
export async function runInstances(aws: AwsContext, output: OutputFormat, line: (text: string) => void): Promise<number> {
  const instances = await listFleet(aws);
  if (output === 'json') {
    line(jsonDocument({ instances: instances.map(withIsoTimes) }));
    return 0;
  }
  if (instances.length === 0) {
    line('No instances registered yet: fleetdeploy instance register NAME --tag KEY=VALUE');
    return 0;
  }
  formatTable(['NAME', 'AGENT', 'LAST HEARTBEAT', 'VERSION', 'CERT EXPIRES', 'LAST DEPLOYMENT', 'REVISION', 'TAGS'], instances.map(instanceRow)).forEach(line);
  return 0;
}

/** AGENT_WORDS say an agent's status in the table. */
const AGENT_WORDS: Record<FleetInstance['agent']['status'], string> = { Connected: 'connected', Disconnected: 'offline', NeverConnected: 'never connected' };

/** instanceRow is one instance's table row. */
export function instanceRow(i: FleetInstance): string[] {
  const d = i.lastDeployment;
  return [
    i.instanceName,
    AGENT_WORDS[i.agent.status] ?? i.agent.status,
    isoTime(date(i.agent.lastHeartbeatTime)),
    i.agent.agentVersion ?? '-',
    isoTime(date(i.certificateExpiryTime)),
    d === undefined ? '-' : `${d.deploymentId} ${d.instanceStatus ?? '?'}`,
    d?.revision === undefined ? '-' : locationText(d.revision),
    (i.tags ?? []).map((t) => `${t.Key ?? ''}=${t.Value ?? ''}`).join(',') || '-',
  ];
}

function date(epochSeconds: number | undefined): Date | undefined {
  return epochSeconds === undefined ? undefined : new Date(epochSeconds * 1000);
}

/** withIsoTimes is an instance with its epoch-second times as ISO 8601, as the other read commands print them. */
function withIsoTimes(i: FleetInstance): unknown {
  const iso = (s: number | undefined): string | undefined => date(s)?.toISOString();
  const { agent, lastDeployment: d } = i;
  return {
    ...i,
    registerTime: iso(i.registerTime),
    agent: { ...agent, connectedTime: iso(agent.connectedTime), lastHeartbeatTime: iso(agent.lastHeartbeatTime), disconnectedTime: iso(agent.disconnectedTime) },
    certificateExpiryTime: iso(i.certificateExpiryTime),
    ...(d === undefined ? {} : { lastDeployment: { ...d, createTime: iso(d.createTime), lastUpdatedAt: iso(d.lastUpdatedAt) } }),
  };
}
