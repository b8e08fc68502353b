/**
 * The store's migrations, append-only: a released migration is never edited, a change is a new
 * entry with the next version.
 */
import { migration as core } from './001-core.js';
import { migration as bucket } from './002-bucket.js';
import { migration as accessKeys } from './003-access-keys.js';
import { migration as certificates } from './004-certificates.js';
import { migration as resourceTags } from './005-resource-tags.js';
import { migration as trafficShifts } from './006-traffic-shifts.js';
import { migration as agentSessions } from './007-agent-sessions.js';
import { migration as blobReferences } from './008-blob-references.js';
import { migration as triggerDeliveries } from './009-trigger-deliveries.js';
import { migration as deploymentSchedules } from './010-deployment-schedules.js';
import { migration as fleetIndexes } from './011-fleet-indexes.js';
import { migration as leases } from './012-leases.js';
import { migration as targetStatus } from './013-target-status.js';
import { migration as targetStatusNames } from './014-target-status-names.js';
import { migration as triggerClaims } from './015-trigger-claims.js';
import { migration as agentSessionHolders } from './016-agent-session-holders.js';
import { migration as replicas } from './017-replicas.js';
import { migration as certificateAuthority } from './018-certificate-authority.js';
import { migration as pendingReports } from './019-pending-reports.js';
import { migration as uniqueInstanceArns } from './020-unique-instance-arns.js';

/** Migration is one schema step. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** migrations in the order they apply. */
export const migrations: readonly Migration[] = [core, bucket, accessKeys, certificates, resourceTags, trafficShifts, agentSessions, blobReferences, triggerDeliveries, deploymentSchedules, fleetIndexes, leases, targetStatus, targetStatusNames, triggerClaims, agentSessionHolders, replicas, certificateAuthority, pendingReports, uniqueInstanceArns];
