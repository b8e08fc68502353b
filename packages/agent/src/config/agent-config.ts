/**
 * The agent's configuration: our own YAML or the AWS agent's codedeployagent.yml (Ruby-symbol keys
 * such as `:root_dir:`), so a host can switch agents without rewriting its configuration.
 */
import path from 'node:path';
import yaml from 'js-yaml';
import { DeployError, defaultBundleLimits, isLogFormat, LOG_FORMATS } from '@fleetdeploy/shared';
import { parseProxyUri } from '../connection/proxy.js';
import { readCoordinatorSetting } from './coordinator-setting.js';
import type { BundleLimits, LogFormat } from '@fleetdeploy/shared';

/** AgentConfig is the validated, frozen configuration every agent module receives explicitly. */
export interface AgentConfig {
  readonly rootDir: string;
  /**
   * Where the daemon writes its own log, `codedeploy-agent.log` (see {@link agentLogFile}); undefined
   * when the file names no `log_dir`, and then the daemon logs to standard error only.
   */
  readonly logDir?: string;
  readonly maxRevisions: number;
  readonly enableDeploymentsLog: boolean;
  /** The daemon's log format on standard error: `json` (default) or `pretty`; `--log-format` overrides it. */
  readonly logFormat: LogFormat;
  /** How long a timed-out script's process group has between SIGTERM and SIGKILL. */
  readonly scriptKillGraceMs: number;
  readonly bundleLimits: Readonly<BundleLimits>;
  /**
   * The coordinator replicas' `host:port` addresses (one or more); `fleetdeploy-agent run` needs at
   * least one (see {@link requireCoordinator}) and moves to the next when its replica fails.
   */
  readonly coordinator?: readonly string[];
  /** The on-premises instance this agent speaks for; the daemon defaults it to the host name. */
  readonly instanceName?: string;
  /**
   * When set, absolute AppSpec destinations and permission objects are placed under this folder
   * (`/var/www` becomes `<destination_root>/var/www`), so many simulated hosts can share a machine.
   */
  readonly destinationRoot?: string;
  /** Heartbeat interval when the coordinator's Welcome names none. */
  readonly heartbeatMs: number;
  /**
   * `connect_timeout_seconds`: how long one attempt may take to connect to a coordinator endpoint
   * (TCP, TLS and HTTP/2 handshakes) before the agent gives it up and tries the next, so an endpoint
   * that drops packets costs this, not the system's connect timeout. 30 s by default: 10,000 agents
   * connecting at once wait up to ~20 s for the coordinator to take them all, and at 5 s they gave up
   * and dialled again over and over (bench-fleet: all Ready in 42 s instead of ~20, twice the CPU).
   */
  readonly connectTimeoutMs: number;
  /** How long a stopping daemon waits for running commands before it aborts them. */
  readonly shutdownWaitMs: number;
  /** The daemon's own state (results, acknowledged results); default {@link daemonStateDir}. */
  readonly stateDir?: string;
  /**
   * TESTS ONLY: talk to a coordinator started with --plaintext-agents, without TLS or certificates.
   * Otherwise the daemon needs the certificate `fleetdeploy-agent enrol` stored in {@link tlsDir}.
   */
  readonly plaintext: boolean;
  /** Where the enrolled key (0600), certificate and CA live; default `<state dir>/tls`. */
  readonly tlsDir?: string;
  /**
   * The HTTP CONNECT proxy of the coordinator link (`proxy_uri`, as the AWS agent's): wins over
   * HTTPS_PROXY; NO_PROXY still exempts hosts (see connection/proxy.ts).
   */
  readonly proxyUri?: string;
  /** `metrics_port`: serve Prometheus metrics at http://127.0.0.1:<port>/metrics (off when absent; 0 picks a free port). */
  readonly metricsPort?: number;
}

/** PlatformPaths are where the AWS agent keeps its deployments, its log and its configuration. */
export interface PlatformPaths {
  rootDir: string;
  /** The daemon log's folder when the file names none: none on Linux (the journal has standard error). */
  logDir?: string;
  configFile: string;
}

/** WINDOWS_AGENT_DIR is the AWS agent's folder on Windows, which holds everything of it. */
const WINDOWS_AGENT_DIR = 'C:\\ProgramData\\Amazon\\CodeDeploy';

/**
 * platformPaths is the AWS agent's layout on `platform`: on Windows everything under
 * C:\ProgramData\Amazon\CodeDeploy (its conf.yml names that folder as root_dir and its `log`
 * subfolder as log_dir), elsewhere /opt/codedeploy-agent/deployment-root and /etc/codedeploy-agent/conf.
 */
export function platformPaths(platform: NodeJS.Platform): PlatformPaths {
  if (platform === 'win32') {
    return { rootDir: WINDOWS_AGENT_DIR, logDir: `${WINDOWS_AGENT_DIR}\\log`, configFile: `${WINDOWS_AGENT_DIR}\\conf.yml` };
  }
  return { rootDir: '/opt/codedeploy-agent/deployment-root', configFile: '/etc/codedeploy-agent/conf/codedeployagent.yml' };
}

/** agentConfigDefaults is the configuration of an empty file on `platform`, the AWS agent's shipped defaults. */
export function agentConfigDefaults(platform: NodeJS.Platform): AgentConfig {
  const paths = platformPaths(platform);
  return Object.freeze({ ...baseDefaults, rootDir: paths.rootDir, ...(paths.logDir === undefined ? {} : { logDir: paths.logDir }) });
}

const baseDefaults = {
  maxRevisions: 5,
  enableDeploymentsLog: true,
  logFormat: 'json',
  scriptKillGraceMs: 5000,
  bundleLimits: Object.freeze({ ...defaultBundleLimits }),
  heartbeatMs: 15_000,
  connectTimeoutMs: 30_000,
  shutdownWaitMs: 30_000,
  plaintext: false,
} as const;

/** MAX_CONNECT_TIMEOUT_SECONDS bounds connect_timeout_seconds: longer than this, the system's own connect timeout would come first. */
const MAX_CONNECT_TIMEOUT_SECONDS = 120;

/** defaultAgentConfig mirrors the AWS agent's shipped configuration file on this platform. */
export const defaultAgentConfig: AgentConfig = agentConfigDefaults(process.platform);

/**
 * daemonStateDir is where the daemon keeps its results: `state_dir`, or `<root_dir>/fleetdeploy-agent`,
 * a name the AWS agent's layout never uses (its folders are deployment group ids, which are UUIDs, and
 * `deployment-instructions`, `deployment-logs`, `ongoing-deployment`).
 */
export function daemonStateDir(config: AgentConfig): string {
  return config.stateDir ?? path.join(config.rootDir, 'fleetdeploy-agent');
}

/** AGENT_LOG_NAME is the daemon log's file name in `log_dir`, the AWS agent's. */
export const AGENT_LOG_NAME = 'codedeploy-agent.log';

/** agentLogFile is the file the daemon writes its log to, or undefined when no `log_dir` is configured. */
export function agentLogFile(config: AgentConfig): string | undefined {
  return config.logDir === undefined ? undefined : path.join(config.logDir, AGENT_LOG_NAME);
}

/** tlsDir is where the agent's key, certificate and CA are kept: `tls_dir`, or `<state dir>/tls`. */
export function tlsDir(config: AgentConfig): string {
  return config.tlsDir ?? path.join(daemonStateDir(config), 'tls');
}

/** requireCoordinator returns the coordinator addresses `run` needs, or names the file and key. */
export function requireCoordinator(config: AgentConfig, source: string): readonly string[] {
  if (config.coordinator === undefined) {
    throw new DeployError('UnknownError', `${source}: coordinator: required to run the agent daemon (host:port of the coordinator)`);
  }
  return config.coordinator;
}

/** ConfigSource names where a configuration text came from, for error messages. */
type Raw = Record<string, unknown>;

/**
 * parseAgentConfig validates a configuration file's text. Keys may be written `:root_dir:` (AWS agent)
 * or `root_dir:` (ours); unknown AWS keys (`:pid_dir:`, `:wait_between_runs:`...) are accepted and ignored.
 * Every error names the file and the key.
 */
export function parseAgentConfig(text: string, source: string, platform: NodeJS.Platform = process.platform): AgentConfig {
  const defaultAgentConfig = agentConfigDefaults(platform);
  // Paths in the file are the host's: C:\ paths on Windows, whatever platform reads them here.
  const paths = platform === 'win32' ? path.win32 : path.posix;
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    throw new DeployError('UnknownError', `${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return defaultAgentConfig;
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new DeployError('UnknownError', `${source}: expected a map of settings`);
  }
  const raw: Raw = {};
  for (const [key, value] of Object.entries(doc as Raw)) raw[key.replace(/^:/, '').replace(/:$/, '')] = value;

  const problems: string[] = [];
  const str = (key: string, fallback: string): string => {
    const v = raw[key];
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v !== 'string') problems.push(`${key}: expected a path, got ${JSON.stringify(v)}`);
    return String(v);
  };
  const int = (key: string, fallback: number, min: number): number => {
    const v = raw[key];
    if (v === undefined || v === null || v === '') return fallback;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < min) {
      problems.push(`${key}: expected an integer of at least ${min}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  };
  const optionalText = (key: string, what: string, valid: (v: string) => boolean): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' || !valid(v)) {
      problems.push(`${key}: expected ${what}, got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  };
  const seconds = (key: string, fallback: number, max: number): number => {
    const v = raw[key];
    if (v === undefined || v === null || v === '') return fallback;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : NaN;
    if (!(n > 0 && n <= max)) {
      problems.push(`${key}: expected a number of seconds above 0 and at most ${max}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = raw[key];
    if (v === undefined || v === null || v === '') return fallback;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    problems.push(`${key}: expected true or false, got ${JSON.stringify(v)}`);
    return fallback;
  };

  const limitsRaw = raw.bundle_limits ?? {};
  const limits = (typeof limitsRaw === 'object' && limitsRaw !== null ? limitsRaw : {}) as Raw;
  const limit = (key: string, fallback: number): number => {
    const v = limits[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !(v > 0)) {
      problems.push(`bundle_limits.${key}: expected a positive number, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return v;
  };

  const config: AgentConfig = {
    rootDir: str('root_dir', defaultAgentConfig.rootDir),
    maxRevisions: int('max_revisions', defaultAgentConfig.maxRevisions, 1),
    enableDeploymentsLog: bool('enable_deployments_log', defaultAgentConfig.enableDeploymentsLog),
    logFormat: (optionalText('log_format', LOG_FORMATS.join(' or '), isLogFormat) as LogFormat | undefined) ?? defaultAgentConfig.logFormat,
    scriptKillGraceMs: int('script_kill_grace_seconds', defaultAgentConfig.scriptKillGraceMs / 1000, 0) * 1000,
    bundleLimits: Object.freeze({
      maxEntries: limit('max_entries', defaultBundleLimits.maxEntries),
      maxTotalBytes: limit('max_total_bytes', defaultBundleLimits.maxTotalBytes),
      maxCompressionRatio: limit('max_compression_ratio', defaultBundleLimits.maxCompressionRatio),
    }),
    heartbeatMs: int('heartbeat_seconds', defaultAgentConfig.heartbeatMs / 1000, 1) * 1000,
    connectTimeoutMs: Math.round(seconds('connect_timeout_seconds', defaultAgentConfig.connectTimeoutMs / 1000, MAX_CONNECT_TIMEOUT_SECONDS) * 1000),
    shutdownWaitMs: int('shutdown_wait_seconds', defaultAgentConfig.shutdownWaitMs / 1000, 0) * 1000,
    plaintext: bool('plaintext', defaultAgentConfig.plaintext),
  };
  const coordinatorSetting = readCoordinatorSetting(raw.coordinator);
  problems.push(...coordinatorSetting.problems);
  const coordinator = coordinatorSetting.addresses === undefined ? undefined : Object.freeze([...coordinatorSetting.addresses]);
  const instanceName = optionalText('instance_name', 'an instance name (printable ASCII without spaces, at most 100 characters)', (v) => /^[\x21-\x7e]{1,100}$/.test(v));
  const logDir = optionalText('log_dir', 'an absolute path', (v) => paths.isAbsolute(v)) ?? defaultAgentConfig.logDir;
  const destinationRoot = optionalText('destination_root', 'an absolute path', (v) => paths.isAbsolute(v));
  const stateDir = optionalText('state_dir', 'an absolute path', (v) => paths.isAbsolute(v));
  const tls = optionalText('tls_dir', 'an absolute path', (v) => paths.isAbsolute(v));
  const proxyUri = optionalText('proxy_uri', 'an http://host:port proxy URI', (v) => {
    try {
      parseProxyUri(v, 'proxy_uri');
      return true;
    } catch {
      return false;
    }
  });
  Object.assign(config, {
    ...(logDir === undefined ? {} : { logDir: paths.resolve(logDir) }),
    ...(coordinator === undefined ? {} : { coordinator }),
    ...(instanceName === undefined ? {} : { instanceName }),
    ...(destinationRoot === undefined ? {} : { destinationRoot: paths.resolve(destinationRoot) }),
    ...(stateDir === undefined ? {} : { stateDir: paths.resolve(stateDir) }),
    ...(tls === undefined ? {} : { tlsDir: paths.resolve(tls) }),
    ...(proxyUri === undefined ? {} : { proxyUri }),
  });
  const metricsPort = raw.metrics_port === undefined || raw.metrics_port === null || raw.metrics_port === '' ? undefined : int('metrics_port', -1, 0);
  if (metricsPort !== undefined && metricsPort > 65535) problems.push(`metrics_port: expected a port from 0 to 65535, got ${metricsPort}`);
  else if (metricsPort !== undefined && metricsPort >= 0) Object.assign(config, { metricsPort });
  if (typeof raw.children === 'number' && raw.children !== 1) problems.push(`children: must be 1, got ${raw.children}`);
  if (problems.length > 0) throw new DeployError('UnknownError', `${source}: ${problems.join('; ')}`);
  return Object.freeze(config);
}
