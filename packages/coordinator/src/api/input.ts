/**
 * Reading a CodeDeploy request body at the edge: each reader takes the decoded JSON object and a
 * field name, and either returns a typed value or throws the {@link ApiError} CodeDeploy would.
 * Handlers never touch `unknown` beyond these.
 */
import { ApiError } from './api-error.js';

/** Input is a decoded JSON request body. */
export type Input = Record<string, unknown>;

/** NAME_PATTERN is CodeDeploy's character set for application, group and configuration names. */
export const NAME_PATTERN = /^[A-Za-z0-9.+_=,@-]+$/;

interface StringRules {
  /** Exception when the field is absent or empty; omit for an optional field. */
  required?: string;
  /** Exception when the value is not a string, too long, or not of the pattern. */
  invalid: string;
  max?: number;
  pattern?: RegExp;
}

/** optionalString reads a string field, undefined when absent. */
export function optionalString(input: Input, field: string, rules: Omit<StringRules, 'required'>): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ApiError(rules.invalid, `${field} must be a string`);
  if (rules.max !== undefined && value.length > rules.max) throw new ApiError(rules.invalid, `${field} is ${value.length} characters long; at most ${rules.max} are allowed`);
  if (rules.pattern !== undefined && value !== '' && !rules.pattern.test(value)) {
    throw new ApiError(rules.invalid, `${field} ${JSON.stringify(value)} has characters that are not allowed (letters, digits and . _ + = , @ - only)`);
  }
  return value;
}

/** requiredString reads a string field that must be present and non-empty. */
export function requiredString(input: Input, field: string, rules: StringRules & { required: string }): string {
  const value = optionalString(input, field, rules);
  if (value === undefined || value === '') throw new ApiError(rules.required, `${field} is required`);
  return value;
}

/** nameField reads an application, group or configuration name (1–100 characters of {@link NAME_PATTERN}). */
export function nameField(input: Input, field: string, required: string, invalid: string): string {
  return requiredString(input, field, { required, invalid, max: 100, pattern: NAME_PATTERN });
}

/** optionalBoolean reads a boolean field. */
export function optionalBoolean(input: Input, field: string, invalid: string): boolean | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new ApiError(invalid, `${field} must be true or false`);
  return value;
}

/** optionalObject reads a nested object field. */
export function optionalObject(input: Input, field: string, invalid: string): Input | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new ApiError(invalid, `${field} must be an object`);
  return value as Input;
}

/** optionalArray reads a list field. */
export function optionalArray(input: Input, field: string, invalid: string): unknown[] | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new ApiError(invalid, `${field} must be a list`);
  return value;
}

/** stringList reads a list of strings, each checked by `check`. */
export function stringList(input: Input, field: string, invalid: string): string[] | undefined {
  const list = optionalArray(input, field, invalid);
  if (list === undefined) return undefined;
  return list.map((v, i) => {
    if (typeof v !== 'string') throw new ApiError(invalid, `${field}[${i}] must be a string`);
    return v;
  });
}

/**
 * pageStart reads nextToken (or the field named, e.g. ListTagsForResource's `NextToken`), which the
 * coordinator makes as the decimal offset of the next page.
 */
export function pageStart(input: Input, field = 'nextToken'): number {
  const token = input[field];
  if (token === undefined || token === null || token === '') return 0;
  if (typeof token !== 'string' || !/^\d+$/.test(token)) throw new ApiError('InvalidNextTokenException', `${field} is not one this coordinator gave out`);
  return Number(token);
}

/** page cuts a list at `start` and returns the next token when more remain. */
export function page<T>(items: readonly T[], start: number, size: number): { items: T[]; nextToken?: string } {
  const slice = items.slice(start, start + size);
  return start + size < items.length ? { items: slice, nextToken: String(start + size) } : { items: slice };
}

/** epochSeconds turns a stored millisecond time into the API's epoch seconds. */
export function epochSeconds(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : ms / 1000;
}
