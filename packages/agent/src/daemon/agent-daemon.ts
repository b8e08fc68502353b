/**
 * The agent daemon's composition root: one agent = one deployment root, one result store, one
 * command runner and one stream to the coordinator. A process may run many (a benchmark runs a
 * hundred per process, each with its own root_dir), so nothing here is process-global: no signal
 * handlers (the CLI installs those), no module-level state; pass a shared {@link GrpcRuntime} to
 * load grpc-js and the proto only once.
 */
import os from 'node:os';
import path from 'node:path';
import type { BackoffOptions } from '@fleetdeploy/shared';
import type { AgentConfig } from '../config/agent-config.js';
import { daemonStateDir, requireCoordinator, tlsDir } from '../config/agent-config.js';
import { DeployError, ON_FAILURE_EVENT } from '@fleetdeploy/shared';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { silentLogger } from '../log.js';
import type { Logger } from '../log.js';
import { ResultStore } from '../state/results.js';
import type { StoredResult } from '../state/results.js';
import type { AgentMetrics } from '../metrics/agent-metrics.js';
import { startMetricsServer } from '../metrics/metrics-server.js';
import type { MetricsServer } from '../metrics/metrics-server.js';
import { RecentResults } from '../state/recent-results.js';
import { AGENT_VERSION } from '../version.js';
import type { GrpcRuntime } from '../connection/grpc-runtime.js';
import { loadGrpcRuntime } from '../connection/grpc-runtime.js';
import { createConnection } from '../connection/client.js';
import type { AgentConnection } from '../connection/client.js';
import { createBundleFetcher } from '../connection/bundle-fetcher.js';
import type { ConnectionStateName } from '../connection/states.js';
import { createCommandRunner } from './command-runner.js';
import { loadTlsIdentity } from '../connection/tls-identity.js';
import type { TlsIdentity } from '../connection/tls-identity.js';
import { startRenewal } from '../connection/renewal.js';
import { proxyFor } from '../connection/proxy.js';
import { coordinatorEntries, directEndpoint } from '../connection/endpoints.js';
import type { HostLookup } from '../connection/endpoints.js';
import { readCoordinatorSetting } from '../config/coordinator-setting.js';

/** AgentDaemonOptions configures one agent; only `config` is required. */
export interface AgentDaemonOptions {
  /** The validated configuration (root_dir, coordinator, destination_root, ...). */
  config: AgentConfig;
  /** Overrides config.instanceName; default the enrolled certificate's instance (the host name with plain text). */
  instanceName?: string;
  /** Overrides config.coordinator: `host:port` addresses, or one string of them separated by commas. */
  coordinator?: string | readonly string[];
  /** How coordinator host names are looked up; default the system resolver (dns.lookup, all addresses). */
  lookup?: HostLookup;
  log?: Logger;
  clock?: Clock;
  /** A number in [0, 1) for backoff jitter and the first coordinator endpoint; default Math.random. */
  random?: () => number;
  /** Reconnect delays; default {@link reconnectBackoff} (0.5 s doubling to 10 s, full jitter). */
  backoff?: BackoffOptions;
  /** grpc-js and the loaded AgentService, shared by the agents of one process. */
  runtime?: GrpcRuntime;
  agentVersion?: string;
  platform?: 'linux' | 'windows';
  /** How many acknowledged results to remember for redeliveries (default 100). */
  recentResults?: number;
  /** Where HTTPS_PROXY and NO_PROXY are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** AgentDaemon is a running agent. */
export interface AgentDaemon {
  /** state is the connection's state: Idle, Connecting, Ready, Backoff or Shutdown. */
  state(): ConnectionStateName;
  /** running is how many commands run now. */
  running(): number;
  /**
   * stop takes no more commands, waits up to config.shutdownWaitMs for running ones (then aborts
   * them, so they end with a recorded Failed result), and closes the stream. Safe to call twice.
   */
  stop(): Promise<void>;
}

/** startAgentDaemon recovers what the last run left, then connects to the coordinator. */
export async function startAgentDaemon(options: AgentDaemonOptions): Promise<AgentDaemon> {
  const { config } = options;
  const addresses = options.coordinator === undefined ? requireCoordinator(config, 'agent configuration') : coordinatorOption(options.coordinator);
  // Mutual TLS unless the configuration asks for plain text: the enrolled certificate names the instance.
  let identity: TlsIdentity | undefined = config.plaintext ? undefined : loadTlsIdentity(tlsDir(config));
  const configuredName = options.instanceName ?? config.instanceName;
  if (identity !== undefined && configuredName !== undefined && configuredName !== identity.instanceName) {
    throw new DeployError('UnknownError', `instance_name is ${configuredName}, but the enrolled certificate in ${identity.dir} is for ${identity.instanceName}; fix instance_name or enrol again`);
  }
  const instanceName = identity?.instanceName ?? configuredName ?? os.hostname();
  const runtime = options.runtime ?? (await loadGrpcRuntime());
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const log = (options.log ?? silentLogger).child({ instance: instanceName });
  const stateDir = daemonStateDir(config);
  const coordinators = coordinatorEntries(addresses, (host) => proxyFor(host, config.proxyUri, options.env ?? process.env));
  const finalCodes = new Set([
    runtime.grpc.status.PERMISSION_DENIED,
    runtime.grpc.status.NOT_FOUND,
    runtime.grpc.status.INVALID_ARGUMENT,
    runtime.grpc.status.UNAUTHENTICATED,
    runtime.grpc.status.FAILED_PRECONDITION,
  ]);

  // Metrics only when asked for: prom-client loads, and 127.0.0.1:metrics_port listens, only then.
  const metrics = config.metricsPort === undefined ? undefined : await startAgentMetrics(config.metricsPort, log);

  // The runner and the connection refer to each other; the runner only sends once the stream is up.
  const link: { connection?: AgentConnection } = {};
  const runner = createCommandRunner({
    config,
    results: new ResultStore(path.join(stateDir, 'results')),
    // Acknowledged results are the coordinator's already: kept only to answer a redelivery, so not fsynced.
    recent: new RecentResults(new ResultStore(path.join(stateDir, 'acknowledged'), false), options.recentResults),
    send: {
      ack: (commandId, noop) => link.connection?.sendAck(commandId, noop) ?? false,
      result: (result) => link.connection?.sendResult(result) ?? false,
    },
    fetcherFor: (command) =>
      createBundleFetcher({
        commandId: command.commandId,
        expected: command.bundle,
        open: (commandId, offset) => {
          if (!link.connection) throw new Error('not connected to the coordinator');
          return link.connection.openDownload(commandId, offset);
        },
        finalCodes,
        clock,
        random,
        log: log.child({ commandId: command.commandId, deploymentId: command.spec.deploymentId }),
        ...(metrics === undefined ? {} : { received: (n: number) => metrics.metrics.bundleBytes(n) }),
      }),
    clock,
    log,
    ...(metrics === undefined ? {} : { finished: (event: string, result: StoredResult) => recordFinished(metrics.metrics, event, result) }),
  });
  const conn = createConnection({
    runtime,
    coordinators,
    ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    security: () => (identity === undefined ? { kind: 'plaintext' } : { kind: 'mtls', identity }),
    instanceName,
    agentVersion: options.agentVersion ?? AGENT_VERSION,
    platform: options.platform ?? (process.platform === 'win32' ? 'windows' : 'linux'),
    handlers: {
      hello: () => ({ inFlight: runner.inFlight(), results: runner.unacknowledged() }),
      ready: (ids) => runner.resendPending(ids),
      command: (c) => runner.command(c),
      cancel: (id, reason) => runner.cancel(id, reason),
      resultAck: (id) => runner.resultAck(id),
    },
    clock,
    random,
    log,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    heartbeatFallbackMs: config.heartbeatMs,
    connectTimeoutMs: config.connectTimeoutMs,
  });
  link.connection = conn;
  const proxies = [...new Set(coordinators.flatMap((c) => (c.proxy === undefined ? [] : [`${c.proxy.host}:${c.proxy.port} (${c.proxy.source})`])))];
  log.info({ coordinator: addresses.join(','), rootDir: config.rootDir, stateDir, tls: identity === undefined ? 'plaintext' : 'mutual', certificateNotAfter: identity && new Date(identity.notAfter).toISOString(), proxy: proxies.length === 0 ? undefined : proxies.join(', ') }, 'agent daemon starting');
  conn.start();
  const renewal =
    identity === undefined
      ? undefined
      : startRenewal({
          runtime,
          // the endpoint the stream is on, so a renewal goes where the agent is connected
          endpoint: () => conn.endpoint() ?? directEndpoint(coordinators[0]!),
          identity: () => identity!,
          clock,
          log,
          renewed(next) {
            identity = next;
            conn.reconnect('certificate renewed');
          },
        });

  let stopping: Promise<void> | undefined;
  return {
    state: () => conn.state(),
    running: () => runner.running(),
    stop() {
      stopping ??= (async () => {
        renewal?.stop();
        await runner.drain(config.shutdownWaitMs);
        await conn.stop();
        await metrics?.server.close();
        log.info({}, 'agent daemon stopped');
      })();
      return stopping;
    },
  };
}

/** coordinatorOption validates the `coordinator` option as the configuration's key would be. */
function coordinatorOption(value: string | readonly string[]): readonly string[] {
  const setting = readCoordinatorSetting(value);
  if (setting.addresses === undefined) throw new DeployError('UnknownError', `coordinator option: ${setting.problems.join('; ') || 'expected host:port, got nothing'}`);
  return setting.addresses;
}

/** startAgentMetrics loads prom-client and serves the agent's metrics on 127.0.0.1:`port`. */
async function startAgentMetrics(port: number, log: Logger): Promise<{ metrics: AgentMetrics; server: MetricsServer }> {
  const { createAgentMetrics } = await import('../metrics/agent-metrics.js');
  const metrics = createAgentMetrics();
  const server = await startMetricsServer(metrics, port);
  log.info({ metrics: `http://127.0.0.1:${server.port}/metrics` }, 'serving metrics');
  return { metrics, server };
}

/** recordFinished counts a finished command's event, and the OnFailure hook that followed it, if any. */
function recordFinished(metrics: AgentMetrics, event: string, result: StoredResult): void {
  metrics.eventFinished(event, result.status, (result.endedAtMs - result.startedAtMs) / 1000);
  if (result.onFailure !== undefined) metrics.eventFinished(ON_FAILURE_EVENT, result.onFailure.status, (result.onFailure.endedAtMs - result.onFailure.startedAtMs) / 1000);
}

export { reconnectBackoff } from '../connection/client.js';
export { loadGrpcRuntime } from '../connection/grpc-runtime.js';
export type { GrpcRuntime } from '../connection/grpc-runtime.js';
