/**
 * The daemon's command rules (docs/agent-protocol.md, "The stream", step 4). For each
 * LifecycleCommand, in this order:
 *
 *   1. a result on record (unacknowledged, or acknowledged recently) → send that result again;
 *   2. the command is running now                                    → nothing;
 *   3. it was running when the agent stopped                         → FailedAfterRestart
 *      (recorded at start-up as a stored result, so rule 1 answers it, even after a second restart);
 *   4. otherwise CommandAck, run it through executeEvent, save the result to disk, then send it.
 *
 * ResultAck moves a result from the unacknowledged folder to the bounded recent one; CancelCommand
 * aborts the running command, which still ends with a (Failed) result.
 */
import { DeployError, shortDeploymentId } from '@fleetdeploy/shared';
import type { AgentConfig } from '../config/agent-config.js';
import type { AgentCommand, InFlight, ParsedCommand } from '../commands/agent-command.js';
import type { BundleFetcher } from '../commands/download.js';
import { executeEvent, scriptsForEvent } from '../commands/executor.js';
import type { Clock } from '../clock.js';
import { createLayout } from '../layout.js';
import type { Logger } from '../log.js';
import { recoverInterrupted } from '../state/journal.js';
import type { RecentResults } from '../state/recent-results.js';
import type { ResultStore, StoredResult } from '../state/results.js';

/** ResultSender is how results and acks reach the coordinator; false when the stream is down. */
export interface ResultSender {
  ack(commandId: string, noop: boolean): boolean;
  result(result: StoredResult): boolean;
}

/** CommandRunnerDeps are the runner's stores, outlets and services. */
export interface CommandRunnerDeps {
  config: AgentConfig;
  results: ResultStore;
  recent: RecentResults;
  send: ResultSender;
  fetcherFor(command: AgentCommand): BundleFetcher;
  clock: Clock;
  log: Logger;
  /** finished hears of each command this agent ran to its end (for metrics), with its event. */
  finished?: (event: string, result: StoredResult) => void;
}

/** CommandRunner reacts to the coordinator's messages and reports what the Hello needs. */
export interface CommandRunner {
  command(parsed: ParsedCommand): void;
  cancel(commandId: string, reason: string): void;
  resultAck(commandId: string): void;
  inFlight(): InFlight[];
  unacknowledged(): StoredResult[];
  /** resendPending sends the unacknowledged results a Hello did not carry. */
  resendPending(except: ReadonlySet<string>): void;
  /** running is how many commands run now. */
  running(): number;
  /**
   * drain stops taking commands, waits up to `waitMs` for running ones, then aborts what is left
   * and waits for those to record their (Failed) results.
   */
  drain(waitMs: number): Promise<void>;
}

interface Running extends InFlight {
  controller: AbortController;
  done: Promise<void>;
}

/** SHUTDOWN_REASON is the abort reason of commands still running when a shutdown's wait is over. */
export const SHUTDOWN_REASON = 'the agent is shutting down';

/**
 * createCommandRunner builds the runner. It first turns a crash marker left by the previous run into
 * a stored FailedAfterRestart result (rule 3), so the coordinator hears of it in the first Hello.
 */
export function createCommandRunner(deps: CommandRunnerDeps): CommandRunner {
  const { results, recent, send, clock, log } = deps;
  const layout = createLayout(deps.config.rootDir);
  const running = new Map<string, Running>();
  let draining = false;

  const interrupted = recoverInterrupted(layout, clock.now());
  if (interrupted && !results.get(interrupted.commandId)) {
    const now = clock.now();
    results.save({ commandId: interrupted.commandId, status: 'Failed', noop: false, diagnostics: interrupted.diagnostics, startedAtMs: now, endedAtMs: now });
    log.warn({ commandId: interrupted.commandId, deploymentId: interrupted.deploymentId }, 'command interrupted by an agent restart reported as FailedAfterRestart');
  }

  const known = (commandId: string): StoredResult | undefined => results.get(commandId) ?? recent.get(commandId);

  /** Records a result durably, then reports it (if the stream is down, the next Hello carries it). */
  function finish(result: StoredResult, clog: Logger): void {
    results.save(result);
    const sent = send.result(result);
    clog.info({ status: result.status, errorCode: result.diagnostics.errorCode, sent }, 'command finished');
  }

  function start(command: AgentCommand): void {
    const { commandId, event, spec } = command;
    const clog = log.child({ commandId, deploymentId: spec.deploymentId, event });
    const controller = new AbortController();
    const entry: Running = { commandId, deploymentId: spec.deploymentId, event, controller, done: Promise.resolve() };
    running.set(commandId, entry);
    send.ack(commandId, predictNoop(command));
    clog.info({}, 'command started');
    const startedAtMs = clock.now();
    entry.done = executeEvent(event, spec, {
      config: deps.config,
      commandId,
      signal: controller.signal,
      fetchBundle: deps.fetcherFor(command),
      log,
    })
      // executeEvent resolves for every failure it expects; anything else is ours, reported as UnknownError.
      .catch((err: unknown) => {
        clog.error({ err }, 'command failed unexpectedly');
        return { status: 'Failed' as const, noop: false, diagnostics: new DeployError('UnknownError', (err as Error).message).toDiagnostics() };
      })
      .then((outcome) => {
        const result: StoredResult = { commandId, ...outcome, startedAtMs, endedAtMs: clock.now() };
        finish(result, clog);
        deps.finished?.(event, result);
      })
      .catch((err: unknown) => clog.error({ err }, 'command result could not be recorded'))
      .finally(() => running.delete(commandId));
  }

  /** predictNoop tells the ack whether a hook has nothing to run here; the result has the final word. */
  function predictNoop(command: AgentCommand): boolean {
    if (command.event === 'DownloadBundle' || command.event === 'Install') return false;
    try {
      const root = layout.deploymentRoot(command.spec.deploymentGroupId, shortDeploymentId(command.spec.deploymentId));
      return scriptsForEvent(command.event, command.spec, root, layout) === undefined;
    } catch {
      return false; // the event itself will report what is wrong
    }
  }

  return {
    command(parsed) {
      const commandId = parsed.ok ? parsed.command.commandId : parsed.commandId;
      const stored = known(commandId);
      if (stored) {
        log.debug({ commandId }, 'command redelivered, sending its result again');
        send.result(stored);
        return;
      }
      if (running.has(commandId)) {
        log.debug({ commandId }, 'command redelivered while running, ignored');
        return;
      }
      if (draining) {
        log.info({ commandId }, 'command refused while shutting down');
        return;
      }
      if (!parsed.ok) {
        const clog = log.child({ commandId, deploymentId: parsed.deploymentId, event: parsed.event });
        clog.warn({ reason: parsed.reason }, 'command not understood');
        send.ack(commandId, false);
        const now = clock.now();
        finish({ commandId, status: 'Failed', noop: false, diagnostics: new DeployError('UnknownError', `the agent cannot run this command: ${parsed.reason}`).toDiagnostics(), startedAtMs: now, endedAtMs: now }, clog);
        return;
      }
      if (running.size > 0) log.warn({ commandId, running: [...running.keys()] }, 'command received while another runs');
      start(parsed.command);
    },
    cancel(commandId, reason) {
      const entry = running.get(commandId);
      if (!entry) {
        log.debug({ commandId }, 'cancel for a command not running, ignored');
        return;
      }
      log.info({ commandId, reason }, 'command cancelled');
      entry.controller.abort(new DeployError('UnknownError', `cancelled by the coordinator: ${reason || 'no reason given'}`));
    },
    resultAck(commandId) {
      const result = results.get(commandId);
      if (!result) return;
      recent.remember(result);
      results.acknowledge(commandId);
    },
    inFlight: () => [...running.values()].map(({ commandId, deploymentId, event }) => ({ commandId, deploymentId, event })),
    unacknowledged: () => results.pending(),
    resendPending(except) {
      for (const result of results.pending()) if (!except.has(result.commandId)) send.result(result);
    },
    running: () => running.size,
    async drain(waitMs) {
      draining = true;
      if (running.size === 0) return;
      const all = (): Promise<unknown> => Promise.all([...running.values()].map((r) => r.done));
      let cancelTimer = (): void => undefined;
      const timedOut = await Promise.race([
        all().then(() => false),
        new Promise<boolean>((resolve) => {
          cancelTimer = clock.after(waitMs, () => resolve(true));
        }),
      ]);
      cancelTimer();
      if (!timedOut) return;
      log.warn({ running: [...running.keys()], waitMs }, 'commands still running at shutdown, aborting them');
      for (const r of running.values()) r.controller.abort(new DeployError('UnknownError', SHUTDOWN_REASON));
      await all();
    },
  };
}
