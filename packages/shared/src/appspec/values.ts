/**
 * YAML loading and the small value helpers every AppSpec section parser shares: how a problem is
 * recorded, how a YAML value is described in a message, and how scalars become text or numbers.
 */
import yaml from 'js-yaml';

/** AppSpecIssue is one problem found in an AppSpec: the field's path and what is wrong with it. */
export interface AppSpecIssue {
  path: string;
  problem: string;
}

/** Checked is the outcome of validating one value: the normalised value, or the problem with it. */
export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * YamlFloat is a YAML float together with the text it was written as. Floats are kept wrapped so that
 * messages can quote `1.0` (JavaScript would print 1) and so `0.0` stays recognisable as a version.
 */
export class YamlFloat {
  constructor(
    readonly value: number,
    readonly text: string,
  ) {}
}

// The YAML 1.2 core float forms; integers never get here because the int type resolves first.
const FLOAT_FORMS = /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

function floatValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower.endsWith('.nan')) return NaN;
  if (lower.endsWith('.inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

// CORE_SCHEMA keeps unquoted dates and yes/no as strings; only floats are replaced, by the wrapper.
const APPSPEC_SCHEMA = yaml.CORE_SCHEMA.extend({
  implicit: [
    new yaml.Type('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (data: unknown) => typeof data === 'string' && FLOAT_FORMS.test(data),
      construct: (data: string) => new YamlFloat(floatValue(data), data),
      instanceOf: YamlFloat,
    }),
  ],
});

/**
 * loadYaml parses AppSpec text into plain values (floats as {@link YamlFloat}). A syntax error comes
 * back as its reason with a 1-based line and column.
 */
export function loadYaml(text: string): Checked<unknown> {
  try {
    return { ok: true, value: yaml.load(text, { schema: APPSPEC_SCHEMA }) };
  } catch (err) {
    if (err instanceof yaml.YAMLException) {
      const where = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
      return { ok: false, problem: `${err.reason}${where}` };
    }
    throw err;
  }
}

/** YamlMap is a YAML mapping as js-yaml returns it. */
export type YamlMap = Record<string, unknown>;

/** isMap tells a YAML mapping apart from lists, scalars and null. */
export function isMap(v: unknown): v is YamlMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof YamlFloat);
}

/** kindOf names a YAML value's kind for messages such as `must be a list (got a map)`. */
export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'number' || v instanceof YamlFloat) return 'a number';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a map';
}

/**
 * scalarText is a string, number or float as the text it stands for (what Ruby's `to_s` gives the
 * agent); booleans, null, lists and maps have none.
 */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v instanceof YamlFloat) return v.text;
  return undefined;
}

/** show renders any YAML value for a message: scalars as written, null as empty, the rest by kind. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return String(v);
  return scalarText(v) ?? kindOf(v);
}

/** numberValue is the numeric value of an int or float, or undefined for anything else. */
export function numberValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof YamlFloat) return v.value;
  return undefined;
}

/** at renders the path of a map key below `path` (top-level keys have no prefix). */
export function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** item renders the path of a list element. */
export function item(path: string, index: number): string {
  return `${path}[${index}]`;
}

/**
 * setKey stores a value under a key taken from the document; defining the property keeps a key such
 * as `__proto__` an ordinary entry instead of changing the object's prototype.
 */
export function setKey<T>(target: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * lookupKey finds `name` in a map ignoring case, as the Lambda and ECS AppSpec examples spell keys
 * both ways (`Resources`, `resources`). Two spellings of one key in the same map are a problem.
 */
export function lookupKey(map: YamlMap, name: string, path: string, issues: AppSpecIssue[]): { key: string; value: unknown } | undefined {
  const wanted = name.toLowerCase();
  const keys = Object.keys(map).filter((k) => k.toLowerCase() === wanted);
  const [key] = keys;
  if (key === undefined) return undefined;
  if (keys.length > 1) issues.push({ path: at(path, key), problem: `given more than once (${keys.join(', ')})` });
  return { key, value: map[key] };
}
