/**
 * Which instances a deployment group targets: CodeDeploy's tag filters (any filter matches) and tag
 * sets (in every group, at least one filter matches). Pure; the instances come from the store.
 */

/** TagFilter is CodeDeploy's TagFilter (on-premises) / EC2TagFilter, with its three types. */
export interface TagFilter {
  Key?: string;
  Value?: string;
  Type: 'KEY_ONLY' | 'VALUE_ONLY' | 'KEY_AND_VALUE';
}

/** Tag is an instance tag; on-premises tags always have both key and value. */
export interface Tag {
  Key: string;
  Value: string;
}

/** TargetSelector is how a group chooses instances: a list of filters, or a set of up to three groups. */
export type TargetSelector = { filters: readonly TagFilter[] } | { tagSet: readonly (readonly TagFilter[])[] };

/** MAX_TAG_GROUPS is the most groups a tag set may have. */
export const MAX_TAG_GROUPS = 3;

/** matchesFilter tells whether an instance's tags satisfy one filter (case-sensitive). */
export function matchesFilter(tags: readonly Tag[], filter: TagFilter): boolean {
  switch (filter.Type) {
    case 'KEY_ONLY':
      return tags.some((t) => t.Key === filter.Key);
    case 'VALUE_ONLY':
      return tags.some((t) => t.Value === filter.Value);
    case 'KEY_AND_VALUE':
      return tags.some((t) => t.Key === filter.Key && t.Value === filter.Value);
  }
}

/**
 * matchesSelector applies a group's selector to an instance's tags. Worked example (TG-01): the set
 * [[Env=Beta, Env=Staging], [Region=North]] takes {Env=Beta, Region=North} but not
 * {Env=Beta, Region=West}. An empty selector selects nothing.
 */
export function matchesSelector(tags: readonly Tag[], selector: TargetSelector): boolean {
  if ('filters' in selector) return selector.filters.some((f) => matchesFilter(tags, f));
  const groups = selector.tagSet.filter((g) => g.length > 0);
  return groups.length > 0 && groups.every((group) => group.some((f) => matchesFilter(tags, f)));
}

/** SelectorProblem is a selector CreateDeploymentGroup must refuse, by CodeDeploy exception name. */
export interface SelectorProblem {
  type: 'InvalidOnPremisesTagCombinationException' | 'TagSetListLimitExceededException' | 'InvalidTagException';
  message: string;
}

/**
 * checkSelector validates a group's on-premises targeting as CreateDeploymentGroup receives it:
 * filters and a tag set are mutually exclusive, a set has at most three groups, and each filter
 * carries what its type needs.
 */
export function checkSelector(filters: readonly TagFilter[] | undefined, tagSet: readonly (readonly TagFilter[])[] | undefined): SelectorProblem | undefined {
  if (filters !== undefined && filters.length > 0 && tagSet !== undefined && tagSet.length > 0) {
    return { type: 'InvalidOnPremisesTagCombinationException', message: 'onPremisesInstanceTagFilters and onPremisesTagSet cannot both be given; use one of them' };
  }
  if (tagSet !== undefined && tagSet.length > MAX_TAG_GROUPS) {
    return { type: 'TagSetListLimitExceededException', message: `onPremisesTagSet has ${tagSet.length} tag groups; at most ${MAX_TAG_GROUPS} are allowed` };
  }
  const all = [...(filters ?? []).map((f, i) => [`onPremisesInstanceTagFilters[${i}]`, f] as const),
    ...(tagSet ?? []).flatMap((g, i) => g.map((f, j) => [`onPremisesTagSet.onPremisesTagSetList[${i}][${j}]`, f] as const))];
  for (const [where, f] of all) {
    const needsKey = f.Type === 'KEY_ONLY' || f.Type === 'KEY_AND_VALUE';
    const needsValue = f.Type === 'VALUE_ONLY' || f.Type === 'KEY_AND_VALUE';
    if (!['KEY_ONLY', 'VALUE_ONLY', 'KEY_AND_VALUE'].includes(f.Type)) return { type: 'InvalidTagException', message: `${where}.Type must be KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE` };
    if (needsKey && !f.Key) return { type: 'InvalidTagException', message: `${where}.Key is required for Type ${f.Type}` };
    if (needsValue && !f.Value) return { type: 'InvalidTagException', message: `${where}.Value is required for Type ${f.Type}` };
  }
  return undefined;
}
