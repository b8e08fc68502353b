/**
 * Which registered instances a deployment group targets right now. Pure over the records, but for
 * findGroupInstances, which reads the store's tag index.
 */
import type { DeploymentGroupRecord, InstanceHealthRecord, InstanceRecord } from '../store/records.js';
import type { AsyncStore } from '../store/async-store.js';
import { matchesSelector } from '../fleet/tag-match.js';
import type { TagFilter, TargetSelector } from '../fleet/tag-match.js';
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
 * candidateFilters are filters that every instance the selector takes matches at least one of: all of
 * a filter list; the first non-empty group of a tag set (an instance must match each group). None
 * for an empty selector, which selects nothing.
 */
export function candidateFilters(selector: TargetSelector): readonly TagFilter[] {
  if ('filters' in selector) return selector.filters;
  return selector.tagSet.find((g) => g.length > 0) ?? [];
}

/**
 * findGroupInstances is {@link groupInstances} over the whole fleet, reading only the instances that
 * carry one of the selector's candidate tags (the store's tag index) rather than every instance.
 */
export async function findGroupInstances(group: DeploymentGroupRecord, store: Pick<AsyncStore, 'instancesTagged'>): Promise<InstanceRecord[]> {
  const filters = candidateFilters(selectorOf(group));
  return filters.length === 0 ? [] : groupInstances(group, await store.instancesTagged(filters));
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
