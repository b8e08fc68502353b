/**
 * Pure checks on the names inside an archive: where an entry would land and where a link would point.
 * No file system access here, so every rule can be tested exhaustively and reviewed in one place.
 */

/** PathCheck is the outcome of a path rule: the cleaned path segments, or why the path is refused. */
export type PathCheck = { ok: true; segments: string[] } | { ok: false; reason: string };

/** MAX_PATH_BYTES is Linux's PATH_MAX; longer names cannot be created anyway. */
export const MAX_PATH_BYTES = 4096;

/** MAX_DEPTH matches node-tar's own nesting limit, so a name we accept is one it will extract. */
export const MAX_DEPTH = 1024;

/** MAX_LINK_HOPS is the kernel's MAXSYMLINKS: a longer chain fails with ELOOP on any real lookup. */
export const MAX_LINK_HOPS = 40;

/**
 * checkEntryPath turns an entry name into path segments below the bundle folder, or refuses it.
 * `zip` names may use `\` as a separator (Windows tools write them so; unzip converts them), so
 * there it is one; in tar it is an ordinary character, but `..` and roots hidden behind it are still
 * refused because node-tar strips Windows roots on every platform and must not disagree with us.
 * Any `..` is refused, even one that stays inside: GNU tar and node-tar refuse them too, and a `..`
 * after a symbolic link would be resolved by the kernel, not lexically.
 */
export function checkEntryPath(raw: string, format: 'tar' | 'zip'): PathCheck {
  const name = format === 'zip' ? raw.replaceAll('\\', '/') : raw;
  if (name.includes('\0')) return refuse('path contains a NUL byte');
  // A UTF-16 unit is at most 3 UTF-8 bytes, so only long names need counting.
  if (name.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(name) > MAX_PATH_BYTES) return refuse(`path is longer than ${MAX_PATH_BYTES} bytes`);
  if (/^[A-Za-z]:/.test(name)) return refuse('path starts with a drive letter');
  if (name.startsWith('/') || name.startsWith('\\')) return refuse('path is absolute');
  // Without two dots in a row there is no '..' segment to look for (the usual case, checked per entry).
  if (name.includes('..')) {
    let depth = 0;
    let sawDotDot = false;
    for (const part of name.split(/[\\/]/)) {
      if (part === '..') {
        sawDotDot = true;
        depth -= 1;
        if (depth < 0) return refuse('path leaves the bundle folder');
      } else if (part !== '' && part !== '.') {
        depth += 1;
      }
    }
    if (sawDotDot) return refuse("path contains a '..' segment");
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length > MAX_DEPTH) return refuse(`path is nested deeper than ${MAX_DEPTH} folders`);
  return { ok: true, segments };
}

/**
 * checkLinkText refuses symbolic-link targets that are unusable or point away from the bundle by
 * themselves: empty, absolute, or too long for the kernel. Relative targets are judged later by
 * {@link resolveLink}, once every link of the bundle is known.
 */
export function checkLinkText(target: string): string | undefined {
  if (target === '') return 'symbolic link has an empty target';
  if (target.includes('\0')) return 'symbolic link target contains a NUL byte';
  if (Buffer.byteLength(target) >= MAX_PATH_BYTES) return `symbolic link target is longer than ${MAX_PATH_BYTES - 1} bytes`;
  if (target.startsWith('/')) return `symbolic link target ${JSON.stringify(target)} is absolute`;
  return undefined;
}

/** LinkResolution is where a symbolic link ends up: segments below the bundle folder, or why not. */
export type LinkResolution = PathCheck;

/**
 * resolveLink follows a symbolic link the way the kernel would, inside a bundle whose links are
 * `links` (path → target, paths joined with `/`). The target is resolved from the link's own folder,
 * and every link met on the way is followed too, because a lexical check alone is fooled by
 * `a -> d/l/..` when `d/l` is itself a link. Any step above the bundle folder refuses the link, even
 * if later steps would come back in: coming back depends on names outside the bundle.
 */
export function resolveLink(linkSegments: readonly string[], target: string, links: ReadonlyMap<string, string>): LinkResolution {
  const current = linkSegments.slice(0, -1);
  const pending = splitTarget(target);
  if (target.startsWith('/')) return refuse(`symbolic link target ${JSON.stringify(target)} is absolute`);
  let hops = 0;
  for (let part = pending.shift(); part !== undefined; part = pending.shift()) {
    if (part === '..') {
      if (current.length === 0) return refuse(`symbolic link target ${JSON.stringify(target)} points outside the bundle folder`);
      current.pop();
      continue;
    }
    current.push(part);
    const next = links.get(current.join('/'));
    if (next === undefined) continue;
    hops += 1;
    if (hops > MAX_LINK_HOPS) return refuse(`symbolic link chain is circular or longer than ${MAX_LINK_HOPS} links`);
    if (next.startsWith('/')) return refuse(`symbolic link target ${JSON.stringify(target)} points outside the bundle folder`);
    current.pop();
    pending.unshift(...splitTarget(next));
  }
  return { ok: true, segments: current };
}

function splitTarget(target: string): string[] {
  return target.split('/').filter((s) => s !== '' && s !== '.');
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
