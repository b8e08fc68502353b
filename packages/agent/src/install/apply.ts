/**
 * Applying a planned Install. The cleanup file is written as the work goes (a copy's destination
 * before the copy, a directory after it exists), so an Install that fails half-way is still undone
 * completely by the next deployment of the group.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DeployError } from '@fleetdeploy/shared';
import type { Instruction } from './instructions.js';
import { SEMANAGE_PREFIX, lstatKind } from './cleanup.js';
import { fullAcl } from './acl-set.js';
import { runCommand } from '../process/spawn.js';
import { replacing } from '../replacing.js';

/** PermissionTools names the programs permissions need; tests point them elsewhere. */
export interface PermissionTools {
  setfacl: string;
  semanage: string;
  restorecon: string;
  chcon: string;
  getent: string;
}

/** defaultPermissionTools finds the programs on PATH. */
export const defaultPermissionTools: PermissionTools = { setfacl: 'setfacl', semanage: 'semanage', restorecon: 'restorecon', chcon: 'chcon', getent: 'getent' };

/**
 * Copies are made with synchronous calls in batches of this many, yielding to the event loop between
 * batches: on the hosts measured, one thread-pool round trip per call cost more than the copy of a
 * small file, and concurrent creates in one folder only contended for its lock.
 */
const COPY_BATCH = 64;

/** applyInstructions performs a plan, recording every created path in the group's cleanup file. */
export async function applyInstructions(
  instructions: readonly Instruction[],
  cleanupFile: string,
  tools: PermissionTools = defaultPermissionTools,
): Promise<void> {
  const fd = fs.openSync(cleanupFile, 'w');
  const record = (lines: string[]): void => {
    fs.writeSync(fd, lines.map((l) => `${l}\n`).join(''));
  };
  const ids = new IdResolver(tools.getent);
  const owners = process.getuid?.() === 0 ? new OwnerKeeper(0, process.getgid?.() ?? 0) : undefined;
  try {
    for (let i = 0; i < instructions.length; ) {
      const ins = instructions[i]!;
      if (ins.type === 'copy') {
        const batch: Array<Extract<Instruction, { type: 'copy' }>> = [];
        while (i < instructions.length && batch.length < COPY_BATCH && instructions[i]!.type === 'copy') {
          batch.push(instructions[i] as Extract<Instruction, { type: 'copy' }>);
          i++;
        }
        record(batch.map((c) => c.destination));
        for (const c of batch) copyEntry(c.source, c.destination, owners);
        await yieldToEventLoop();
        continue;
      }
      i++;
      switch (ins.type) {
        case 'mkdir':
          makeDirectory(ins.directory);
          record([ins.directory]);
          break;
        case 'chmod':
          fs.chmodSync(ins.file, parseInt(ins.mode, 8));
          break;
        case 'setfacl': {
          const acl = fullAcl(ins.acl, fs.statSync(ins.file).mode & 0o777);
          await mustRun(tools.setfacl, ['--set', acl.join(','), ins.file], 'setting the ACL of', ins.file, 'the acl package');
          break;
        }
        case 'semanage':
          if (await labelSelinux(ins, tools)) record([`${SEMANAGE_PREFIX}${fs.realpathSync(ins.file)}`]);
          break;
        case 'chown': {
          const uid = ins.owner === null ? -1 : await ids.uid(ins.owner);
          const gid = ins.group === null ? -1 : await ids.gid(ins.group);
          fs.chownSync(ins.file, uid, gid);
          break;
        }
        default: {
          const never: never = ins;
          throw new Error(`unknown instruction ${JSON.stringify(never)}`);
        }
      }
    }
  } catch (err) {
    if (err instanceof DeployError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new DeployError('UnknownError', `Install failed: ${e.message}`, { cause: err });
  } finally {
    fs.closeSync(fd);
  }
}

function makeDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir);
  } catch (err) {
    // Another entry of the same plan, or a script, may have made it meanwhile; a directory is fine.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || lstatKind(dir) !== 'directory') throw err;
  }
}

/**
 * copyEntry copies one bundle entry as `cp -a` would: links as links, files with their mode and
 * times, and their owner when we run as root. A target that already exists (OVERWRITE) is unlinked
 * first, so OVERWRITE of a symlink replaces the link instead of writing through it. Creating
 * exclusively and unlinking only on EEXIST costs nothing extra for the usual new file.
 */
function copyEntry(src: string, dst: string, owners: OwnerKeeper | undefined): void {
  const st = fs.lstatSync(src);
  if (st.isSymbolicLink()) {
    const target = fs.readlinkSync(src);
    replacing(dst, () => fs.symlinkSync(target, dst));
    if (owners?.needsChown(dst, st)) fs.lchownSync(dst, st.uid, st.gid);
    return;
  }
  replacing(dst, () => fs.copyFileSync(src, dst, fs.constants.COPYFILE_EXCL));
  if (owners?.needsChown(dst, st)) fs.chownSync(dst, st.uid, st.gid);
  if ((st.mode & 0o7000) !== 0) fs.chmodSync(dst, st.mode & 0o7777); // chown clears set-id bits; copyFile kept the rest
  // Seconds as numbers keep the sub-millisecond part that Date objects drop, and skip making them.
  fs.utimesSync(dst, st.atimeMs / 1000, st.mtimeMs / 1000);
}

/**
 * OwnerKeeper decides, when we run as root, whether a copy needs chown to keep its source's owner:
 * a new file already belongs to us, and to our group unless its folder is setgid (then to the
 * folder's group), so most copies of root-owned bundles skip the call.
 */
class OwnerKeeper {
  private readonly folderGroup = new Map<string, number>();
  constructor(
    private readonly uid: number,
    private readonly gid: number,
  ) {}

  needsChown(dst: string, source: fs.Stats): boolean {
    if (source.uid !== this.uid) return true;
    return source.gid !== this.groupOfNewFileIn(path.dirname(dst));
  }

  private groupOfNewFileIn(folder: string): number {
    let gid = this.folderGroup.get(folder);
    if (gid === undefined) {
      const st = fs.statSync(folder);
      gid = (st.mode & 0o2000) !== 0 ? st.gid : this.gid;
      this.folderGroup.set(folder, gid);
    }
    return gid;
  }
}

/** Lets timers and I/O callbacks run between batches of synchronous work. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * labelSelinux gives a file its SELinux context the AWS agent's way (`semanage fcontext -a` then
 * `restorecon`, which survives a relabel and is undone by the next cleanup). Hosts without semanage
 * get `chcon`, which labels the file directly; true when a cleanup record is owed.
 */
async function labelSelinux(ins: Extract<Instruction, { type: 'semanage' }>, tools: PermissionTools): Promise<boolean> {
  const { user, type, range } = ins.context;
  const real = fs.realpathSync(ins.file);
  const semanage = await runCommand(tools.semanage, ['fcontext', '-a', ...(user ? ['-s', user] : []), '-t', type, ...(range ? ['-r', range] : []), real]);
  if (semanage.spawnError?.code !== 'ENOENT') {
    failUnless(semanage, tools.semanage, 'labelling', ins.file);
    await mustRun(tools.restorecon, ['-v', real], 'restoring the SELinux context of', ins.file, 'policycoreutils');
    return true;
  }
  const chcon = await runCommand(tools.chcon, [...(user ? ['-u', user] : []), '-t', type, ...(range ? ['-l', range] : []), real]);
  if (chcon.spawnError?.code === 'ENOENT') {
    throw new DeployError('UnknownError', `Install failed labelling ${ins.file}: neither ${tools.semanage} (policycoreutils) nor ${tools.chcon} (coreutils) is installed on this host`);
  }
  if (chcon.code !== 0) {
    const why = (chcon.stderr || chcon.stdout).trim();
    throw new DeployError('UnknownError', `Install failed labelling ${ins.file}: ${tools.semanage} is not installed and ${tools.chcon} failed (is SELinux enabled on this host?): ${why}`);
  }
  return false;
}

function failUnless(out: Awaited<ReturnType<typeof runCommand>>, tool: string, doing: string, file: string): void {
  if (out.code === 0) return;
  const why = (out.stderr || out.stdout).trim() || (out.spawnError?.message ?? `signal ${out.signal}`);
  throw new DeployError('UnknownError', `Install failed ${doing} ${file}: ${tool} exited with ${out.code ?? out.signal}: ${why}`);
}

async function mustRun(tool: string, args: string[], doing: string, file: string, pkg: string): Promise<void> {
  const out = await runCommand(tool, args);
  if (out.spawnError?.code === 'ENOENT') {
    throw new DeployError('UnknownError', `Install failed ${doing} ${file}: ${tool} is not installed on this host (install ${pkg})`);
  }
  failUnless(out, tool, doing, file);
}

/** IdResolver looks user and group names up once each through the system's name service. */
class IdResolver {
  private readonly cache = new Map<string, number>();
  constructor(private readonly getent: string) {}

  uid(name: string): Promise<number> {
    return this.lookup('passwd', name, 'user');
  }

  gid(name: string): Promise<number> {
    return this.lookup('group', name, 'group');
  }

  private async lookup(db: 'passwd' | 'group', name: string, what: string): Promise<number> {
    const key = `${db}:${name}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const out = await runCommand(this.getent, [db, name]);
    const id = Number(out.stdout.split(':')[2]);
    if (out.code !== 0 || !Number.isInteger(id)) {
      throw new DeployError('UnknownError', `Install failed: the ${what} ${name} does not exist on this host`);
    }
    this.cache.set(key, id);
    return id;
  }
}
