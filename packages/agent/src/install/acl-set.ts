/**
 * The complete ACL that `setfacl --set` needs: the AppSpec lists only named entries, so the base
 * entries come from the object's mode after chmod. Computed per object (the AWS agent accumulates
 * them across objects, which duplicates entries; we do not).
 */

/** rwx renders three permission bits as `rwx` text. */
function rwx(bits: number): string {
  return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
}

/**
 * fullAcl completes normalised entries (`user:bob:rw-`, `default:group:dev:r--`) with the owner,
 * group and other entries of `mode`, and with the default base entries when any default entry is
 * present. The mask is left to setfacl, which recalculates it from the entries (so a named entry is
 * not silently cut down to the group bits, as the AWS agent's derived mask does).
 */
export function fullAcl(entries: readonly string[], mode: number): string[] {
  const out = [...entries];
  const has = (prefix: string): boolean => out.some((e) => e.startsWith(prefix));
  const base: Array<[string, number]> = [
    ['user::', (mode >> 6) & 7],
    ['group::', (mode >> 3) & 7],
    ['other::', mode & 7],
  ];
  for (const [prefix, bits] of base) if (!has(prefix)) out.push(`${prefix}${rwx(bits)}`);
  if (entries.some((e) => e.startsWith('default:'))) {
    for (const [prefix, bits] of base) if (!has(`default:${prefix}`)) out.push(`default:${prefix}${rwx(bits)}`);
  }
  return out;
}
