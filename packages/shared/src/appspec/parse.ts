/**
 * The AppSpec parser: YAML text in, a validated {@link AppSpec} out, or an {@link AppSpecError} listing
 * every problem found. Sections are checked in the AWS agent's order (version, os, hooks, files,
 * permissions, file_exists_behavior), so the first issue is the one the agent would have reported.
 */
import { DeployError } from '../errors.js';
import type { AppSpec, EcsAppSpec, FileExistsBehavior, FileMapping, HookScript, LambdaAppSpec, ServerAppSpec } from './types.js';
import { FileExistsBehaviors } from './types.js';
import { parseEcsAppSpec, parseLambdaAppSpec } from './function-hooks.js';
import { parsePermissions } from './permissions.js';
import { at, isMap, item, kindOf, loadYaml, lookupKey, numberValue, scalarText, setKey, show, YamlFloat, type AppSpecIssue, type YamlMap } from './values.js';

export type { AppSpecIssue, Checked } from './values.js';

/** ComputePlatform is the kind of deployment an AppSpec describes. */
export type ComputePlatform = 'Server' | 'Lambda' | 'ECS';

/** ParseAppSpecOptions says which host platform and compute platform an AppSpec is parsed for. */
export interface ParseAppSpecOptions {
  /** The host's operating system; a Server AppSpec's `os` must name it. */
  platform: 'linux' | 'windows';
  /** Defaults to `Server` (EC2/on-premises). */
  computePlatform?: ComputePlatform;
}

/**
 * AppSpecError is the {@link DeployError} (code `UnknownError`, as the AWS agent reports AppSpec
 * problems) of an AppSpec that failed validation. `issues` lists every problem found, in the order
 * the agent checks them; the message joins them as `path: problem`.
 */
export class AppSpecError extends DeployError {
  readonly issues: AppSpecIssue[];

  constructor(issues: AppSpecIssue[]) {
    super('UnknownError', `appspec: ${issues.map((i) => `${i.path}: ${i.problem}`).join('; ')}`);
    // DeployError sets name to 'DeployError', which isDeployError() relies on; it is kept on purpose.
    this.issues = issues;
  }
}

/** DEFAULT_TIMEOUT_SECONDS is a hook script's timeout when the AppSpec gives none. */
export const DEFAULT_TIMEOUT_SECONDS = 3600;

/**
 * parseAppSpec parses and validates AppSpec text for one compute platform (Server by default). It
 * throws an {@link AppSpecError} listing every problem found; a YAML syntax error is the single issue
 * with path `(yaml)`.
 */
export function parseAppSpec(text: string, opts: ParseAppSpecOptions & { computePlatform?: 'Server' }): ServerAppSpec;
export function parseAppSpec(text: string, opts: ParseAppSpecOptions & { computePlatform: 'Lambda' }): LambdaAppSpec;
export function parseAppSpec(text: string, opts: ParseAppSpecOptions & { computePlatform: 'ECS' }): EcsAppSpec;
export function parseAppSpec(text: string, opts: ParseAppSpecOptions): AppSpec;
export function parseAppSpec(text: string, opts: ParseAppSpecOptions): AppSpec {
  const loaded = loadYaml(text);
  if (!loaded.ok) throw new AppSpecError([{ path: '(yaml)', problem: loaded.problem }]);
  const doc = loaded.value;
  if (doc === undefined || doc === null) {
    throw new AppSpecError([{ path: '(document)', problem: 'application specification file was empty' }]);
  }
  if (!isMap(doc)) {
    throw new AppSpecError([{ path: '(document)', problem: `must be a map of AppSpec sections such as version and hooks (got ${kindOf(doc)})` }]);
  }

  const issues: AppSpecIssue[] = [];
  const computePlatform = opts.computePlatform ?? 'Server';
  let spec: AppSpec;
  if (computePlatform === 'Server') {
    checkVersion(doc['version'], 'version', issues);
    spec = parseServer(doc, opts.platform, issues);
  } else {
    // Lambda and ECS documents are matched ignoring key case, `version` included.
    const version = lookupKey(doc, 'version', '', issues);
    checkVersion(version?.value, version?.key ?? 'version', issues);
    spec = computePlatform === 'Lambda' ? parseLambdaAppSpec(doc, issues) : parseEcsAppSpec(doc, issues);
  }
  if (issues.length > 0) throw new AppSpecError(issues);
  return spec;
}

/**
 * The agent compares `version` numerically with 0.0, so `0` passes and the string `"0.0"` fails; we
 * also accept the string, as the documentation tells users to quote it.
 */
function checkVersion(value: unknown, path: string, issues: AppSpecIssue[]): void {
  if (numberValue(value) === 0) return;
  if (typeof value === 'string' && /^0(\.0+)?$/.test(value)) return;
  issues.push({ path, problem: `invalid version value (${show(value)}); only 0.0 is supported` });
}

function parseServer(doc: YamlMap, platform: 'linux' | 'windows', issues: AppSpecIssue[]): ServerAppSpec {
  const os = doc['os'];
  if (os !== platform) {
    issues.push({ path: 'os', problem: `unsupported operating system (${show(os)}); this host runs ${platform}` });
  }
  const hooks = parseServerHooks(doc['hooks'], issues);
  const files = parseFiles(doc['files'], issues);
  const permissions = parsePermissions(doc['permissions'], platform === 'windows' || os === 'windows', issues);
  const fileExistsBehavior = parseFileExistsBehavior(doc['file_exists_behavior'], issues);
  return {
    kind: 'server',
    version: 0,
    os: platform,
    files,
    permissions,
    hooks,
    ...(fileExistsBehavior !== undefined && { fileExistsBehavior }),
  };
}

function parseServerHooks(value: unknown, issues: AppSpecIssue[]): Record<string, HookScript[]> {
  const hooks: Record<string, HookScript[]> = {};
  if (value === undefined || value === null) return hooks;
  if (!isMap(value)) {
    issues.push({ path: 'hooks', problem: `must be a map of lifecycle event names to lists of scripts (got ${kindOf(value)})` });
    return hooks;
  }
  for (const [event, scripts] of Object.entries(value)) {
    // `AfterInstall:` with nothing after it is the same as leaving the event out.
    if (scripts === null || scripts === undefined) continue;
    const path = at('hooks', event);
    if (!Array.isArray(scripts)) {
      issues.push({ path, problem: `must be a list of scripts, each with a location (got ${kindOf(scripts)})` });
      continue;
    }
    const list: HookScript[] = [];
    scripts.forEach((script, i) => {
      const parsed = parseScript(script, item(path, i), issues);
      if (parsed !== undefined) list.push(parsed);
    });
    setKey(hooks, event, list);
  }
  return hooks;
}

function parseScript(script: unknown, path: string, issues: AppSpecIssue[]): HookScript | undefined {
  if (!isMap(script)) {
    issues.push({ path, problem: `must be a map with a location (got ${kindOf(script)})` });
    return undefined;
  }
  const before = issues.length;

  const locationValue = script['location'];
  const location = scalarText(locationValue)?.trim();
  if (locationValue === undefined || locationValue === null) {
    issues.push({ path: at(path, 'location'), problem: 'missing (script with no location value)' });
  } else if (location === undefined) {
    issues.push({ path: at(path, 'location'), problem: `must be a script path (got ${kindOf(locationValue)})` });
  } else if (location === '') {
    issues.push({ path: at(path, 'location'), problem: 'empty (script with no location value)' });
  }

  let timeout = DEFAULT_TIMEOUT_SECONDS;
  const timeoutValue = script['timeout'];
  if (timeoutValue !== undefined && timeoutValue !== null) {
    const n = leadingInteger(timeoutValue);
    if (n === undefined || n <= 0) {
      issues.push({ path: at(path, 'timeout'), problem: `invalid timeout value (${show(timeoutValue)}); must be a positive number of seconds` });
    } else {
      timeout = n;
    }
  }

  let runas: string | undefined;
  const runasValue = script['runas'];
  if (runasValue !== undefined && runasValue !== null) {
    const text = scalarText(runasValue)?.trim();
    if (text === undefined) issues.push({ path: at(path, 'runas'), problem: `must be a user name (got ${kindOf(runasValue)})` });
    else if (text !== '') runas = text;
  }

  let sudo: boolean | undefined;
  const sudoValue = script['sudo'];
  if (sudoValue !== undefined && sudoValue !== null) {
    sudo = yamlBoolean(sudoValue);
    if (sudo === undefined) issues.push({ path: at(path, 'sudo'), problem: `must be true or false (got ${show(sudoValue)})` });
  }

  if (issues.length > before || location === undefined) return undefined;
  return { location, timeout, ...(runas !== undefined && { runas }), ...(sudo !== undefined && { sudo }) };
}

/**
 * Ruby's `to_i`, which the agent applies to timeouts: the integer a string starts with (`"30s"` → 30,
 * `"foo"` → 0); floats are truncated.
 */
function leadingInteger(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof YamlFloat) return Number.isFinite(v.value) ? Math.trunc(v.value) : undefined;
  if (typeof v === 'string') {
    const m = /^\s*([+-]?[0-9]+)/.exec(v);
    return m?.[1] === undefined ? 0 : Number(m[1]);
  }
  return undefined;
}

// The agent's YAML 1.1 reads yes/no/on/off as booleans; the YAML 1.2 core schema keeps them as text.
const YAML11_BOOLEANS: Record<string, boolean> = { true: true, yes: true, on: true, false: false, no: false, off: false };

function yamlBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return undefined;
  const key = v.toLowerCase();
  return Object.hasOwn(YAML11_BOOLEANS, key) ? YAML11_BOOLEANS[key] : undefined;
}

function parseFiles(value: unknown, issues: AppSpecIssue[]): FileMapping[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    issues.push({ path: 'files', problem: `must be a list of maps with source and destination (got ${kindOf(value)})` });
    return [];
  }
  const out: FileMapping[] = [];
  value.forEach((entry, i) => {
    const path = item('files', i);
    if (!isMap(entry)) {
      issues.push({ path, problem: `must be a map with source and destination (got ${kindOf(entry)})` });
      return;
    }
    const sourceValue = entry['source'];
    const destinationValue = entry['destination'];
    const sourceMissing = sourceValue === undefined || sourceValue === null;
    const destinationMissing = destinationValue === undefined || destinationValue === null;
    // Values are used verbatim: `/`, `` and `./x` keep their meaning relative to the bundle root.
    const source = scalarText(sourceValue);
    const destination = scalarText(destinationValue);
    if (sourceMissing && destinationMissing) {
      issues.push({ path, problem: 'missing source and destination (the entry specifies neither a source file nor a destination)' });
      return;
    }
    if (sourceMissing) {
      issues.push({ path: at(path, 'source'), problem: 'missing (the entry specifies a destination file, but no source file)' });
    } else if (source === undefined) {
      issues.push({ path: at(path, 'source'), problem: `must be a path in the bundle (got ${kindOf(sourceValue)})` });
    }
    if (destinationMissing) {
      issues.push({ path: at(path, 'destination'), problem: `missing (the entry specifies only a source file (${show(sourceValue)}))` });
    } else if (destination === undefined) {
      issues.push({ path: at(path, 'destination'), problem: `must be a directory path (got ${kindOf(destinationValue)})` });
    }
    if (source !== undefined && destination !== undefined) out.push({ source, destination });
  });
  return out;
}

function parseFileExistsBehavior(value: unknown, issues: AppSpecIssue[]): FileExistsBehavior | undefined {
  if (value === undefined || value === null) return undefined;
  // Case-sensitive in the AppSpec (only the deployment-level option is upper-cased by the agent).
  const found = FileExistsBehaviors.find((b) => b === value);
  if (found === undefined) {
    issues.push({
      path: 'file_exists_behavior',
      problem: `invalid file_exists_behavior value (${show(value)}); use ${FileExistsBehaviors.join(', ')}`,
    });
  }
  return found;
}
