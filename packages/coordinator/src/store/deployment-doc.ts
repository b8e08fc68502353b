/**
 * How a deployment record is written as its row's JSON document, and read back. The engine rewrites
 * the whole record each time one of its instances finishes, so a 1,000-instance deployment is written
 * 1,000 times; its plan's targets as `[{"id":…,"status":…}, …]` were ~45 kB of each write (bench-fleet
 * at 10,000 agents: putDeployment ~5 s of the coordinator's CPU, and most of the WAL it wrote). The
 * document keeps the plan's target ids as one array and their statuses as one letter each, in the
 * same order; a document in the older form (rows written before this) is read as it is.
 */
import type { FleetPlan, TargetStatus } from '../deployment/fleet-plan.js';
import type { DeploymentRecord } from './records.js';

const LETTERS: Record<TargetStatus, string> = { Pending: 'P', InProgress: 'I', Succeeded: 'S', Failed: 'F', Skipped: 'K' };
const STATUSES = new Map(Object.entries(LETTERS).map(([status, letter]) => [letter, status as TargetStatus]));

/** StoredPlan is a plan as the document holds it: targets as parallel ids and status letters. */
type StoredPlan = Omit<FleetPlan, 'targets'> & { targetIds: string[]; targetStatuses: string };

/** deploymentToDoc is the JSON document of a deployment record. */
export function deploymentToDoc(d: DeploymentRecord): string {
  if (d.plan === undefined) return JSON.stringify(d);
  const { targets, ...rest } = d.plan;
  let statuses = '';
  for (const t of targets) statuses += LETTERS[t.status];
  const plan: StoredPlan = { ...rest, targetIds: targets.map((t) => t.id), targetStatuses: statuses };
  return JSON.stringify({ ...d, plan });
}

/** deploymentFromDoc reads a deployment record back from its document (either form). */
export function deploymentFromDoc(doc: string): DeploymentRecord {
  const d = JSON.parse(doc) as DeploymentRecord & { plan?: FleetPlan | StoredPlan };
  if (d.plan === undefined || !('targetIds' in d.plan)) return d as DeploymentRecord;
  const { targetIds, targetStatuses, ...rest } = d.plan;
  if (targetIds.length !== targetStatuses.length) throw new Error(`deployment ${d.deploymentId}: its stored plan has ${targetIds.length} target ids but ${targetStatuses.length} statuses`);
  const targets = targetIds.map((id, i) => {
    const status = STATUSES.get(targetStatuses[i]!);
    if (status === undefined) throw new Error(`deployment ${d.deploymentId}: its stored plan gives target ${id} the unknown status letter "${targetStatuses[i]}"`);
    return { id, status };
  });
  return { ...d, plan: { ...rest, targets } };
}
