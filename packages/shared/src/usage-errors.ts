/**
 * One-line usage errors for the three commands (`fleetdeploy`, `fleetdeploy-coordinator`,
 * `fleetdeploy-agent`): an unknown flag, a missing value or an unknown command prints
 * `ERROR: unknown option '--prot' (see fleetdeploy-coordinator serve --help)` and exits 1, instead
 * of the whole help text. Written against the small part of commander's `Command` it touches, so
 * this package needs no dependency on commander.
 */

/** UsageCommand is the part of a commander `Command` that {@link oneLineUsageErrors} uses. */
export interface UsageCommand {
  name(): string;
  readonly commands: readonly UsageCommand[];
  configureOutput(config: { outputError(text: string, write: (text: string) => void): void }): unknown;
}

/**
 * usageErrorLine is commander's error text (`error: unknown option '--prot'\n(Did you mean --port?)\n`)
 * as our one line (`ERROR: unknown option '--prot'; did you mean --port? (see CMD --help)`).
 */
export function usageErrorLine(text: string, commandPath: string): string {
  const oneLine = text
    .replace(/^error: /, '')
    .trim()
    .replace(/\s*\n\(Did you mean (.*)\)$/s, '; did you mean $1')
    .replace(/\s*\n\s*/g, ' ');
  return `ERROR: ${oneLine} (see ${commandPath} --help)\n`;
}

/**
 * oneLineUsageErrors makes `program` and every command under it (also those added with
 * `addCommand`, which do not inherit output settings) print usage mistakes as one `ERROR:` line
 * naming the command's own help. Call it once all commands are defined.
 */
export function oneLineUsageErrors(program: UsageCommand, parentPath = ''): void {
  const commandPath = parentPath === '' ? program.name() : `${parentPath} ${program.name()}`;
  program.configureOutput({ outputError: (text, write) => write(usageErrorLine(text, commandPath)) });
  for (const sub of program.commands) oneLineUsageErrors(sub, commandPath);
}
