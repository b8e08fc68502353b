/**
 * The EC2/on-premises `permissions` section: each entry's object, pattern, except, type, owner,
 * group, mode, acls and SELinux context, validated and normalised. Which files an entry reaches is
 * decided at Install time, not here.
 */
import type { Permission, PermissionType, SelinuxContext } from './types.js';
import { normaliseAclEntry } from './acl.js';
import { normaliseSelinuxRange } from './selinux.js';
import { at, isMap, item, kindOf, scalarText, show, type AppSpecIssue, type Checked } from './values.js';

const PERMISSION_TYPES: readonly PermissionType[] = ['file', 'directory'];

/**
 * normaliseMode validates a `mode`: 1 to 4 octal digits given as an integer or a string, left-padded
 * with zeros to 3 digits (`7` → `007`, `"0644"` → `0644`). YAML's `0644` arrives as the integer 644.
 */
export function normaliseMode(value: unknown): Checked<string> {
  const text = scalarText(value);
  if (text === undefined) return { ok: false, problem: `must be an octal mode such as 644 (got ${kindOf(value)})` };
  if (text.length < 1 || text.length > 4) {
    return { ok: false, problem: `invalid mode ${text === '' ? '(empty)' : text} (the length of a permissions mode must be 1 to 4 octal digits)` };
  }
  const bad = [...text].find((c) => c < '0' || c > '7');
  if (bad !== undefined) return { ok: false, problem: `invalid character ${bad} in ${text} (contains an invalid character)` };
  return { ok: true, value: text.padStart(3, '0') };
}

/** Reads an optional scalar field as text; null and absent mean "not given". */
function optionalText(entry: Record<string, unknown>, key: string, path: string, what: string, issues: AppSpecIssue[]): string | undefined {
  const v = entry[key];
  if (v === undefined || v === null) return undefined;
  const text = scalarText(v);
  if (text === undefined || text === '') {
    issues.push({ path: at(path, key), problem: `must be ${what} (got ${text === '' ? 'an empty string' : kindOf(v)})` });
    return undefined;
  }
  return text;
}

function parseExcept(v: unknown, path: string, issues: AppSpecIssue[]): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    issues.push({ path, problem: `must be a list of name patterns (got ${kindOf(v)})` });
    return [];
  }
  const out: string[] = [];
  v.forEach((e, j) => {
    const text = scalarText(e);
    if (text === undefined) issues.push({ path: item(path, j), problem: `must be a name pattern (got ${kindOf(e)})` });
    else out.push(text);
  });
  return out;
}

function parseTypes(v: unknown, path: string, issues: AppSpecIssue[]): PermissionType[] {
  if (v === undefined || v === null) return [...PERMISSION_TYPES];
  // A lone `type: file` is accepted as a one-item list; the agent would crash iterating the string.
  const list: unknown[] = Array.isArray(v) ? v : [v];
  const out: PermissionType[] = [];
  list.forEach((t, j) => {
    const p = Array.isArray(v) ? item(path, j) : path;
    const found = PERMISSION_TYPES.find((known) => known === t);
    if (found === undefined) {
      issues.push({ path: p, problem: `object type not supported for permissions (${show(t)}); use file or directory` });
    } else if (!out.includes(found)) {
      out.push(found);
    }
  });
  return out;
}

function parseAcls(v: unknown, path: string, issues: AppSpecIssue[]): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    issues.push({ path, problem: `must be a list of acl entries such as u:bob:rw (got ${kindOf(v)})` });
    return undefined;
  }
  const out: string[] = [];
  v.forEach((e, j) => {
    const text = scalarText(e);
    const checked = text === undefined ? undefined : normaliseAclEntry(text);
    if (checked === undefined) issues.push({ path: item(path, j), problem: `Invalid acl entry (${show(e)}); expected text such as u:bob:rw` });
    else if (!checked.ok) issues.push({ path: item(path, j), problem: checked.problem });
    else out.push(checked.value);
  });
  return out;
}

function parseContext(v: unknown, path: string, issues: AppSpecIssue[]): SelinuxContext | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isMap(v)) {
    issues.push({ path, problem: `must be a map with name, type and range (got ${kindOf(v)})` });
    return undefined;
  }
  const before = issues.length;
  // The agent reads the SELinux user from `name`; the documented `user` key is ignored, as there.
  const name = optionalText(v, 'name', path, 'an SELinux user name', issues);
  const typeValue = v['type'];
  const type = scalarText(typeValue);
  if (type === undefined || type === '') {
    const got = typeValue === undefined || typeValue === null ? 'missing' : `got ${type === '' ? 'an empty string' : kindOf(typeValue)}`;
    issues.push({ path: at(path, 'type'), problem: `${got} (invalid context type: an SELinux type such as httpd_sys_content_t is required)` });
  }
  let range: string | undefined;
  const rangeValue = v['range'];
  if (rangeValue !== undefined && rangeValue !== null) {
    const text = scalarText(rangeValue);
    const checked = text === undefined ? undefined : normaliseSelinuxRange(text);
    if (checked === undefined) {
      issues.push({ path: at(path, 'range'), problem: `must be text such as s0:c0.c5 (problem with the SELinux range: got ${kindOf(rangeValue)})` });
    } else if (!checked.ok) {
      issues.push({ path: at(path, 'range'), problem: `${checked.problem} (problem with the SELinux range ${text})` });
    } else {
      range = checked.value;
    }
  }
  if (issues.length > before || type === undefined) return undefined;
  return { ...(name !== undefined && { name }), type, ...(range !== undefined && { range }) };
}

function parsePermission(entry: unknown, path: string, issues: AppSpecIssue[]): Permission | undefined {
  if (!isMap(entry)) {
    issues.push({ path, problem: `must be a map with an object (got ${kindOf(entry)})` });
    return undefined;
  }
  const before = issues.length;

  const objectValue = entry['object'];
  const object = scalarText(objectValue)?.trim();
  if (objectValue === undefined || objectValue === null || object === '') {
    issues.push({ path: at(path, 'object'), problem: 'missing (has no object value)' });
  } else if (object === undefined) {
    issues.push({ path: at(path, 'object'), problem: `must be a path (got ${kindOf(objectValue)})` });
  }

  let pattern = '**';
  const patternValue = entry['pattern'];
  if (patternValue !== undefined && patternValue !== null) {
    const text = scalarText(patternValue);
    if (text === undefined) issues.push({ path: at(path, 'pattern'), problem: `must be a name pattern such as *.txt (got ${kindOf(patternValue)})` });
    else pattern = text;
  }

  const except = parseExcept(entry['except'], at(path, 'except'), issues);
  const types = parseTypes(entry['type'], at(path, 'type'), issues);
  const owner = optionalText(entry, 'owner', path, 'a user name', issues);
  const group = optionalText(entry, 'group', path, 'a group name', issues);

  let mode: string | undefined;
  const modeValue = entry['mode'];
  if (modeValue !== undefined && modeValue !== null) {
    const checked = normaliseMode(modeValue);
    if (checked.ok) mode = checked.value;
    else issues.push({ path: at(path, 'mode'), problem: checked.problem });
  }

  const acls = parseAcls(entry['acls'], at(path, 'acls'), issues);
  const context = parseContext(entry['context'], at(path, 'context'), issues);

  if (issues.length > before || object === undefined) return undefined;
  return {
    object,
    pattern,
    except,
    types,
    ...(owner !== undefined && { owner }),
    ...(group !== undefined && { group }),
    ...(mode !== undefined && { mode }),
    ...(acls !== undefined && { acls }),
    ...(context !== undefined && { context }),
  };
}

/**
 * parsePermissions validates the `permissions` section. Any entry on Windows is one problem (the
 * agent supports permissions on Linux only); otherwise every entry is checked and all problems kept.
 */
export function parsePermissions(value: unknown, windows: boolean, issues: AppSpecIssue[]): Permission[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    issues.push({ path: 'permissions', problem: `must be a list of permission entries (got ${kindOf(value)})` });
    return [];
  }
  if (value.length === 0) return [];
  if (windows) {
    issues.push({
      path: 'permissions',
      problem: 'the AppSpec specifies file permissions, but the deployment is targeting one or more Windows Server instances; permissions are supported on Linux only',
    });
    return [];
  }
  const out: Permission[] = [];
  value.forEach((entry, i) => {
    const permission = parsePermission(entry, item('permissions', i), issues);
    if (permission !== undefined) out.push(permission);
  });
  return out;
}
