/**
 * Installing a daemon as a systemd service: the unit file goes to the unit directory (by default
 * /etc/systemd/system), then `systemctl daemon-reload` and `systemctl enable --now`. `--dry-run`
 * prints the file and the commands instead. Every failure is a {@link DeployError}-like one-line
 * {@link ServiceError} naming the file or the command and what to do.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { UnitSections } from './systemd-unit.js';
import { renderUnit } from './systemd-unit.js';

/** DEFAULT_UNIT_DIR is where administrators' own units go. */
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

/** SERVICE_FLAGS are the flags (commander syntax) both daemons' install-service and uninstall-service take. */
export const SERVICE_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['--unit-dir <dir>', `where the unit file goes (default: ${DEFAULT_UNIT_DIR})`],
  ['--no-enable', 'only write (or remove) the unit file; do not run systemctl'],
  ['--dry-run', 'print what would be written and run, change nothing'],
];

/** ServiceError is an install or uninstall that could not be done, with the operator's next step. */
export class ServiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** isServiceError tells a {@link ServiceError} by its name. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && err.name === 'ServiceError';
}

/** ServiceInstall says what to install and how. */
export interface ServiceInstall {
  /** The unit's name without `.service`, e.g. fleetdeploy-agent. */
  name: string;
  unitText: string;
  unitDir: string;
  /** Run systemctl daemon-reload and enable --now after writing (false: only write the file). */
  enable: boolean;
  dryRun: boolean;
  /** Replace a unit file that differs from this one. */
  force: boolean;
}

/** Systemctl runs `systemctl ARGS`, rejecting with its error output. */
export type Systemctl = (args: readonly string[]) => Promise<void>;

/** systemctl is the real one, found on PATH. */
export const systemctl: Systemctl = (args) =>
  new Promise((resolve, reject) => {
    execFile('systemctl', [...args], { timeout: 60_000 }, (err, _stdout, stderr) => {
      // Its first line, without the full stop we put our own text after.
      if (err) reject(new Error(((stderr.trim().split('\n')[0] ?? '') || err.message).replace(/\.$/, '')));
      else resolve();
    });
  });

/**
 * runningScript is the script this process runs (the daemon's bin/*.js, through any npm link or
 * global-install symlink), which the unit's ExecStart runs with this Node.js binary.
 */
export function runningScript(): string {
  return fs.realpathSync(process.argv[1]!);
}

/** unitPath is where the unit file of `name` goes. */
export function unitPath(unitDir: string, name: string): string {
  return path.join(unitDir, `${name}.service`);
}

/**
 * installService writes the unit and enables it; returns the lines to print. An identical unit already
 * there is left as it is (installing twice is harmless); a different one needs `force`.
 */
export async function installService(o: ServiceInstall, run: Systemctl = systemctl): Promise<string[]> {
  const file = unitPath(o.unitDir, o.name);
  const commands = o.enable ? [['daemon-reload'], ['enable', '--now', o.name]] : [];
  if (o.dryRun) {
    return [`# ${file} would contain:`, ...o.unitText.trimEnd().split('\n'), ...(o.enable ? ['', '# then run:', ...commands.map((c) => `systemctl ${c.join(' ')}`)] : [])];
  }
  if (!fs.existsSync(o.unitDir)) throw new ServiceError(`${o.unitDir} does not exist: is this a systemd machine? Give --unit-dir, or --dry-run to see the unit`);
  let existing: string | undefined;
  try {
    existing = fs.readFileSync(file, 'utf8');
  } catch {
    existing = undefined;
  }
  const lines: string[] = [];
  if (existing !== undefined && existing !== o.unitText && !o.force) {
    throw new ServiceError(`${file} exists and differs from the unit this version writes; compare with --dry-run, then give --force to replace it`);
  }
  if (existing !== o.unitText) {
    try {
      const temp = `${file}.tmp-${process.pid}`;
      fs.writeFileSync(temp, o.unitText, { mode: 0o644 });
      fs.renameSync(temp, file);
    } catch (err) {
      throw new ServiceError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)} (installing a service needs root)`);
    }
    lines.push(`wrote ${file}`);
  } else lines.push(`${file} is already installed`);
  for (const args of commands) {
    try {
      await run(args);
    } catch (err) {
      throw new ServiceError(`wrote ${file}, but systemctl ${args.join(' ')} failed: ${(err as Error).message}; run it once systemd manages this machine`);
    }
    lines.push(`ran systemctl ${args.join(' ')}`);
  }
  return lines;
}

/** uninstallService disables and stops the unit, then removes its file; returns the lines to print. */
export async function uninstallService(o: Pick<ServiceInstall, 'name' | 'unitDir' | 'enable' | 'dryRun'>, run: Systemctl = systemctl): Promise<string[]> {
  const file = unitPath(o.unitDir, o.name);
  const commands = o.enable ? [['disable', '--now', o.name]] : [];
  if (o.dryRun) return [...commands.map((c) => `systemctl ${c.join(' ')}`), `rm ${file}`, ...(o.enable ? ['systemctl daemon-reload'] : [])];
  if (!fs.existsSync(file)) throw new ServiceError(`${file} does not exist: ${o.name} is not installed there (give --unit-dir if it was installed elsewhere)`);
  const lines: string[] = [];
  for (const args of commands) {
    try {
      await run(args);
    } catch (err) {
      throw new ServiceError(`systemctl ${args.join(' ')} failed: ${(err as Error).message}; ${file} is left in place`);
    }
    lines.push(`ran systemctl ${args.join(' ')}`);
  }
  fs.rmSync(file);
  lines.push(`removed ${file}`);
  if (o.enable) {
    await run(['daemon-reload']).catch(() => undefined); // the unit is gone either way
    lines.push('ran systemctl daemon-reload');
  }
  return lines;
}

/** ServiceFlags are the flags of both daemons' install-service and uninstall-service commands. */
export interface ServiceFlags {
  config?: string;
  unitDir?: string;
  enable?: boolean;
  dryRun?: boolean;
  force?: boolean;
  /** The service manager's platform, for a daemon that offers more than systemd (the agent: linux or windows). */
  platform?: string;
}

/** installUnit writes `unit` as `name`.service (install-service's common part); returns the lines to print. */
export function installUnit(name: string, unit: UnitSections, writtenBy: string, flags: ServiceFlags, run: Systemctl = systemctl): Promise<string[]> {
  return installService({ name, unitText: renderUnit(unit, writtenBy), unitDir: flags.unitDir ?? DEFAULT_UNIT_DIR, enable: flags.enable !== false, dryRun: flags.dryRun === true, force: flags.force === true }, run);
}

/** uninstallUnit removes `name`.service (uninstall-service's common part); returns the lines to print. */
export function uninstallUnit(name: string, flags: ServiceFlags, run: Systemctl = systemctl): Promise<string[]> {
  return uninstallService({ name, unitDir: flags.unitDir ?? DEFAULT_UNIT_DIR, enable: flags.enable !== false, dryRun: flags.dryRun === true }, run);
}

/** ServiceCommandHost is the part of a commander `Command` that {@link addServiceCommands} uses (this package does not depend on commander). */
export interface ServiceCommandHost {
  command(name: string): ServiceCommandHost;
  description(text: string): ServiceCommandHost;
  option(flags: string, text: string): ServiceCommandHost;
  action(fn: (opts: ServiceFlags) => Promise<void>): ServiceCommandHost;
}

/** addServiceCommands adds install-service and uninstall-service to a daemon's command line. */
export function addServiceCommands(
  program: ServiceCommandHost,
  o: {
    install: string;
    uninstall: string;
    config: string;
    runInstall(flags: ServiceFlags): Promise<string[]>;
    runUninstall(flags: ServiceFlags): Promise<string[]>;
    /** Further install-service flags (commander syntax, help text) of this daemon. */
    installFlags?: ReadonlyArray<readonly [string, string]>;
  },
): void {
  const withFlags = (command: ServiceCommandHost): ServiceCommandHost => {
    for (const [flags, text] of SERVICE_FLAGS) command.option(flags, text);
    return command;
  };
  const print = (run: (flags: ServiceFlags) => Promise<string[]>) => async (flags: ServiceFlags) => {
    for (const line of await run(flags)) console.log(line);
  };
  const install = withFlags(program.command('install-service').description(o.install).option('-c, --config <file>', o.config).option('--force', 'replace an installed unit file that differs from this one'));
  for (const [flags, text] of o.installFlags ?? []) install.option(flags, text);
  install.action(print(o.runInstall));
  withFlags(program.command('uninstall-service').description(o.uninstall)).action(print(o.runUninstall));
}
