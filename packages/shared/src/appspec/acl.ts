/**
 * The ACL entry (ACE) grammar of a permissions entry's `acls` list, as the AWS agent reads it:
 * `[d|default:][u|user|g|group|m|mask|o|other:]<name>:<perms>`, 2 to 4 colon-separated parts read
 * right to left, where `<perms>` is one octal digit or any mix of `r`, `w`, `x` and `-`.
 */
import type { Checked } from './values.js';

/** AclEntryType is the kind of subject an ACL entry grants permissions to. */
export type AclEntryType = 'user' | 'group' | 'mask' | 'other';

/** AclEntry is one validated ACL entry. `name` is empty for mask, other and default base entries. */
export interface AclEntry {
  default: boolean;
  type: AclEntryType;
  name: string;
  read: boolean;
  write: boolean;
  execute: boolean;
}

const DEFAULT_WORDS = new Set(['d', 'default']);
const TYPE_WORDS: Record<string, AclEntryType> = {
  u: 'user',
  user: 'user',
  g: 'group',
  group: 'group',
  m: 'mask',
  mask: 'mask',
  o: 'other',
  other: 'other',
};

function typeWord(word: string): AclEntryType | undefined {
  return Object.hasOwn(TYPE_WORDS, word) ? TYPE_WORDS[word] : undefined;
}

/**
 * parseAclEntry validates one ACE. Problems carry the agent's wording: `Invalid acl entry (<ace>)`,
 * `Use mode to set the base acl entry (<ace>)`, `... contains an invalid character`.
 */
export function parseAclEntry(ace: string): Checked<AclEntry> {
  const invalid: Checked<AclEntry> = { ok: false, problem: `Invalid acl entry (${ace})` };
  // Right to left: perms, name, then an optional type and an optional default marker.
  const parts = ace.split(':').reverse();
  if (parts.length < 2 || parts.length > 4) return invalid;
  const [perms = '', nameOrType = '', third, fourth] = parts;

  let isDefault = false;
  let type: AclEntryType | undefined;
  if (fourth !== undefined) {
    if (!DEFAULT_WORDS.has(fourth)) return invalid;
    isDefault = true;
  }
  if (third !== undefined) {
    if (DEFAULT_WORDS.has(third)) {
      if (isDefault) return invalid;
      isDefault = true;
    } else {
      type = typeWord(third);
      if (type === undefined) return invalid;
    }
  }

  // `m` and `o` in the name slot are the type when none was given (`o:r`, `d:m:rwx`), else a name.
  let name = '';
  const nameSlotType = typeWord(nameOrType);
  if (nameSlotType === 'mask' || nameSlotType === 'other') {
    if (type === undefined) type = nameSlotType;
    else name = nameSlotType;
  } else {
    type ??= 'user';
    name = nameOrType;
  }

  if ((type === 'mask' || type === 'other') && name !== '') return invalid;
  // The owner, owning group and other entries follow the file mode; the AppSpec sets those via `mode`.
  if (!isDefault && type !== 'mask' && name === '') {
    return { ok: false, problem: `Use mode to set the base acl entry (${ace})` };
  }

  let read = false;
  let write = false;
  let execute = false;
  if (/^[0-7]$/.test(perms)) {
    const bits = Number(perms);
    read = (bits & 4) !== 0;
    write = (bits & 2) !== 0;
    execute = (bits & 1) !== 0;
  } else {
    for (const c of perms) {
      if (c === 'r') read = true;
      else if (c === 'w') write = true;
      else if (c === 'x') execute = true;
      else if (c !== '-') {
        return { ok: false, problem: `invalid character ${c} in ${ace} (the acl entry contains an invalid character)` };
      }
    }
  }
  return { ok: true, value: { default: isDefault, type, name, read, write, execute } };
}

/** formatAclEntry renders an entry in the normalised form `[default:]<type>:<name>:<rwx>`, e.g. `user:bob:rw-`. */
export function formatAclEntry(e: AclEntry): string {
  const perms = `${e.read ? 'r' : '-'}${e.write ? 'w' : '-'}${e.execute ? 'x' : '-'}`;
  return `${e.default ? 'default:' : ''}${e.type}:${e.name}:${perms}`;
}

/** normaliseAclEntry validates an ACE and returns its normalised form (`d:g:dev:4` → `default:group:dev:r--`). */
export function normaliseAclEntry(ace: string): Checked<string> {
  const parsed = parseAclEntry(ace);
  return parsed.ok ? { ok: true, value: formatAclEntry(parsed.value) } : parsed;
}
