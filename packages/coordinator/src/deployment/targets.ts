/**
 * Which registered instances a deployment group targets right now. Pure over the records.
 */
import type { DeploymentGroupRecord, InstanceHealthRecord, InstanceRecord } from '../store/records.js';
import { matchesSelector } from '../fleet/tag-match.js';
import type { TargetSelector } from '../fleet/tag-match.js';
import type { InstanceHealth } from './fleet-plan.js';

/** selectorOf is how a group chooses on-premises instances: its tag set when it has one, else its filters. */
export function selectorOf(group: DeploymentGroupRecord): TargetSelector {
  return group.onPremisesTagSet.length > 0 ? { tagSet: group.onPremisesTagSet } : { filters: group.onPremisesInstanceTagFilters };
}

/** groupInstances lists the registered instances a group's tags select, by name. */
export function groupInstances(group: DeploymentGroupRecord, instances: readonly InstanceRecord[]): InstanceRecord[] {
  const selector = selectorOf(group);
  return instances.filter((i) => i.deregisterTime === undefined && matchesSelector(i.tags, selector));
}

/**
 * healthOf turns a group's record of an instance into what scheduling needs: an instance this group
 * never deployed to is Unhealthy with an Unknown revision, so it goes first.
 */
export function healthOf(name: string, record: InstanceHealthRecord | undefined, currentRevisionKey: string | undefined): InstanceHealth {
  if (record === undefined) return { id: name, health: 'Unhealthy', revision: 'Unknown' };
  const revision = record.revisionKey === undefined ? 'Unknown' : record.revisionKey === currentRevisionKey ? 'Current' : 'Old';
  return { id: name, health: record.health, revision };
}
