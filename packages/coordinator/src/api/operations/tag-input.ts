/**
 * Tags and tag filters as requests carry them: on-premises instance tags `{Key, Value}` and
 * CodeDeploy's TagFilter `{Key, Value, Type}`, read once at the edge into tag-match's types.
 */
import { ApiError } from '../api-error.js';
import type { Tag, TagFilter } from '../../fleet/tag-match.js';

/** MAX_TAG_KEY and MAX_TAG_VALUE are CodeDeploy's tag key and value lengths. */
export const MAX_TAG_KEY = 128;
export const MAX_TAG_VALUE = 256;

/** MAX_RESOURCE_TAGS is how many tags one application or group may carry (AWS's per-resource tag quota). */
export const MAX_RESOURCE_TAGS = 50;

const FILTER_TYPES: readonly TagFilter['Type'][] = ['KEY_ONLY', 'VALUE_ONLY', 'KEY_AND_VALUE'];

function entry(value: unknown, where: string, invalid: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError(invalid, `${where} must be an object`);
  return value as Record<string, unknown>;
}

function part(o: Record<string, unknown>, key: 'Key' | 'Value', where: string, invalid: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ApiError(invalid, `${where}.${key} must be a string`);
  const max = key === 'Key' ? MAX_TAG_KEY : MAX_TAG_VALUE;
  if (v.length > max) throw new ApiError(invalid, `${where}.${key} is ${v.length} characters long; at most ${max} are allowed`);
  return v;
}

/**
 * parseTagFilter reads one TagFilter. A missing Type is inferred from what is given (Key and Value
 * → KEY_AND_VALUE, Key → KEY_ONLY, Value → VALUE_ONLY); whether the filter carries what its Type
 * needs is left to tag-match's checkSelector, which names the exact problem.
 */
export function parseTagFilter(value: unknown, where: string, invalid: string): TagFilter {
  const o = entry(value, where, invalid);
  const Key = part(o, 'Key', where, invalid);
  const Value = part(o, 'Value', where, invalid);
  let Type = o.Type;
  if (Type === undefined || Type === null || Type === '') Type = Key !== undefined && Value !== undefined ? 'KEY_AND_VALUE' : Value !== undefined ? 'VALUE_ONLY' : 'KEY_ONLY';
  if (typeof Type !== 'string' || !(FILTER_TYPES as readonly string[]).includes(Type)) {
    throw new ApiError(invalid, `${where}.Type must be KEY_ONLY, VALUE_ONLY or KEY_AND_VALUE, got ${JSON.stringify(Type)}`);
  }
  return { ...(Key !== undefined ? { Key } : {}), ...(Value !== undefined ? { Value } : {}), Type: Type as TagFilter['Type'] };
}

/** parseTagFilters reads an optional list of TagFilters at `field`. */
export function parseTagFilters(value: unknown, field: string, invalid: string): TagFilter[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ApiError(invalid, `${field} must be a list`);
  return value.map((f, i) => parseTagFilter(f, `${field}[${i}]`, invalid));
}

/**
 * parseInstanceTags reads the `tags` of AddTagsToOnPremisesInstances / RemoveTagsFromOnPremisesInstances:
 * a non-empty list (TagRequiredException) of `{Key, Value}` (InvalidTagException). Adding needs both
 * parts; removing needs the Key, and a Value when given must match too.
 */
export function parseInstanceTags(value: unknown, needValue: boolean): { Key: string; Value?: string }[] {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) throw new ApiError('TagRequiredException', 'tags is required: give at least one {Key, Value}');
  if (!Array.isArray(value)) throw new ApiError('InvalidTagException', 'tags must be a list');
  return value.map((t, i) => {
    const where = `tags[${i}]`;
    const o = entry(t, where, 'InvalidTagException');
    const Key = part(o, 'Key', where, 'InvalidTagException');
    const Value = part(o, 'Value', where, 'InvalidTagException');
    if (Key === undefined) throw new ApiError('InvalidTagException', `${where}.Key is required`);
    if (needValue && Value === undefined) throw new ApiError('InvalidTagException', `${where}.Value is required: on-premises instance tags have both a key and a value`);
    return Value === undefined ? { Key } : { Key, Value };
  });
}

/** withTags merges `add` into `tags`: a tag whose key is already there takes the new value. */
export function withTags(tags: readonly Tag[], add: readonly Tag[]): Tag[] {
  const out = tags.map((t) => ({ ...t }));
  for (const t of add) {
    const existing = out.find((o) => o.Key === t.Key);
    if (existing !== undefined) existing.Value = t.Value;
    else out.push({ Key: t.Key, Value: t.Value });
  }
  return out;
}

/**
 * parseResourceTags reads a list of `{Key, Value}` at `field` (TagResource's `Tags`, the `tags` of
 * CreateApplication / CreateDeploymentGroup). Keys are 1–128 characters and may not start with
 * `aws:`; values are 0–256 characters. Anything else → InvalidTagsToAddException naming the entry.
 * A key given twice keeps its last value. More than {@link MAX_RESOURCE_TAGS} → InvalidTagsToAddException.
 */
export function parseResourceTags(value: unknown, field: string): Tag[] {
  if (value === undefined || value === null) return [];
  const invalid = (message: string): ApiError => new ApiError('InvalidTagsToAddException', message);
  if (!Array.isArray(value)) throw invalid(`${field} must be a list of {Key, Value}`);
  const tags = value.map((t, i): Tag => {
    const where = `${field}[${i}]`;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw invalid(`${where} must be an object {Key, Value}`);
    const { Key, Value } = t as Record<string, unknown>;
    if (typeof Key !== 'string' || Key === '') throw invalid(`${where}.Key is required`);
    if (Key.length > MAX_TAG_KEY) throw invalid(`${where}.Key is ${Key.length} characters long; at most ${MAX_TAG_KEY} are allowed`);
    if (Key.toLowerCase().startsWith('aws:')) throw invalid(`${where}.Key ${JSON.stringify(Key)}: keys starting with aws: are reserved`);
    if (Value !== undefined && Value !== null && typeof Value !== 'string') throw invalid(`${where}.Value must be a string`);
    const text = typeof Value === 'string' ? Value : '';
    if (text.length > MAX_TAG_VALUE) throw invalid(`${where}.Value is ${text.length} characters long; at most ${MAX_TAG_VALUE} are allowed`);
    return { Key, Value: text };
  });
  const merged = withTags([], tags);
  if (merged.length > MAX_RESOURCE_TAGS) throw invalid(`${field} has ${merged.length} tags; at most ${MAX_RESOURCE_TAGS} are allowed per resource`);
  return merged;
}
