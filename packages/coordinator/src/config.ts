/**
 * The coordinator's configuration: built-in defaults, then a YAML file, then command-line flags;
 * validated once and frozen. Every error names the file (or flag) and the key.
 */
import fs from 'node:fs';
import { isIP } from 'node:net';
import yaml from 'js-yaml';
import { checkArchiveUrlTemplate, DEFAULT_GITHUB_ARCHIVE_URL } from './artifacts/github-archive.js';
import { DEFAULT_DEPLOYMENT_LEASE_TTL_MS } from './deployment/ownership.js';
import { checkDatabaseUrl } from './store/database-url.js';
import { isLogFormat, LOG_FORMATS } from '@fleetdeploy/shared';
import type { LogFormat } from '@fleetdeploy/shared';

/** CoordinatorConfig is the validated configuration the composition root receives. */
export interface CoordinatorConfig {
  readonly dataDir: string;
  /**
   * A PostgreSQL URL (postgres://user@host/database) for a store shared by several coordinators;
   * unset, the store is the SQLite file in the data directory (store/database-url.ts).
   */
  readonly database?: string;
  /**
   * Where bundles and bucket objects are kept (content-addressed blob files). Default
   * `<data_dir>/blobs`; with `database` it must be given, a directory every replica shares (a
   * bundle uploaded to one replica is downloaded by agents of another).
   */
  readonly blobDir?: string;
  /** Address the CodeDeploy API, the revision bucket and /healthz listen on. */
  readonly host: string;
  readonly apiPort: number;
  /** Port of the agents' gRPC service, on the same host. */
  readonly agentPort: number;
  readonly region: string;
  readonly accountId: string;
  /** Port of the enrolment service (TLS without client certificates); default agent_port + 1 (0 with agent_port 0). */
  readonly enrolPort: number;
  /** Agents speak plain-text gRPC without certificates: tests of the agent protocol only, never the default. */
  readonly plaintextAgents: boolean;
  /**
   * The API port (CodeDeploy, the bucket, /healthz, /metrics, the event stream) serves plain HTTP
   * instead of HTTPS: only behind a TLS-terminating proxy on the same host, or in tests of the HTTP layer.
   */
  readonly plaintextApi: boolean;
  /** More names (DNS or IP) for the API's certificate, beyond the listen address, loopback and this host's name. */
  readonly apiTlsNames: readonly string[];
  /** An operator-provided API certificate chain and key (PEM); default: one the coordinator's CA issues at each start. */
  readonly apiTlsCert?: string;
  readonly apiTlsKey?: string;
  /** An operator-provided CA (PEM certificate and key); default: one made at first start in <data_dir>/ca. */
  readonly caCertFile?: string;
  readonly caKeyFile?: string;
  /** How long a client certificate is valid; agents renew when a third of it remains. */
  readonly certificateValiditySeconds: number;
  /** How long an enrolment token is valid. */
  readonly enrolmentTokenTtlSeconds: number;
  readonly heartbeatIntervalSeconds: number;
  /** How long an agent may be silent (or disconnected) before its running event fails. */
  readonly agentGraceSeconds: number;
  /**
   * Replicas on one database: how long a replica's hold on a deployment (its lease) lasts unless
   * renewed (every third of it); a replica that dies has its deployments taken over within it.
   */
  readonly deploymentLeaseSeconds: number;
  /**
   * After the coordinator starts, how long agents that had work get to reconnect before that work
   * fails (they come back through a jittered backoff and the admission rate).
   */
  readonly restartGraceSeconds: number;
  /** How long a command may wait for its agent to pick it up. */
  readonly pickupTimeoutSeconds: number;
  /** Added to the hooks' own timeouts before the coordinator fails an event. */
  readonly eventTimeoutMarginSeconds: number;
  /** New agent streams admitted per second; more are told to back off (reconnect storms). */
  readonly streamsPerSecond: number;
  readonly logLevel: string;
  /** `json` (default) or `pretty` (pino-pretty, for a person at a terminal). */
  readonly logFormat: LogFormat;
  /** Where GitHub revisions are downloaded from: a URL template with {repository} and {commitId} (artifacts/github-archive.ts). */
  readonly githubArchiveUrl: string;
  /** Sent as `Authorization: token ...` with each archive download (private repositories); none by default. */
  readonly githubToken?: string;
  /**
   * How often a running deployment's alarms are read (alarms/alarm-watch.ts). 15 s by default: a
   * standard CloudWatch alarm changes state at most once a minute, so an alarm is seen within a
   * quarter of its period, while one DescribeAlarms per running deployment every 15 s stays far
   * below CloudWatch's request quota even with hundreds of deployments.
   */
  readonly alarmPollIntervalSeconds: number;
  /** How long a Lambda hook function has to call PutLifecycleEventHookExecutionStatus before its event fails (CodeDeploy: one hour). */
  readonly hookTimeoutSeconds: number;
  /**
   * TEST ONLY: the length of one of CodeDeploy's minutes in traffic shifting, in milliseconds
   * (60,000). Real-time tests of canary and linear configurations shorten it; never set it in production.
   */
  readonly testOnlyMinuteMs: number;
  /**
   * HAProxy's runtime API, for blue/green Server deployments: the path of a `stats socket ... level
   * admin`, or host:port of one bound to TCP. Unset: blue/green Server deployments are refused.
   */
  readonly haproxySocket?: string;
  /** When set, a scrape of /metrics must carry `Authorization: Bearer <metrics_token>`; unset: /metrics is open (it holds no secrets). */
  readonly metricsToken?: string;
  /**
   * Run (by /bin/sh) for each original instance a TERMINATE blue/green deployment retires, after it is
   * out of the backend and deregistered: the operator's way to power it off. Its environment has
   * FLEETDEPLOY_INSTANCE_NAME and FLEETDEPLOY_DEPLOYMENT_ID.
   */
  readonly blueGreenTerminateCommand?: string;
  /**
   * The revision bucket's quota: one size for every bucket, or sizes by bucket name (buckets not
   * named have none). A bucket holds its objects plus the parts of its unfinished uploads; a write
   * past the quota is refused with 403 QuotaExceeded. None by default.
   */
  readonly bucketQuotaBytes?: number | Readonly<Record<string, number>>;
  /** How long a multipart upload may stay unfinished before it is aborted and its parts freed (24 h). */
  readonly bucketUploadExpirySeconds: number;
  /** The wait after a trigger notification's first failed attempt; it doubles after each further failure (5 s). */
  readonly triggerRetryBaseSeconds: number;
  /** The longest wait between two attempts of a trigger notification (15 min). */
  readonly triggerRetryMaxSeconds: number;
  /** Attempts after which a trigger notification is given up (dead: logged at warn, kept in the outbox) (10). */
  readonly triggerMaxAttempts: number;
  /**
   * The HMAC-SHA256 secret of each webhook trigger, by triggerName: its notifications carry
   * `X-Fleetdeploy-Signature: sha256=<hex HMAC of the body>`. A webhook trigger not named here is
   * sent unsigned. None by default.
   */
  readonly webhookSecrets?: Readonly<Record<string, string>>;
  /** How long a web console sign-in lasts before the browser must sign in again (8 h). */
  readonly consoleSessionSeconds: number;
}

/** defaultCoordinatorConfig are the embedded defaults: everything on loopback, data in ./fleetdeploy-data. */
export const defaultCoordinatorConfig: CoordinatorConfig = Object.freeze({
  dataDir: 'fleetdeploy-data',
  host: '127.0.0.1',
  apiPort: 7180,
  agentPort: 7181,
  enrolPort: 7182,
  region: 'us-east-1',
  accountId: '000000000000',
  plaintextAgents: false,
  plaintextApi: false,
  apiTlsNames: Object.freeze([]) as readonly string[],
  certificateValiditySeconds: 30 * 86_400,
  enrolmentTokenTtlSeconds: 86_400,
  heartbeatIntervalSeconds: 5,
  agentGraceSeconds: 30,
  deploymentLeaseSeconds: DEFAULT_DEPLOYMENT_LEASE_TTL_MS / 1000,
  restartGraceSeconds: 60,
  pickupTimeoutSeconds: 300,
  eventTimeoutMarginSeconds: 60,
  streamsPerSecond: 1000,
  logLevel: 'info',
  logFormat: 'json',
  githubArchiveUrl: DEFAULT_GITHUB_ARCHIVE_URL,
  alarmPollIntervalSeconds: 15,
  hookTimeoutSeconds: 3600,
  testOnlyMinuteMs: 60_000,
  bucketUploadExpirySeconds: 86_400,
  triggerRetryBaseSeconds: 5,
  triggerRetryMaxSeconds: 900,
  triggerMaxAttempts: 10,
  consoleSessionSeconds: 8 * 3600,
});

type Kind = 'database-url' | 'names' | 'string' | 'url-template' | 'port' | 'seconds' | 'lease-seconds' | 'boolean' | 'count' | 'quota' | 'secrets' | 'log-format';

/**
 * LEASE_SECONDS_RANGE bounds deployment_lease_seconds. A lease is renewed every third of it and
 * trusted until a tenth before its end, so under 1 s a database round trip or a GC pause of a few
 * hundred milliseconds costs a replica its deployments again and again (and under 0.0005 s it is a
 * 0 ms lease, which the leaser cannot hold at all). Over an hour, a dead replica's deployments stand
 * still that long; such a value is more likely milliseconds typed as seconds.
 */
export const LEASE_SECONDS_RANGE = { min: 1, max: 3600 } as const;

/** KEYS maps each setting to its field; its flag is the key in kebab case unless `flag` says otherwise. */
const KEYS: Record<string, { key: keyof CoordinatorConfig; kind: Kind; flag?: string }> = {
  data_dir: { key: 'dataDir', kind: 'string' },
  database: { key: 'database', kind: 'database-url' },
  blob_dir: { key: 'blobDir', kind: 'string' },
  host: { key: 'host', kind: 'string' },
  api_port: { key: 'apiPort', kind: 'port' },
  agent_port: { key: 'agentPort', kind: 'port' },
  region: { key: 'region', kind: 'string' },
  account_id: { key: 'accountId', kind: 'string' },
  enrol_port: { key: 'enrolPort', kind: 'port' },
  plaintext_agents: { key: 'plaintextAgents', kind: 'boolean' },
  plaintext_api: { key: 'plaintextApi', kind: 'boolean' },
  api_tls_names: { key: 'apiTlsNames', kind: 'names', flag: '--api-tls-name' }, // repeated, one name each
  api_tls_cert: { key: 'apiTlsCert', kind: 'string' },
  api_tls_key: { key: 'apiTlsKey', kind: 'string' },
  ca_cert_file: { key: 'caCertFile', kind: 'string' },
  ca_key_file: { key: 'caKeyFile', kind: 'string' },
  certificate_validity_seconds: { key: 'certificateValiditySeconds', kind: 'seconds' },
  enrolment_token_ttl_seconds: { key: 'enrolmentTokenTtlSeconds', kind: 'seconds' },
  heartbeat_interval_seconds: { key: 'heartbeatIntervalSeconds', kind: 'seconds' },
  agent_grace_seconds: { key: 'agentGraceSeconds', kind: 'seconds' },
  deployment_lease_seconds: { key: 'deploymentLeaseSeconds', kind: 'lease-seconds' },
  restart_grace_seconds: { key: 'restartGraceSeconds', kind: 'seconds' },
  pickup_timeout_seconds: { key: 'pickupTimeoutSeconds', kind: 'seconds' },
  event_timeout_margin_seconds: { key: 'eventTimeoutMarginSeconds', kind: 'seconds' },
  streams_per_second: { key: 'streamsPerSecond', kind: 'count' },
  log_level: { key: 'logLevel', kind: 'string' },
  log_format: { key: 'logFormat', kind: 'log-format' },
  github_archive_url: { key: 'githubArchiveUrl', kind: 'url-template' },
  github_token: { key: 'githubToken', kind: 'string' },
  alarm_poll_interval_seconds: { key: 'alarmPollIntervalSeconds', kind: 'seconds' },
  hook_timeout_seconds: { key: 'hookTimeoutSeconds', kind: 'seconds' },
  test_only_minute_ms: { key: 'testOnlyMinuteMs', kind: 'count' },
  haproxy_socket: { key: 'haproxySocket', kind: 'string' },
  metrics_token: { key: 'metricsToken', kind: 'string' },
  blue_green_terminate_command: { key: 'blueGreenTerminateCommand', kind: 'string' },
  bucket_quota_bytes: { key: 'bucketQuotaBytes', kind: 'quota' },
  bucket_upload_expiry_seconds: { key: 'bucketUploadExpirySeconds', kind: 'seconds' },
  trigger_retry_base_seconds: { key: 'triggerRetryBaseSeconds', kind: 'seconds' },
  trigger_retry_max_seconds: { key: 'triggerRetryMaxSeconds', kind: 'seconds' },
  trigger_max_attempts: { key: 'triggerMaxAttempts', kind: 'count' },
  webhook_secrets: { key: 'webhookSecrets', kind: 'secrets' },
  console_session_seconds: { key: 'consoleSessionSeconds', kind: 'seconds' },
};

/** ConfigError is a configuration the coordinator cannot start with. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * resolveConfig applies a configuration file's settings (YAML, snake_case keys as in {@link KEYS})
 * and then the flags (already camelCase) over the defaults.
 */
export function resolveConfig(fileText: string | undefined, source: string, flags: Partial<Record<keyof CoordinatorConfig, unknown>>): CoordinatorConfig {
  const merged: Record<string, unknown> = { ...defaultCoordinatorConfig };
  delete merged.enrolPort; // derived from the agents' port unless set
  const problems: string[] = [];
  if (fileText !== undefined) {
    let doc: unknown;
    try {
      doc = yaml.load(fileText, { schema: yaml.CORE_SCHEMA });
    } catch (err) {
      throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${source}: expected a map of settings`);
      for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
        const spec = KEYS[name];
        if (spec === undefined) problems.push(`${name}: unknown setting (known: ${Object.keys(KEYS).join(', ')})`);
        else merged[spec.key] = check(`${source}: ${name}`, value, spec.kind, problems);
      }
    }
  }
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const spec = Object.entries(KEYS).find(([, s]) => s.key === key);
    if (spec === undefined) continue;
    merged[key] = check(spec[1].flag ?? `--${spec[0].replaceAll('_', '-')}`, value, spec[1].kind, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  if (merged.enrolPort === undefined) merged.enrolPort = merged.agentPort === 0 ? 0 : (merged.agentPort as number) + 1;
  return Object.freeze(merged as unknown as CoordinatorConfig);
}

function check(where: string, value: unknown, kind: Kind, problems: string[]): unknown {
  const asNumber = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  switch (kind) {
    case 'string':
      if (typeof value === 'string' && value !== '') return value;
      problems.push(`${where}: expected a non-empty text`);
      return undefined;
    case 'names':
      return checkNames(where, value, problems);
    case 'database-url': {
      const problem = checkDatabaseUrl(value);
      if (problem === undefined) return value;
      problems.push(`${where}: ${problem}`);
      return undefined;
    }
    case 'url-template': {
      const problem = typeof value === 'string' ? checkArchiveUrlTemplate(value) : 'expected a URL';
      if (problem === undefined) return value;
      problems.push(`${where}: ${problem}, got ${JSON.stringify(value)}`);
      return undefined;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      problems.push(`${where}: expected true or false`);
      return undefined;
    case 'port':
      if (Number.isInteger(asNumber) && asNumber >= 0 && asNumber <= 65535) return asNumber;
      problems.push(`${where}: expected a port number 0-65535, got ${JSON.stringify(value)}`);
      return undefined;
    case 'quota':
      return checkQuota(where, value, problems);
    case 'secrets':
      return checkSecrets(where, value, problems);
    case 'log-format':
      if (isLogFormat(value)) return value;
      problems.push(`${where}: expected ${LOG_FORMATS.join(' or ')}, got ${JSON.stringify(value)}`);
      return undefined;
    case 'seconds':
    case 'count':
      if (Number.isFinite(asNumber) && asNumber > 0) return asNumber;
      problems.push(`${where}: expected a positive number, got ${JSON.stringify(value)}`);
      return undefined;
    case 'lease-seconds': {
      const { min, max } = LEASE_SECONDS_RANGE;
      if (Number.isFinite(asNumber) && asNumber >= min && asNumber <= max) return asNumber;
      problems.push(`${where}: expected a number of seconds from ${min} to ${max} (a lease is renewed every third of it), got ${JSON.stringify(value)}`);
      return undefined;
    }
  }
}

const SIZE_UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/**
 * parseByteSize reads a size: whole bytes, or a number with KiB, MiB, GiB or TiB (`512MiB`, `1.5 GiB`);
 * undefined for anything else or a size of zero.
 */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|TiB)?\s*$/.exec(value);
  if (m === null) return undefined;
  const bytes = Math.floor(Number(m[1]) * SIZE_UNITS[m[2] ?? '']!);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** checkQuota reads bucket_quota_bytes: a size, or a map of bucket name to size. */
function checkQuota(where: string, value: unknown, problems: string[]): unknown {
  const expected = 'expected a size in bytes (such as 10737418240 or 10GiB) or a map of bucket name to size';
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, number> = {};
    for (const [bucket, size] of Object.entries(value as Record<string, unknown>)) {
      const bytes = parseByteSize(size);
      if (bytes === undefined) problems.push(`${where}: ${bucket}: ${expected.split(' or a map')[0]}, got ${JSON.stringify(size)}`);
      else out[bucket] = bytes;
    }
    return Object.freeze(out);
  }
  const bytes = parseByteSize(value);
  if (bytes === undefined) problems.push(`${where}: ${expected}, got ${JSON.stringify(value)}`);
  return bytes;
}

/** checkNames reads a list of host names or IP addresses (a YAML list, or one name as a flag gives it). */
function checkNames(where: string, value: unknown, problems: string[]): unknown {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) {
    problems.push(`${where}: expected a list of host names or IP addresses`);
    return undefined;
  }
  const names: string[] = [];
  for (const name of list) {
    // A name goes into the certificate's subjectAltName as DNS or IP: no spaces, no scheme, no port.
    if (typeof name === 'string' && (isIP(name) !== 0 || /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(name))) names.push(name);
    else problems.push(`${where}: ${JSON.stringify(name)} is not a host name or IP address`);
  }
  return Object.freeze(names);
}

/** checkSecrets reads webhook_secrets: a map of trigger name to a non-empty secret. */
function checkSecrets(where: string, value: unknown, problems: string[]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${where}: expected a map of trigger name to secret`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [name, secret] of Object.entries(value as Record<string, unknown>)) {
    if (typeof secret === 'string' && secret !== '') out[name] = secret;
    else problems.push(`${where}: ${name}: expected a non-empty secret`);
  }
  return Object.freeze(out);
}

/** bucketQuota is the quota config gives a bucket, in bytes, or undefined for none. */
export function bucketQuota(config: Pick<CoordinatorConfig, 'bucketQuotaBytes'>, bucket: string): number | undefined {
  const quota = config.bucketQuotaBytes;
  if (quota === undefined || typeof quota === 'number') return quota;
  return Object.hasOwn(quota, bucket) ? quota[bucket] : undefined;
}

/** loadConfig reads the file named by `--config` (if any) and resolves it with the flags. */
export function loadConfig(file: string | undefined, flags: Partial<Record<keyof CoordinatorConfig, unknown>>): CoordinatorConfig {
  if (file === undefined) return resolveConfig(undefined, '', flags);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the configuration file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return resolveConfig(text, file, flags);
}
