/**
 * fleetdeploy-coordinator: the coordinator daemon's command line. `serve` runs it until SIGTERM or
 * SIGINT, then shuts down in order (no new requests, agent streams closed, store closed).
 */
import path from 'node:path';
import { Command } from 'commander';
import { addServiceCommands, isServiceError, oneLineUsageErrors } from '@fleetdeploy/shared';
import type { ServiceCommandHost } from '@fleetdeploy/shared';
import { ConfigError, loadConfig } from './config.js';
import type { CoordinatorConfig } from './config.js';
import { createLogger } from './log.js';
import { ListenFailure, startCoordinator } from './coordinator.js';
import { requireDataDir } from './data-dir.js';
import { blobDirOf } from './blob-dir.js';
import { routeGrpcLogs } from './rpc/grpc-log.js';
import { onStdinClosed } from './stdin-closed.js';
import { keysCommand } from './auth/keys-command.js';
import { systemClock } from './clock.js';
import { CaConfigError } from './ca/authority.js';
import { EnrolmentError } from './ca/enrolment.js';
import { mintEnrolmentToken } from './ca/enrol-token.js';
import { parseDuration } from './ca/tokens.js';
import { corruptDatabase, isDatabaseCorruption } from './store/database-file.js';
import { limitHeapGrowth } from './heap-growth.js';
import { DATABASE_FILE } from './store/sqlite-store.js';
import { isDiskFull } from './store/disk-full.js';
import { backupCommand, restoreCommand } from './store/backup-commands.js';
import { migrateCommand } from './store/migrate-command.js';
import { runInstallService, runUninstallService } from './service/install-command.js';
import { COORDINATOR_DATA_DIR, COORDINATOR_SERVICE } from './service/coordinator-unit.js';

// fleetdeploy supports Node.js 20 (see README); the AWS SDK clients the coordinator makes would otherwise
// print the SDK's notice about its own future Node.js floor into the daemon's log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const program = new Command('fleetdeploy-coordinator').description('fleetdeploy coordinator daemon').version('0.1.0');

program
  .command('serve')
  .description('run the coordinator: the CodeDeploy API, the revision bucket and the agents\' gRPC service')
  .option('-c, --config <file>', 'YAML configuration file (keys: data_dir, host, api_port, agent_port, ...)')
  .option('--data-dir <dir>', 'where the database and bundles live; made (mode 0700) if missing (default: ./fleetdeploy-data)')
  .option('--database <url>', 'a PostgreSQL database shared by several coordinators (postgres://user@host/database); default: SQLite in the data directory')
  .option('--blob-dir <dir>', 'where bundles and bucket objects are kept; with --database required, a directory every replica shares (default: <data-dir>/blobs)')
  .option('--host <address>', 'address to listen on (default: 127.0.0.1)')
  .option('--port <port>', 'port of the CodeDeploy API and revision bucket (default: 7180; 0 picks a free one)')
  .option('--agent-port <port>', 'port of the agents\' gRPC service (default: 7181; 0 picks a free one)')
  .option('--enrol-port <port>', 'port where agents enrol (TLS, no client certificate; default: --agent-port + 1)')
  .option('--plaintext-agents', 'TESTS ONLY: agents connect in plain text without certificates, naming themselves')
  .option('--plaintext-api', 'serve the API in plain HTTP instead of HTTPS: only behind a TLS proxy on this host, or in tests')
  .option('--api-tls-name <name>', 'one more DNS name or IP address for the API\'s certificate (repeatable; also api_tls_names)', (name: string, names: string[] = []) => [...names, name])
  .option('--api-tls-cert <file>', 'the API\'s certificate chain (PEM) instead of one the coordinator\'s CA issues; with --api-tls-key')
  .option('--api-tls-key <file>', 'the private key (PEM) of --api-tls-cert')
  .option('--agent-grace <seconds>', 'how long an agent may be silent before its running event fails (default: 30)')
  .option('--deployment-lease-seconds <seconds>', 'replicas on one database: how long a replica holds a deployment without renewing it, so how soon a dead replica\'s deployments are taken over (1-3600, default: 15)')
  .option('--alarm-poll-interval-seconds <seconds>', 'how often a running deployment\'s CloudWatch alarms are read (default: 15)')
  .option('--haproxy-socket <path|host:port>', 'HAProxy\'s runtime API (a "stats socket ... level admin"), for blue/green Server deployments')
  .option('--console-session-seconds <seconds>', 'how long a web console sign-in (at /_console/ on the API port) lasts (default: 28800, 8 h)')
  .option('--log-level <level>', 'pino log level (default: info)')
  .option('--log-format <format>', 'json (default: JSON lines for machines) or pretty (pino-pretty, for people)')
  .option('--stop-on-stdin-close', 'stop as on SIGTERM when standard input closes: a supervisor holding the pipe (fleetdeploy simulate) takes the coordinator with it when it dies')
  .action(async (opts: { config?: string; dataDir?: string; database?: string; blobDir?: string; host?: string; port?: string; agentPort?: string; enrolPort?: string; plaintextAgents?: boolean; plaintextApi?: boolean; apiTlsName?: string[]; apiTlsCert?: string; apiTlsKey?: string; agentGrace?: string; deploymentLeaseSeconds?: string; alarmPollIntervalSeconds?: string; haproxySocket?: string; consoleSessionSeconds?: string; logLevel?: string; logFormat?: string; stopOnStdinClose?: boolean }) => {
    const config = loadConfig(opts.config, {
      dataDir: opts.dataDir,
      database: opts.database,
      blobDir: opts.blobDir,
      host: opts.host,
      apiPort: opts.port,
      agentPort: opts.agentPort,
      enrolPort: opts.enrolPort,
      plaintextAgents: opts.plaintextAgents,
      plaintextApi: opts.plaintextApi,
      apiTlsNames: opts.apiTlsName,
      apiTlsCert: opts.apiTlsCert,
      apiTlsKey: opts.apiTlsKey,
      agentGraceSeconds: opts.agentGrace,
      deploymentLeaseSeconds: opts.deploymentLeaseSeconds,
      alarmPollIntervalSeconds: opts.alarmPollIntervalSeconds,
      haproxySocket: opts.haproxySocket,
      consoleSessionSeconds: opts.consoleSessionSeconds,
      logLevel: opts.logLevel,
      logFormat: opts.logFormat,
    });
    blobDirOf(config); // refuses --database without --blob-dir before anything starts
    limitHeapGrowth(); // before the fleet's sessions fill the heap (heap-growth.ts)
    const log = await createLogger(config.logLevel, config.logFormat);
    routeGrpcLogs(log);
    const running = await startCoordinator(config, log).catch((err: unknown) => {
      throw describeStartFailure(err, config);
    });
    if (running.firstAdminKeyFile !== undefined) {
      console.log(`fleetdeploy-coordinator made the first admin access key: ${running.firstAdminKeyFile} (readable only by you; AWS credentials-file format)`);
    }
    if (running.apiCaFile !== undefined) {
      console.log(`fleetdeploy-coordinator API serves HTTPS; its clients trust the CA certificate ${running.apiCaFile} (aws --ca-bundle FILE, or AWS_CA_BUNDLE=FILE)`);
    } else if (running.apiUrl.startsWith('http:')) {
      console.log('fleetdeploy-coordinator WARNING: the API serves plain HTTP (--plaintext-api): requests and bundles cross the network unencrypted');
    }
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      running.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    if (opts.stopOnStdinClose === true) onStdinClosed(() => shutdown('stdin closed'));
    // The one line scripts and the simulation wait for; printed once a SIGTERM right after it would be handled.
    console.log(`fleetdeploy-coordinator listening api=${running.apiUrl} agents=${running.agentAddress} enrol=${running.enrolAddress} data=${config.dataDir}`);
  });

program
  .command('enrol-token')
  .description('print a one-time enrolment token for a registered instance (fleetdeploy-agent enrol --token)')
  .requiredOption('--instance <name>', 'the on-premises instance the token enrols')
  .option('-c, --config <file>', 'the coordinator\'s YAML configuration file (for data_dir and the CA files)')
  .option('--data-dir <dir>', 'the coordinator\'s data directory, made by serve (default: ./fleetdeploy-data)')
  .option('--database <url>', 'the PostgreSQL database the replicas share (postgres://user@host/database), instead of a data directory')
  .option('--ttl <duration>', 'how long the token is valid: 90s, 30m, 1h, 7d (default: enrolment_token_ttl_seconds, 24 h)')
  .action(async (opts: { instance: string; config?: string; dataDir?: string; database?: string; ttl?: string }) => {
    const config = loadConfig(opts.config, { dataDir: opts.dataDir, database: opts.database });
    if (config.database === undefined) requireDataDir(config.dataDir, opts.dataDir !== undefined || opts.config !== undefined);
    const ttlMs = opts.ttl === undefined ? undefined : parseDuration(opts.ttl);
    if (opts.ttl !== undefined && ttlMs === undefined) throw new ConfigError(`--ttl: expected a duration such as 90s, 30m, 1h or 7d, got ${JSON.stringify(opts.ttl)}`);
    try {
      console.log(await mintEnrolmentToken(config, opts.instance, ttlMs, systemClock));
    } catch (err) {
      if (err instanceof EnrolmentError || err instanceof CaConfigError) throw new ConfigError(err.message);
      throw describeStartFailure(err, config);
    }
  });

/** LISTEN_ROLES says, for each port, what it serves and which flag moves it. */
const LISTEN_ROLES = {
  api: { what: 'the CodeDeploy API and revision bucket', flag: '--port' },
  agents: { what: "the agents' gRPC service", flag: '--agent-port' },
  enrol: { what: "the agents' enrolment port", flag: '--enrol-port' },
} as const;

/**
 * describeStartFailure turns the ways a start can fail because of the machine (a port in use, a data
 * directory that is a file, not writable or on a full disk, a database from a newer coordinator or a damaged one) into a
 * {@link ConfigError} that says what to change; anything else passes through as a bug.
 */
function describeStartFailure(err: unknown, config: CoordinatorConfig): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ListenFailure) {
    const { what, flag } = LISTEN_ROLES[err.role];
    const cause = err.cause as NodeJS.ErrnoException | undefined;
    const inUse = cause?.code === 'EADDRINUSE' || /EADDRINUSE|address already in use|No address added/i.test(err.message);
    const why = inUse ? 'another process uses it' : (cause?.code ?? cause?.message ?? err.message);
    return new ConfigError(`cannot listen on ${config.host} port ${err.port} (${what}): ${why}; pick another with ${flag}`);
  }
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EROFS' || code === 'SQLITE_CANTOPEN') {
    return new ConfigError(`cannot use the data directory ${config.dataDir}: ${message}; choose another with --data-dir`);
  }
  if (isDiskFull(err)) return new ConfigError(`the data directory ${config.dataDir} is on a full file system (${code ?? message}): free space there, then start the coordinator again`);
  if (isDatabaseCorruption(err)) return corruptDatabase(path.join(config.dataDir, DATABASE_FILE), config.dataDir, message);
  if (/schema version/.test(message) || err instanceof CaConfigError || (err as Error).name === 'StaleCredentialsError') return new ConfigError(message);
  return err;
}

program.addCommand(keysCommand());
program.addCommand(backupCommand());
program.addCommand(restoreCommand());
program.addCommand(migrateCommand());

addServiceCommands(program as unknown as ServiceCommandHost, {
  install: `install the coordinator as a systemd service (${COORDINATOR_SERVICE}.service: a user of its own, data in ${COORDINATOR_DATA_DIR}, read-only elsewhere) and start it`,
  uninstall: "stop and disable the coordinator's systemd service and remove its unit file (its data stays)",
  config: "the YAML configuration the service runs with (its data_dir is replaced by the service's)",
  runInstall: runInstallService,
  runUninstall: runUninstallService,
});

oneLineUsageErrors(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError || isServiceError(err)) console.error(`ERROR: ${(err as Error).message}`);
  else {
    console.error('fleetdeploy-coordinator: unexpected internal error, please report it:');
    console.error(err);
  }
  process.exitCode = 1;
});
