/** Our wording for each ErrorInformation.code a deployment can end with. */
import type { FleetErrorCode } from './fleet-plan.js';

/** outcomeMessage explains, for a person, why a deployment ended as it did. */
export function outcomeMessage(code: FleetErrorCode | 'AGENT_ISSUE', minimumHealthy: number, total: number): string {
  switch (code) {
    case 'NO_INSTANCES':
      return 'No instances matched the deployment group (check its tag filters and that the instances are registered)';
    case 'HEALTH_CONSTRAINTS_INVALID':
      return `The configuration needs ${minimumHealthy} of the ${total} instances to stay healthy at all times, so no instance could be taken out to deploy to; choose a configuration with a lower minimum`;
    case 'HEALTH_CONSTRAINTS':
      return `Too many instances failed: at least ${minimumHealthy} of ${total} had to end healthy (see each instance's lifecycle events for the cause)`;
    case 'MANUAL_STOP':
      return 'The deployment was stopped by a StopDeployment request';
    case 'ALARM_ACTIVE': // the engine gives the alarms' own message (DeploymentRecord.alarmStop); this is the fallback
      return 'The deployment was stopped by alarm monitoring';
    case 'AGENT_ISSUE':
      return 'The agent on an instance stopped answering';
  }
}
