/**
 * The complete ACL that `setfacl --set` needs: the AppSpec lists only named entries, so the base
 * entries and the mask come from the object's mode after chmod, as the AWS agent derives them.
 * Computed per object (the AWS agent accumulates them across objects, which duplicates entries; we
 * do not).
 */

/** rwx renders three permission bits as `rwx` text. */
function rwx(bits: number): string {
  return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
}

/** Entry is a normalised ACL entry taken apart: `[default:]type:name:perms`. */
interface Entry {
  isDefault: boolean;
  type: string;
  name: string;
  perms: string;
}

function split(entry: string): Entry {
  const parts = entry.split(':');
  const isDefault = parts[0] === 'default';
  const [type = '', name = '', perms = ''] = isDefault ? parts.slice(1) : parts;
  return { isDefault, type, name, perms };
}

/**
 * fullAcl completes normalised entries (`user:bob:rw-`, `default:group:dev:r--`) the AWS agent's way,
 * so that an object ends with the same mode and ACL under either agent:
 *
 * - `user::`, `group::` and `other::` from `mode`;
 * - `mask::` set to the group bits of `mode` when a named entry is listed without a mask. Giving the
 *   mask keeps setfacl from recalculating it from the entries, which would widen the group bits that
 *   `ls -l` and `stat` show past the AppSpec's `mode` (0640 with `user:bob:rwx` stays 0640 and bob's
 *   effective rights are `r--`, as under the AWS agent);
 * - with any default entry: the default `user::`, `group::` and `other::` from `mode` where not listed,
 *   and, when a default named entry is listed without a default mask, `default:mask::` with the
 *   default group entry's permissions.
 *
 * Example: mode 0750 with `user:bob:rwx`, `default:user:bob:rwx` gives `user:bob:rwx`,
 * `default:user:bob:rwx`, `user::rwx`, `group::r-x`, `other::---`, `mask::r-x`, `default:user::rwx`,
 * `default:group::r-x`, `default:other::---`, `default:mask::r-x`.
 */
export function fullAcl(entries: readonly string[], mode: number): string[] {
  const listed = entries.map(split);
  const out = [...entries];
  const base: Array<[type: string, bits: number]> = [
    ['user', (mode >> 6) & 7],
    ['group', (mode >> 3) & 7],
    ['other', mode & 7],
  ];
  const find = (isDefault: boolean, type: string): Entry | undefined => listed.find((e) => e.isDefault === isDefault && e.type === type && e.name === '');
  const hasNamed = (isDefault: boolean): boolean => listed.some((e) => e.isDefault === isDefault && e.name !== '');

  for (const [type, bits] of base) if (find(false, type) === undefined) out.push(`${type}::${rwx(bits)}`);
  if (hasNamed(false) && find(false, 'mask') === undefined) out.push(`mask::${rwx(base[1]![1])}`);

  if (listed.some((e) => e.isDefault)) {
    for (const [type, bits] of base) if (find(true, type) === undefined) out.push(`default:${type}::${rwx(bits)}`);
    if (hasNamed(true) && find(true, 'mask') === undefined) {
      out.push(`default:mask::${find(true, 'group')?.perms ?? rwx(base[1]![1])}`);
    }
  }
  return out;
}
