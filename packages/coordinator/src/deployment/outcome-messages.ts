/** Our wording for each ErrorInformation.code a deployment can end with. */
import type { FleetErrorCode } from './fleet-plan.js';

/** FailedInstance is one instance that ended Failed, and the lifecycle event it failed in (when one did). */
export interface FailedInstance {
  readonly name: string;
  readonly event?: string;
  /** The event's diagnostics code, e.g. ScriptFailed. */
  readonly errorCode?: string;
}

/** FleetOutcome is how a deployment's instances ended, for the message that explains it. */
export interface FleetOutcome {
  readonly total: number;
  readonly minimumHealthy: number;
  readonly succeeded: number;
  /** Instances never deployed to because the deployment was winding down. */
  readonly skipped: number;
  readonly failed: readonly FailedInstance[];
}

/** outcomeMessage explains, for a person, why a deployment ended as it did. */
export function outcomeMessage(code: FleetErrorCode | 'AGENT_ISSUE', outcome: FleetOutcome): string {
  const { minimumHealthy, total } = outcome;
  switch (code) {
    case 'NO_INSTANCES':
      return 'No instances matched the deployment group (check its tag filters and that the instances are registered)';
    case 'HEALTH_CONSTRAINTS_INVALID':
      return `The configuration needs ${minimumHealthy} of the ${total} instances to stay healthy at all times, so no instance could be taken out to deploy to; choose a configuration with a lower minimum`;
    case 'HEALTH_CONSTRAINTS':
      return healthConstraintsMessage(outcome);
    case 'MANUAL_STOP':
      return 'The deployment was stopped by a StopDeployment request';
    case 'ALARM_ACTIVE': // the engine gives the alarms' own message (DeploymentRecord.alarmStop); this is the fallback
      return 'The deployment was stopped by alarm monitoring';
    case 'AGENT_ISSUE':
      return 'The agent on an instance stopped answering';
  }
}

/** MAX_NAMED is how many failed instances a message names before it says "and N more". */
const MAX_NAMED = 3;

/**
 * healthConstraintsMessage says what failed where, and names the minimum-healthy rule only when it is
 * what ended the deployment (instances skipped, or too few healthy at the end), e.g.
 * `The deployment's only instance failed: web-01 failed in ValidateService (ScriptFailed)`.
 */
export function healthConstraintsMessage(o: FleetOutcome): string {
  const named = o.failed.slice(0, MAX_NAMED).map(describeFailure);
  const more = o.failed.length - named.length;
  const failures = more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
  const instances = (n: number): string => `${n} instance${n === 1 ? '' : 's'}`;
  if (o.skipped > 0) {
    return `${failures}; ${instances(o.skipped)} ${o.skipped === 1 ? 'was' : 'were'} not deployed to, because with ${o.failed.length} failed the configuration's minimum of ${o.minimumHealthy} healthy of ${o.total} could no longer be kept`;
  }
  if (o.succeeded === 0) {
    if (o.total === 1 && o.failed.length === 1) return `The deployment's only instance failed: ${failures}`;
    return `All ${instances(o.total)} failed: ${failures}`;
  }
  return `${o.failed.length} of ${instances(o.total)} failed (${failures}); ${o.succeeded} ended healthy where the configuration's minimum is ${o.minimumHealthy}`;
}

function describeFailure(f: FailedInstance): string {
  if (f.event === undefined) return `${f.name} failed`;
  return `${f.name} failed in ${f.event}${f.errorCode === undefined ? '' : ` (${f.errorCode})`}`;
}
