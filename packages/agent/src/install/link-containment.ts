/**
 * Whether a symbolic link installed under the agent's `destination_root` stays inside it. The bundle's
 * own checks judge a link where it sits in the bundle; the AppSpec may install it nearer the root
 * (`app/sub/l -> ../../x` installed from `app/sub` to `/a`), where the same text climbs out. So the
 * link is judged again at the path it will have on the host. No I/O here: what lies on the host is
 * asked of `linkAt`, which the planner answers from its plan and the host as cleanup will leave it.
 */
import path from 'node:path';
import { MAX_LINK_HOPS } from '../bundle/entry-guard.js';

/**
 * LinkAt tells the link text of whatever will be at an absolute host path once the Install is
 * applied, or undefined when that is not a symbolic link (a file, a folder, or nothing).
 */
export type LinkAt = (hostPath: string) => string | undefined;

/**
 * escapeFromRoot follows the link that will be installed at `installedAt` with text `target` as the
 * kernel would, starting at `root` and walking down to the link's folder (so links in that path count
 * too), then along the target, following every link met on the way. It returns why the walk leaves
 * `root`, or undefined when it stays inside. Any step above the root refuses the link, even if later
 * steps would come back in: coming back depends on names outside the root.
 */
export function escapeFromRoot(installedAt: string, target: string, root: string, linkAt: LinkAt): string | undefined {
  const rootPath = path.resolve(root);
  // A root of / is the whole host: `..` at the top stays there, so nothing can leave it.
  if (rootPath === '/') return undefined;
  const linkFolder = segmentsUnder(rootPath, path.dirname(installedAt));
  if (linkFolder === undefined) throw new Error(`${installedAt} is not under ${rootPath}`);

  let current: string[] = [];
  let pending: string[];
  if (target.startsWith('/')) {
    const under = absoluteUnder(rootPath, target);
    if (under === undefined) return "its target is absolute, and an absolute target is read from the host's /, not from destination_root";
    pending = under;
  } else {
    pending = [...linkFolder, ...splitTarget(target)];
  }

  let hops = 0;
  let lastFollowed: string | undefined;
  for (let part = pending.shift(); part !== undefined; part = pending.shift()) {
    if (part === '..') {
      if (current.length === 0) return lastFollowed === undefined ? 'its target climbs above the root' : `its target climbs above the root after following the symbolic link ${lastFollowed}`;
      current.pop();
      continue;
    }
    current.push(part);
    const at = path.join(rootPath, ...current);
    const next = linkAt(at);
    if (next === undefined) continue;
    hops += 1;
    if (hops > MAX_LINK_HOPS) return `its chain of symbolic links is circular or longer than ${MAX_LINK_HOPS} links`;
    lastFollowed = `${at} -> ${next}`;
    current.pop();
    if (next.startsWith('/')) {
      const under = absoluteUnder(rootPath, next);
      if (under === undefined) return `it goes through the symbolic link ${lastFollowed}, which points outside the root`;
      current = [];
      pending.unshift(...under);
    } else {
      pending.unshift(...splitTarget(next));
    }
  }
  return undefined;
}

/** segmentsUnder gives p's path segments below root (none for root itself), or undefined outside it. */
function segmentsUnder(root: string, p: string): string[] | undefined {
  const rel = path.relative(root, path.resolve(p));
  if (rel === '') return [];
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep);
}

/**
 * absoluteUnder gives the segments of an absolute target after the root's own, unresolved, so that
 * `..` in them is still walked (and judged) step by step; undefined when the target does not start
 * with the root. The root is compared as written: a target naming it through another path of the
 * same folder is refused, which errs on the side of refusing.
 */
function absoluteUnder(root: string, target: string): string[] | undefined {
  const rootParts = splitTarget(root);
  const parts = splitTarget(target);
  for (const [i, part] of rootParts.entries()) {
    if (parts[i] !== part) return undefined;
  }
  return parts.slice(rootParts.length);
}

function splitTarget(target: string): string[] {
  return target.split('/').filter((s) => s !== '' && s !== '.');
}
