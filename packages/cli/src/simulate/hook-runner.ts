/**
 * The hook runner of `simulate --local-aws`: plays the Lambda hook functions that moto cannot run.
 * For every asynchronous invocation (`InvocationType` `Event`) whose payload is CodeDeploy's
 * (`DeploymentId`, `LifecycleEventHookExecutionId`), it reports the function's outcome to the
 * coordinator with PutLifecycleEventHookExecutionStatus, as a real hook function does. Which outcome:
 *
 *   1. the function's entry in the hooks file (`--lambda-hooks FILE`: JSON `{"name": "Succeeded" |
 *      "Failed" | "NoReport" | {"run": "shell command"}}`; NoReport never answers, to try the hook
 *      timeout; a command plays the function: exit 0 is Succeeded, anything else Failed), else
 *   2. `Failed` for a function whose name ends in `-fail` (e.g. `preTrafficHook-fail`), else
 *   3. `Succeeded`.
 *
 * A program that starts the simulation itself may decide first (`SimulationHooks.lambdaHook`).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { CliError, CliErrorCode } from '../cli-error.js';
import type { RecordedInvoke } from './lambda-front.js';

/** HookOutcome is what a played hook function does: report one status, or never report. */
export type HookOutcome = 'Succeeded' | 'Failed' | 'NoReport';

const OUTCOMES: readonly HookOutcome[] = ['Succeeded', 'Failed', 'NoReport'];

/** HookCommand plays a hook function with a shell command: exit 0 reports Succeeded, else Failed. */
export interface HookCommand {
  readonly run: string;
}

/** HookTable maps function names to outcomes or commands (the hooks file). */
export type HookTable = Readonly<Record<string, HookOutcome | HookCommand>>;

/** HOOK_COMMAND_TIMEOUT_MS stops a hook command that runs on; it then counts as Failed. */
const HOOK_COMMAND_TIMEOUT_MS = 10 * 60_000;

/** FAILING_SUFFIX marks a hook function that reports Failed when no table entry names it. */
export const FAILING_SUFFIX = '-fail';

/** hookOutcome applies the rule above. Pure. */
export function hookOutcome(functionName: string, table: HookTable): HookOutcome | HookCommand {
  const named = Object.hasOwn(table, functionName) ? table[functionName] : undefined;
  if (named !== undefined) return named;
  return functionName.endsWith(FAILING_SUFFIX) ? 'Failed' : 'Succeeded';
}

/**
 * runHookCommand runs a hook's command with `sh -c`, with the invocation in its environment
 * (DEPLOYMENT_ID, LIFECYCLE_EVENT_HOOK_EXECUTION_ID, FUNCTION_NAME), and gives its outcome.
 */
export function runHookCommand(command: HookCommand, call: RecordedInvoke): Promise<HookOutcome> {
  const env = { ...process.env, DEPLOYMENT_ID: call.payload.DeploymentId ?? '', LIFECYCLE_EVENT_HOOK_EXECUTION_ID: call.payload.LifecycleEventHookExecutionId ?? '', FUNCTION_NAME: call.functionName };
  return new Promise((resolve) => {
    execFile('sh', ['-c', command.run], { env, timeout: HOOK_COMMAND_TIMEOUT_MS }, (err) => resolve(err === null ? 'Succeeded' : 'Failed'));
  });
}

/** isHookInvocation tells CodeDeploy's asynchronous hook invocations from any other Invoke. */
export function isHookInvocation(call: RecordedInvoke): boolean {
  return call.invocationType === 'Event' && typeof call.payload.DeploymentId === 'string' && typeof call.payload.LifecycleEventHookExecutionId === 'string';
}

/** parseHookTable checks a hooks file's text; `where` names the file in the error. */
export function parseHookTable(text: string, where: string): HookTable {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(CliErrorCode.USAGE, `--lambda-hooks: ${where} is not JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError(CliErrorCode.USAGE, `--lambda-hooks: ${where} must be a JSON object mapping function names to ${OUTCOMES.join(', ')} or {"run": "command"}`);
  for (const [name, outcome] of Object.entries(value)) {
    const command = typeof outcome === 'object' && outcome !== null && typeof (outcome as { run?: unknown }).run === 'string' && Object.keys(outcome).length === 1;
    if (!command && !OUTCOMES.includes(outcome as HookOutcome)) throw new CliError(CliErrorCode.USAGE, `--lambda-hooks: ${where}: function ${JSON.stringify(name)} has ${JSON.stringify(outcome)}; expected ${OUTCOMES.join(', ')} or {"run": "command"}`);
  }
  return Object.freeze({ ...(value as Record<string, HookOutcome | HookCommand>) });
}

/** readHookTable reads and checks the hooks file. */
export function readHookTable(file: string): HookTable {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(CliErrorCode.USAGE, `--lambda-hooks: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseHookTable(text, file);
}

/** HookReporter sends PutLifecycleEventHookExecutionStatus to the coordinator. */
export type HookReporter = (deploymentId: string, executionId: string, status: 'Succeeded' | 'Failed') => Promise<void>;

/** HookDecider may decide a hook's outcome before the rule does (undefined: let the rule decide). */
export type HookDecider = (call: RecordedInvoke) => Promise<HookOutcome | undefined>;

/** HookRunner answers hook invocations once it knows where to report. */
export interface HookRunner {
  /** onInvoke is the Lambda front's callback. */
  onInvoke(call: RecordedInvoke): void;
  /** connect sets the reporter (the coordinator starts after the front); invocations so far are answered now. */
  connect(report: HookReporter): void;
  /** played lists what was reported, for the log: `preTrafficHook d-... Succeeded`. */
  readonly played: string[];
}

/** createHookRunner builds the runner; `onError` hears a report that could not be delivered. */
export function createHookRunner(table: HookTable, decide: HookDecider | undefined, onError: (message: string) => void): HookRunner {
  let report: HookReporter | undefined;
  const waiting: RecordedInvoke[] = [];
  const played: string[] = [];
  const answer = async (call: RecordedInvoke, to: HookReporter): Promise<void> => {
    const rule = (await decide?.(call)) ?? hookOutcome(call.functionName, table);
    const outcome = typeof rule === 'string' ? rule : await runHookCommand(rule, call);
    played.push(`${call.functionName} ${call.payload.DeploymentId} ${outcome}`);
    if (outcome === 'NoReport') return;
    await to(call.payload.DeploymentId!, call.payload.LifecycleEventHookExecutionId!, outcome);
  };
  const run = (call: RecordedInvoke, to: HookReporter): void => {
    answer(call, to).catch((err: unknown) => onError(`hook function ${call.functionName}: could not report to the coordinator: ${err instanceof Error ? err.message : String(err)}`));
  };
  return {
    onInvoke(call) {
      if (!isHookInvocation(call)) return;
      if (report === undefined) waiting.push(call);
      else run(call, report);
    },
    connect(to) {
      report = to;
      for (const call of waiting.splice(0)) run(call, to);
    },
    played,
  };
}
