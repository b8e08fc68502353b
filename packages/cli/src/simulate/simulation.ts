/**
 * The simulation's composition root: a coordinator and N agents on this machine, each agent in its
 * own sandbox. `fleetdeploy simulate` runs one until interrupted; `npm run demo` and the tests start
 * one, deploy to it and stop it.
 *
 *   check ports → coordinator (child) → its listening line → register + tag sim-1..sim-N
 *     → write each sandbox → enrol each host (token, fleetdeploy-agent enrol) → agents (children,
 *     mutual TLS) → watch each agent's log for its connection
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { now, withTimeout } from '../clock.js';
import { CliError, CliErrorCode } from '../cli-error.js';
import { ADMIN_CREDENTIALS_FILE, createApiClients, readAdminCredentials } from './credentials.js';
import type { ApiClients, SimCredentials } from './credentials.js';
import { failureSummary, followLog, pinoMessage } from './daemon-log.js';
import type { SimulateOptions } from './options.js';
import { assertPortFree } from './ports.js';
import { createSupervisor, daemonBin, waitForLine } from './processes.js';
import type { Daemon, ExitInfo } from './processes.js';
import { registerHosts } from './register.js';
import { enrolHosts } from './enrol.js';
import { simHosts, writeSandbox } from './sandbox.js';
import type { SimHost } from './sandbox.js';
import { PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { createHookRunner, readHookTable } from './hook-runner.js';
import type { HookDecider } from './hook-runner.js';
import { startLocalAws } from './local-aws.js';
import { startSimHaproxy } from './haproxy.js';
import type { SimHaproxy } from './haproxy.js';
import type { LocalAws } from './local-aws.js';

/** COORDINATOR_READY_PREFIX starts the one stdout line the coordinator prints when it listens. */
export const COORDINATOR_READY_PREFIX = 'fleetdeploy-coordinator listening';

/** COORDINATOR_START_MS is how long the coordinator may take to print its listening line. */
const COORDINATOR_START_MS = 30_000;
const STARTUP_TIMEOUT = 'startup timed out';

/** AGENT_CONNECTED_MESSAGE is the agent's log message for an accepted stream. */
const AGENT_CONNECTED_MESSAGE = 'connected to coordinator';

/** Simulation is a running coordinator with its agents. */
export interface Simulation {
  readonly dataDir: string;
  /** The CodeDeploy API and revision bucket, e.g. http://127.0.0.1:7180. */
  readonly apiUrl: string;
  /** The CA certificate the HTTPS API chains to (aws --ca-bundle, AWS_CA_BUNDLE); none for plain HTTP. */
  readonly caFile?: string;
  /** The agents' gRPC address, e.g. 127.0.0.1:7181. */
  readonly agentAddress: string;
  /** Where agents enrol (fleetdeploy-agent enrol --coordinator), e.g. 127.0.0.1:7182. */
  readonly enrolAddress: string;
  readonly coordinatorLog: string;
  readonly hosts: readonly SimHost[];
  /** The coordinator's admin key (from its admin-credentials file), which the clients sign with. */
  readonly credentials: SimCredentials;
  /** The file it is in. */
  readonly credentialsFile: string;
  /** SDK clients pointed at the API with the simulation's credentials. */
  readonly clients: ApiClients;
  readonly daemons: () => readonly Daemon[];
  /** With --local-aws: moto_server behind the Lambda front that plays the hook functions. */
  readonly localAws?: LocalAws;
  /** With --haproxy: HAProxy before the hosts' web servers. */
  readonly haproxy?: SimHaproxy;
  /**
   * waitForAgents resolves when every agent has connected, or after `timeoutMs` with the names of
   * those that have not (an empty list means all are connected).
   */
  waitForAgents(timeoutMs: number): Promise<readonly string[]>;
  /** failed resolves with the error to report if the coordinator or an agent exits on its own. */
  readonly failed: Promise<CliError>;
  /** stop stops the agents, then the coordinator, and closes the clients. Safe to call twice. */
  stop(): Promise<void>;
}

/** SimulationHooks let the caller report progress while the simulation starts. */
export interface SimulationHooks {
  onAgentConnected?(host: SimHost): void;
  /** With --local-aws: decides a hook function's outcome before the hook runner's rule does. */
  lambdaHook?: HookDecider;
  /** With --local-aws: a hook report that could not be delivered. */
  onHookError?(message: string): void;
}

/**
 * startSimulation starts everything and resolves once the agents are started (not yet connected;
 * see {@link Simulation.waitForAgents}). On any failure it stops what it started and throws a
 * {@link CliError}.
 */
export async function startSimulation(options: SimulateOptions, hooks: SimulationHooks = {}): Promise<Simulation> {
  const coordinatorBin = daemonBin('@fleetdeploy/coordinator', 'fleetdeploy-coordinator.js', 'dist/main.js');
  const agentBin = daemonBin('@fleetdeploy/agent', 'fleetdeploy-agent.js', 'dist/fleetdeploy-agent.mjs');
  await assertPortFree(options.host, options.apiPort, 'the CodeDeploy API', '--port');
  await assertPortFree(options.host, options.agentPort, 'the agents\' gRPC service', '--agent-port');
  if (options.agentPort !== 0) await assertPortFree(options.host, options.agentPort + 1, 'the agents\' enrolment port (--agent-port + 1)', '--agent-port');

  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fleetdeploy-sim-'));
  try {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.accessSync(dataDir, fs.constants.W_OK);
  } catch (err) {
    throw new CliError(CliErrorCode.USAGE, `--data-dir: cannot write to ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const coordinatorLog = path.join(dataDir, 'coordinator.log');
  const supervisor = createSupervisor();
  const watching = new AbortController();
  let fail: (error: CliError) => void = () => undefined;
  const failed = new Promise<CliError>((resolve) => {
    fail = resolve;
    supervisor.onUnexpectedExit((daemon, exit) => resolve(unexpectedExit(daemon, exit)));
  });
  let clients: ApiClients | undefined;
  let localAws: LocalAws | undefined;
  let haproxy: SimHaproxy | undefined;
  const teardown = async (): Promise<void> => {
    watching.abort();
    await supervisor.stopAll();
    await localAws?.stop();
    await haproxy?.stop();
    clients?.destroy();
  };

  try {
    // The Lambda front must be there before the coordinator, whose Lambda endpoint it is; the hook
    // runner learns where to report once the coordinator is up.
    const hookTable = options.lambdaHooksFile === undefined ? {} : readHookTable(options.lambdaHooksFile);
    const runner = createHookRunner(hookTable, hooks.lambdaHook, (message) => hooks.onHookError?.(message));
    if (options.localAws) localAws = await startLocalAws(path.join(dataDir, 'moto.log'), runner);
    const hosts = simHosts(dataDir, options.agents);
    if (options.haproxyPort !== undefined) {
      await assertPortFree(options.host, options.haproxyPort, 'the simulation\'s HAProxy', '--haproxy-port');
      const started = await startSimHaproxy(dataDir, options.host, options.haproxyPort, hosts);
      haproxy = started;
      void started.exited.then(() => {
        if (!watching.signal.aborted) fail(new CliError(CliErrorCode.HAPROXY_FAILED, `haproxy exited (its log: ${path.join(dataDir, 'haproxy.log')})`));
      });
    }
    const settings = haproxy === undefined ? options.coordinatorSettings : { ...options.coordinatorSettings, haproxy_socket: haproxy.socket };
    const configArgs = coordinatorConfigArgs(dataDir, settings);
    const { daemon: coordinator, stdout } = supervisor.start({
      name: 'coordinator',
      args: [coordinatorBin, 'serve', '--data-dir', path.join(dataDir, 'coordinator'), '--host', options.host, '--port', String(options.apiPort), '--agent-port', String(options.agentPort), '--stop-on-stdin-close', ...configArgs],
      logFile: coordinatorLog,
      pipeStdout: true,
      ...(localAws === undefined ? {} : { env: localAws.coordinatorEnv }),
    });
    let ready: string;
    try {
      ready = await withTimeout(waitForLine(stdout!, COORDINATOR_READY_PREFIX, coordinator), COORDINATOR_START_MS, () => new Error(STARTUP_TIMEOUT));
    } catch (err) {
      throw await coordinatorStartFailure(coordinator, options, (err as Error).message === STARTUP_TIMEOUT);
    }
    const apiUrl = /\bapi=(\S+)/.exec(ready)?.[1];
    const agentAddress = /\bagents=(\S+)/.exec(ready)?.[1];
    const enrolAddress = /\benrol=(\S+)/.exec(ready)?.[1];
    if (apiUrl === undefined || agentAddress === undefined || enrolAddress === undefined) throw new CliError(CliErrorCode.COORDINATOR_FAILED, `the coordinator's listening line has no api=, agents= or enrol= address: ${ready}`);

    const credentialsFile = path.join(dataDir, 'coordinator', ADMIN_CREDENTIALS_FILE);
    const credentials = readAdminCredentials(path.dirname(credentialsFile));
    // An HTTPS API chains to the coordinator's CA in its data directory (made before it listened).
    const caFile = apiUrl.startsWith('https:') ? path.join(dataDir, 'coordinator', 'ca', 'ca.pem') : undefined;
    clients = createApiClients(apiUrl, credentials, caFile === undefined ? undefined : fs.readFileSync(caFile, 'utf8'));
    const codedeploy = clients.codedeploy;
    runner.connect(async (deploymentId, lifecycleEventHookExecutionId, status) => {
      await codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId, status }));
    });
    await registerHosts(clients.codedeploy, hosts);

    for (const host of hosts) writeSandbox(host, agentAddress);
    await enrolHosts({ coordinatorBin, agentBin, dataDir: path.join(dataDir, 'coordinator'), enrolAddress, now: now() }, hosts);

    const connected = new Map<string, Promise<boolean>>();
    for (const host of hosts) {
      const { daemon } = supervisor.start({
        name: host.name,
        args: [agentBin, 'run', '--config', host.configFile, '--stop-on-stdin-close'],
        logFile: host.logFile,
      });
      const seen = followLog(host.logFile, (line) => pinoMessage(line) === AGENT_CONNECTED_MESSAGE, watching.signal, daemon.logStart);
      connected.set(
        host.name,
        seen.then(
          (ok) => {
            if (ok) hooks.onAgentConnected?.(host);
            return ok;
          },
          () => false, // an unreadable log only means we cannot tell
        ),
      );
    }

    const api = clients;
    return {
      dataDir,
      apiUrl,
      ...(caFile === undefined ? {} : { caFile }),
      agentAddress,
      enrolAddress,
      coordinatorLog,
      hosts,
      credentials,
      credentialsFile,
      clients: api,
      daemons: () => supervisor.daemons(),
      ...(localAws === undefined ? {} : { localAws }),
      ...(haproxy === undefined ? {} : { haproxy }),
      async waitForAgents(timeoutMs) {
        const settled = new Set<string>();
        const all = Promise.all([...connected].map(([name, p]) => p.then((ok) => ok && settled.add(name))));
        try {
          await withTimeout(all, timeoutMs, () => new Error('timed out'));
        } catch {
          // report who is missing below
        }
        return hosts.map((h) => h.name).filter((n) => !settled.has(n));
      },
      failed,
      stop: teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** coordinatorConfigArgs writes the settings to <dataDir>/coordinator.yml and names it, or gives nothing when there are none. */
function coordinatorConfigArgs(dataDir: string, settings: Readonly<Record<string, number | string>>): string[] {
  const entries = Object.entries(settings);
  if (entries.length === 0) return [];
  const file = path.join(dataDir, 'coordinator.yml');
  fs.writeFileSync(file, entries.map(([k, v]) => `${k}: ${JSON.stringify(v)}\n`).join(''));
  return ['--config', file];
}

/** coordinatorStartFailure explains a coordinator that exited (or hung) before listening. */
async function coordinatorStartFailure(coordinator: Daemon, options: SimulateOptions, timedOut: boolean): Promise<CliError> {
  if (timedOut) return new CliError(CliErrorCode.COORDINATOR_FAILED, `the coordinator did not start listening within ${COORDINATOR_START_MS / 1000} s (its log: ${coordinator.logFile})`);
  await coordinator.exited; // its output has ended; the exit follows
  const summary = failureSummary(coordinator.logFile, coordinator.logStart) ?? 'no output';
  if (/EADDRINUSE|another process uses it/.test(summary)) {
    // Another process took the port between our check and the coordinator's listen.
    const port = Number(/EADDRINUSE.*:(\d+)|cannot listen on \S+ port (\d+)/.exec(summary)?.slice(1).find((p) => p !== undefined) ?? NaN);
    const flag = port === options.agentPort ? '--agent-port' : '--port';
    const which = Number.isNaN(port) ? 'a port the coordinator needs' : `port ${port} on ${options.host}`;
    return new CliError(CliErrorCode.PORT_IN_USE, `${which} is already in use by another process: stop it or pick another port with ${flag}`);
  }
  return new CliError(CliErrorCode.COORDINATOR_FAILED, `the coordinator exited before it was ready: ${summary} (its log: ${coordinator.logFile})`);
}

/** unexpectedExit is the error for a daemon that ended while the simulation ran. */
function unexpectedExit(daemon: Daemon, exit: ExitInfo): CliError {
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code ?? 'unknown'}`;
  const summary = failureSummary(daemon.logFile, daemon.logStart);
  const why = summary === undefined ? '' : `: ${summary}`;
  if (daemon.name === 'coordinator') return new CliError(CliErrorCode.COORDINATOR_FAILED, `the coordinator ${how}${why} (its log: ${daemon.logFile})`);
  return new CliError(CliErrorCode.AGENT_FAILED, `agent ${daemon.name} ${how}${why} (its log: ${daemon.logFile})`);
}
