/**
 * Planning an Install: turns the AppSpec's `files` and `permissions` into instructions, deciding every
 * file-exists question against the host as it will be once the group's previous files are removed.
 * Nothing here writes; a conflict throws before the caller removes or copies anything (the AWS agent
 * finds DISALLOW conflicts only after deleting the previous revision's files).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DeployError } from '@fleetdeploy/shared';
import type { Permission, ServerAppSpec } from '@fleetdeploy/shared';
import type { Instruction } from './instructions.js';
import { lstatKind } from './cleanup.js';
import { hostPath } from './destination-root.js';
import { escapeFromRoot } from './link-containment.js';
import type { PathKind } from './cleanup.js';

/** PlanInput is what planInstall needs: the AppSpec, where the bundle is unpacked, and the host's view. */
export interface PlanInput {
  appSpec: ServerAppSpec;
  archiveDir: string;
  /** The deployment's fileExistsBehavior (the AppSpec's own value wins over it). */
  deploymentFileExistsBehavior: string;
  /** Paths the previous Install of the group created that cleanup will remove (see predictCleanup). */
  removedByCleanup: ReadonlySet<string>;
  /** The agent's destination_root, under which destinations and permission objects land (see hostPath). */
  destinationRoot?: string;
}

const VALID_BEHAVIORS = ['DISALLOW', 'OVERWRITE', 'RETAIN'];

/** planInstall returns the ordered instructions of an Install or throws the first conflict it finds. */
export function planInstall(input: PlanInput): Instruction[] {
  const planner = new Planner(input);
  for (const [i, mapping] of input.appSpec.files.entries()) planner.addMapping(i, mapping.source, mapping.destination);
  planner.judgeLinks();
  planner.addPermissions(input.appSpec.permissions);
  return planner.instructions;
}

class Planner {
  readonly instructions: Instruction[] = [];
  private readonly dirs = new Set<string>();
  /** Folders this plan makes that do not exist on the host (so neither does anything inside them). */
  private readonly created = new Set<string>();
  private readonly copies = new Map<string, string>();
  /** Symbolic links the plan installs (destination → link text), kept only under a destination_root. */
  private readonly links = new Map<string, string>();
  private readonly behavior: string;

  constructor(private readonly input: PlanInput) {
    this.behavior = input.appSpec.fileExistsBehavior ?? (input.deploymentFileExistsBehavior.toUpperCase() || 'DISALLOW');
  }

  addMapping(index: number, source: string, destination: string): void {
    // A plain join, as the agent does: `/`, `./x` and `x` all resolve under the archive root.
    const src = path.join(this.input.archiveDir, source);
    const dst = hostPath(destination, this.input.destinationRoot);
    if (!isInside(this.input.archiveDir, src)) {
      throw new DeployError('UnknownError', `files[${index}].source: ${source} points outside the bundle`);
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(src);
    } catch {
      // Divergence: the AWS agent records the destination and fails with ENOENT mid-install; we refuse before anything changes.
      throw new DeployError('UnknownError', `files[${index}].source: ${source} does not exist in the bundle (looked for ${src})`);
    }
    if (st.isDirectory()) {
      this.ensureDirs(dst);
      this.copyDir(src, dst, new Set([fs.realpathSync(src)]));
    } else {
      const target = path.join(dst, path.basename(src));
      this.ensureDirs(dst);
      this.copyFile(src, target);
    }
  }

  /**
   * judgeLinks refuses the Install when a link it installs would lead outside the destination_root
   * from where it lands, judged against the host as the whole plan leaves it. Without a root, links
   * are installed as the AWS agent installs them, whatever their text.
   */
  judgeLinks(): void {
    const root = this.input.destinationRoot;
    if (root === undefined) return;
    const rootPath = path.resolve(root);
    // Every link's walk starts at the root, so the folders near it are asked about again and again.
    const known = new Map<string, string | undefined>();
    const linkAt = (p: string): string | undefined => {
      if (!known.has(p)) known.set(p, this.linkAt(p));
      return known.get(p);
    };
    for (const [dst, target] of this.links) {
      const reason = escapeFromRoot(dst, target, rootPath, linkAt);
      if (reason === undefined) continue;
      const source = path.relative(this.input.archiveDir, this.copies.get(dst) as string);
      throw new DeployError('UnknownError', `the bundle's symbolic link ${source} -> ${target} would be installed at ${dst}, from where it leads outside destination_root ${rootPath}: ${reason}`);
    }
  }

  addPermissions(permissions: readonly Permission[]): void {
    const createdFiles = new Set(this.copies.keys());
    const assigned = new Set<string>();
    for (const [i, perm] of permissions.entries()) {
      const object = hostPath(perm.object, this.input.destinationRoot);
      let targets: string[] = [];
      if (createdFiles.has(object)) {
        if (perm.types.includes('file')) {
          if (perm.pattern !== '**') {
            throw new DeployError('UnknownError', `permissions[${i}]: the file object ${object} has an invalid pattern (${perm.pattern}); a file takes only the pattern **`);
          }
          if (perm.except.length > 0) {
            throw new DeployError('UnknownError', `permissions[${i}]: the except parameter for a pattern applied to the file ${object} has an invalid format; a file takes no except list`);
          }
          if (perm.acls?.some((a) => a.startsWith('default:'))) {
            throw new DeployError('UnknownError', `permissions[${i}]: the -d parameter has been specified to apply an acl setting to a file (${object}); default ACL entries apply to directories only`);
          }
          targets = [object];
        }
      } else if (this.dirs.has(object) || this.hostIsDirectory(object)) {
        const candidates = [
          ...(perm.types.includes('file') ? createdFiles : []),
          ...(perm.types.includes('directory') ? this.dirs : []),
        ];
        targets = candidates.filter((p) => matchesPermission(object, p, perm));
      }
      // Anything else (an object neither installed nor on the host) is ignored, as the agent does.
      for (const target of targets) {
        if (assigned.has(target)) {
          throw new DeployError('UnknownError', `permissions[${i}]: the permissions setting for (${target}) is specified more than once`);
        }
        assigned.add(target);
        this.instructions.push(...permissionInstructions(perm, target));
      }
    }
  }

  /** The link text at p once the plan is applied: the plan's own links first, then the host's. */
  private linkAt(p: string): string | undefined {
    const planned = this.links.get(p);
    if (planned !== undefined) return planned;
    if (this.copies.has(p) || this.dirs.has(p) || this.hostKind(p) !== 'symlink') return undefined;
    return fs.readlinkSync(p);
  }

  /** What is at a path once cleanup has run. Nothing is inside a folder this plan creates. */
  private hostKind(p: string): PathKind {
    if (this.created.has(path.dirname(p))) return 'none';
    return this.input.removedByCleanup.has(p) ? 'none' : lstatKind(p);
  }

  private hostIsDirectory(p: string): boolean {
    const kind = this.hostKind(p);
    if (kind === 'directory') return true;
    if (kind !== 'symlink') return false;
    try {
      return fs.statSync(p).isDirectory();
    } catch {
      return false;
    }
  }

  /** Creates every missing ancestor of dir, top-down, as `mkdir -p` would. */
  private ensureDirs(dir: string): void {
    const chain: string[] = [];
    for (let d = dir; ; d = path.dirname(d)) {
      chain.unshift(d);
      if (path.dirname(d) === d) break;
    }
    for (const d of chain) this.mkdir(d);
  }

  private mkdir(dir: string): void {
    if (this.dirs.has(dir)) return;
    const file = this.copies.get(dir);
    if (file !== undefined) {
      throw new DeployError('UnknownError', `the revision calls for installing the file ${file} at ${dir} and also for creating a directory there (mkdir command more than once)`);
    }
    if (this.hostIsDirectory(dir)) return;
    if (this.hostKind(dir) !== 'none') {
      throw new DeployError('UnknownError', `cannot create the directory ${dir}: a file already exists at that path`);
    }
    this.dirs.add(dir);
    this.created.add(dir);
    this.instructions.push({ type: 'mkdir', directory: dir });
  }

  private copyDir(src: string, dst: string, visiting: Set<string>): void {
    this.mkdir(dst);
    const entries = fs.readdirSync(src, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const childSrc = childPath(src, entry.name);
      const childDst = childPath(dst, entry.name);
      let isDir = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        try {
          isDir = fs.statSync(childSrc).isDirectory(); // directory symlinks are followed, as the agent does
        } catch {
          isDir = false; // a dangling symlink is copied as a link
        }
      }
      if (!isDir) {
        this.copyFile(childSrc, childDst);
        continue;
      }
      const real = fs.realpathSync(childSrc);
      if (visiting.has(real)) {
        throw new DeployError('UnknownError', `the bundle's symbolic link ${path.relative(this.input.archiveDir, childSrc)} makes a directory loop`);
      }
      visiting.add(real);
      this.copyDir(childSrc, childDst, visiting);
      visiting.delete(real);
    }
  }

  private copyFile(src: string, dst: string): void {
    const earlier = this.copies.get(dst);
    if (earlier !== undefined) {
      throw new DeployError('UnknownError', `the revision has two source files named ${earlier} and ${src} for the same destination ${dst}`);
    }
    if (this.dirs.has(dst)) {
      throw new DeployError('UnknownError', `the revision calls for installing the file ${src} at ${dst}, where a directory is also to be created`);
    }
    if (this.hostExists(dst)) {
      switch (this.behavior) {
        case 'DISALLOW':
          throw new DeployError('UnknownError', `The deployment failed because a specified file already exists at this location: ${dst}`);
        case 'RETAIN':
          return; // kept as it is and never recorded, so no later cleanup deletes it
        case 'OVERWRITE':
          if (this.hostIsDirectory(dst)) {
            // Divergence: the AWS agent copies the file *into* that directory; replacing a directory with a file is never what was meant.
            throw new DeployError('UnknownError', `cannot overwrite the directory ${dst} with the file ${src}`);
          }
          break;
        default:
          throw new DeployError('UnknownError', `The deployment failed because an invalid option was specified for fileExistsBehavior: ${this.behavior}. Valid options are ${VALID_BEHAVIORS.join(', ')}`);
      }
    }
    this.copies.set(dst, src);
    if (this.input.destinationRoot !== undefined && fs.lstatSync(src).isSymbolicLink()) this.links.set(dst, fs.readlinkSync(src));
    this.instructions.push({ type: 'copy', source: src, destination: dst });
  }

  /** "Exists" as the agent means it: a file, a directory or a symlink whose target exists. */
  private hostExists(p: string): boolean {
    const kind = this.hostKind(p);
    if (kind === 'none') return false;
    if (kind !== 'symlink') return true;
    return fs.existsSync(p);
  }
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * matchesPermission applies a permissions entry's pattern to a path strictly below its object: `**`
 * matches any depth, any other pattern only the single path component directly below the object;
 * `except` globs can only ever exclude those immediate children.
 */
export function matchesPermission(object: string, p: string, perm: Pick<Permission, 'pattern' | 'except'>): boolean {
  const rel = path.relative(object, p);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return false;
  const immediate = !rel.includes('/');
  if (perm.pattern !== '**' && !(immediate && simpleGlob(perm.pattern, rel))) return false;
  return !(immediate && perm.except.some((e) => simpleGlob(e, rel)));
}

/** simpleGlob is the agent's glob: `*` matches any run of characters; everything else is literal. */
export function simpleGlob(pattern: string, name: string): boolean {
  const re = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${re}$`, 's').test(name);
}

/** The AWS agent's fixed order per object: chmod, ACL, SELinux label, then owner. */
function permissionInstructions(perm: Permission, file: string): Instruction[] {
  const out: Instruction[] = [];
  if (perm.mode !== undefined) out.push({ type: 'chmod', mode: perm.mode, file });
  if (perm.acls !== undefined && perm.acls.length > 0) out.push({ type: 'setfacl', acl: perm.acls, file });
  if (perm.context !== undefined) {
    out.push({ type: 'semanage', context: { user: perm.context.name ?? null, role: null, type: perm.context.type, range: perm.context.range ?? null }, file });
  }
  if (perm.owner !== undefined || perm.group !== undefined) out.push({ type: 'chown', owner: perm.owner ?? null, group: perm.group ?? null, file });
  return out;
}

/**
 * childPath is `path.join(dir, name)` for a `name` read from the folder `dir` (never `.`, `..` or
 * holding a separator) when `dir` is already normalised (path.join or path.resolve made it): a
 * concatenation. path.join normalised the whole path again for every file, 13 ms of a 2,000-file
 * install's plan.
 */
function childPath(dir: string, name: string): string {
  return dir.endsWith(path.sep) ? `${dir}${name}` : `${dir}${path.sep}${name}`;
}
