import { describe, expect, it } from 'vitest';
import { checkSelector, matchesSelector } from './tag-match.js';
import type { TagFilter } from './tag-match.js';

const kv = (Key: string, Value: string): TagFilter => ({ Key, Value, Type: 'KEY_AND_VALUE' });
const tags = (...pairs: Array<[string, string]>) => pairs.map(([Key, Value]) => ({ Key, Value }));

describe('matchesSelector', () => {
  it('ORs inside a tag group and ANDs across groups (TG-01)', () => {
    const tagSet = [[kv('Env', 'Beta'), kv('Env', 'Staging')], [kv('Region', 'North')]];
    expect(matchesSelector(tags(['Env', 'Beta'], ['Region', 'North']), { tagSet })).toBe(true);
    expect(matchesSelector(tags(['Env', 'Beta'], ['Region', 'West']), { tagSet })).toBe(false);
    expect(matchesSelector(tags(['Env', 'Staging'], ['Region', 'North'], ['x', 'y']), { tagSet })).toBe(true);
  });

  it('matches VALUE_ONLY on any key and KEY_ONLY on any value (TG-02)', () => {
    const blue = { filters: [{ Value: 'blue', Type: 'VALUE_ONLY' as const }] };
    expect(matchesSelector(tags(['Color', 'blue']), blue)).toBe(true);
    expect(matchesSelector(tags(['Slot', 'blue']), blue)).toBe(true);
    expect(matchesSelector(tags(['Slot', 'Blue']), blue)).toBe(false);
    expect(matchesSelector(tags(['role', 'anything']), { filters: [{ Key: 'role', Type: 'KEY_ONLY' }] })).toBe(true);
  });

  it('ORs a plain filter list and selects nothing with an empty selector', () => {
    const filters = [kv('role', 'web'), kv('role', 'api')];
    expect(matchesSelector(tags(['role', 'api']), { filters })).toBe(true);
    expect(matchesSelector(tags(['role', 'db']), { filters })).toBe(false);
    expect(matchesSelector(tags(['role', 'db']), { filters: [] })).toBe(false);
    expect(matchesSelector(tags(['role', 'db']), { tagSet: [] })).toBe(false);
  });
});

describe('checkSelector', () => {
  it('refuses filters together with a tag set, and more than three groups (TG-03)', () => {
    expect(checkSelector([kv('a', 'b')], [[kv('c', 'd')]])?.type).toBe('InvalidOnPremisesTagCombinationException');
    expect(checkSelector(undefined, [[kv('a', '1')], [kv('b', '2')], [kv('c', '3')], [kv('d', '4')]])).toEqual({ type: 'TagSetListLimitExceededException', message: 'onPremisesTagSet has 4 tag groups; at most 3 are allowed' });
  });

  it('names a filter that lacks what its type needs', () => {
    expect(checkSelector([{ Type: 'KEY_AND_VALUE', Key: 'a' }], undefined)).toEqual({ type: 'InvalidTagException', message: 'onPremisesInstanceTagFilters[0].Value is required for Type KEY_AND_VALUE' });
    expect(checkSelector(undefined, [[kv('a', 'b'), { Type: 'KEY_ONLY' }]])?.message).toBe('onPremisesTagSet.onPremisesTagSetList[0][1].Key is required for Type KEY_ONLY');
    expect(checkSelector([{ Type: 'BOGUS' as never, Key: 'a' }], undefined)?.message).toBe('onPremisesInstanceTagFilters[0].Type must be KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE');
  });

  it('accepts a valid list or set', () => {
    expect(checkSelector([kv('a', 'b'), { Type: 'VALUE_ONLY', Value: 'v' }], undefined)).toBeUndefined();
    expect(checkSelector([], [[kv('a', 'b')], [{ Type: 'KEY_ONLY', Key: 'k' }]])).toBeUndefined();
  });
});
