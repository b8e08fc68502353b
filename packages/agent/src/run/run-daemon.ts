/**
 * `fleetdeploy-agent run --config FILE`: the agent daemon as a process. Reads and validates the
 * configuration, starts one agent, and owns the process-level parts the library leaves out: the
 * SIGTERM/SIGINT handlers and the exit, and the log: standard error, plus `<log_dir>/codedeploy-agent.log`
 * when the configuration names a log_dir, reopened on SIGHUP. A first SIGTERM/SIGINT stops gracefully
 * (exit 0); a second exits at once.
 */
import fs from 'node:fs';
import { DeployError, isLogFormat, LOG_FORMATS } from '@fleetdeploy/shared';
import { agentLogFile, parseAgentConfig, requireCoordinator } from '../config/agent-config.js';
import { createDaemonLogger } from '../log.js';
import type { LogLevel } from '../log.js';

/** RunOptions are the `run` command's options. */
export interface RunOptions {
  config: string;
  verbose?: boolean;
  logLevel?: string;
  /** `json` or `pretty`; default the configuration's log_format (json). */
  logFormat?: string;
  /** Stop as on SIGTERM when standard input closes (a supervisor holding the pipe died). */
  stopOnStdinClose?: boolean;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** runDaemon starts the daemon and resolves once a signal has stopped it. */
export async function runDaemon(opts: RunOptions): Promise<void> {
  let text: string;
  try {
    text = fs.readFileSync(opts.config, 'utf8');
  } catch (err) {
    throw new DeployError('UnknownError', `configuration file ${opts.config} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const config = parseAgentConfig(text, opts.config);
  requireCoordinator(config, opts.config);
  const level = opts.logLevel ?? (opts.verbose ? 'debug' : 'info');
  if (!(LEVELS as readonly string[]).includes(level)) {
    throw new DeployError('UnknownError', `--log-level: expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  const format = opts.logFormat ?? config.logFormat;
  if (!isLogFormat(format)) {
    throw new DeployError('UnknownError', `--log-format: expected ${LOG_FORMATS.join(' or ')}, got ${JSON.stringify(format)}`);
  }
  const logFile = agentLogFile(config);
  const { log, reopen } = await createDaemonLogger(level as LogLevel, logFile, undefined, format);
  if (logFile !== undefined) {
    log.info({ logFile }, 'agent log file opened');
    // logrotate's postrotate (`kill -HUP`) makes the daemon write to a fresh file of the same name.
    process.on('SIGHUP', () => {
      reopen();
      log.info({ logFile }, 'agent log file reopened');
    });
  }
  // grpc-js and the proto load only for `run`, never for `local`.
  const { startAgentDaemon } = await import('../daemon/agent-daemon.js');
  const daemon = await startAgentDaemon({ config, log });

  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) {
        log.warn({ signal }, 'second signal, exiting now');
        process.exit(1);
      }
      log.info({ signal }, 'signal received, stopping');
      daemon.stop().then(resolve, (err: unknown) => {
        log.error({ err }, 'stop failed');
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    if (opts.stopOnStdinClose === true) {
      // The kernel closes the pipe when the supervisor dies, even by SIGKILL: its end is our SIGTERM.
      process.stdin.on('data', () => undefined).once('end', () => onSignal('SIGTERM'));
      process.stdin.resume();
    }
  });
}
