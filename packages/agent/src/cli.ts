/**
 * fleetdeploy-agent: the host agent's command line. `local` runs a deployment on this host with no
 * coordinator, taking codedeploy-local's options; `run` is the daemon that takes commands from one.
 */
import { Command, Option } from 'commander';
import { addServiceCommands, isDeployError, isServiceError, oneLineUsageErrors } from '@fleetdeploy/shared';
import type { ServiceCommandHost } from '@fleetdeploy/shared';
import { DEFAULT_AGENT_CONFIG, runInstallService, runUninstallService } from './service/install-command.js';
import { runLocal } from './local/run-local.js';
import type { LocalOptions } from './local/options.js';
import { createLogger } from './log.js';
import { runDaemon } from './run/run-daemon.js';
import type { RunOptions } from './run/run-daemon.js';
import { runEnrol } from './run/enrol-command.js';
import type { EnrolCommandOptions } from './run/enrol-command.js';
import { AGENT_VERSION } from './version.js';

/**
 * grpc-js 1.14 sets the TLS server name to the dialled address even when it is an IP address, which
 * Node reports once per process as DEP0123 on stderr (the agent's log). The certificate check is
 * unaffected (Node checks IP SANs); only that one warning is dropped, as it is about grpc-js, not us.
 */
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
  if (code === 'DEP0123') return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const program = new Command('fleetdeploy-agent')
  .description('fleetdeploy host agent: runs CodeDeploy-compatible deployments on this host')
  .version(AGENT_VERSION);

program
  .command('local')
  .description('deploy a revision on this host without a coordinator (options of AWS codedeploy-local)')
  .option('-l, --bundle-location <location>', 'bundle: a folder, a tar/tgz/zip file, file://, s3://bucket/key or a GitHub URL (default: current folder)')
  .addOption(new Option('-t, --type <type>', 'bundle type: tgz, tar, zip or directory (default: directory)'))
  .option('-b, --file-exists-behavior <behavior>', 'DISALLOW, OVERWRITE or RETAIN for files no earlier deployment installed (default: DISALLOW; the AppSpec may override)')
  .option('-g, --deployment-group <id>', 'deployment group id: names the folder and ties cleanup between runs (default: default-local-deployment-group)')
  .option('-d, --deployment-group-name <name>', 'DEPLOYMENT_GROUP_NAME seen by scripts (default: LocalFleet)')
  .option('-a, --application-name <name>', 'APPLICATION_NAME seen by scripts (default: the bundle location)')
  .option('-e, --events <events>', 'comma-separated lifecycle events to run; DownloadBundle and Install are added')
  .option('-c, --agent-configuration-file <file>', 'agent configuration: codedeployagent.yml or ours (default: /etc/codedeploy-agent/conf/codedeployagent.yml if present)')
  .option('-A, --appspec-filename <name>', 'AppSpec file name in the bundle (default: appspec.yml, then appspec.yaml)')
  .option('--ignore-application-stop-failures', 'carry on when ApplicationStop, BeforeBlockTraffic or AfterBlockTraffic fails')
  .option('--verbose', 'log each event as JSON lines on standard error')
  .action(async (opts: LocalOptions & { verbose?: boolean }) => {
    const log = opts.verbose ? await createLogger('debug') : undefined;
    const outcome = await runLocal(opts, { cwd: process.cwd(), print: (line) => console.log(line), log });
    process.exitCode = outcome.ok ? 0 : 1;
  });

program
  .command('run')
  .description('run the agent daemon: connect to the coordinator and run the lifecycle events it sends')
  .requiredOption('--config <file>', 'agent configuration file (codedeployagent.yml keys plus coordinator, instance_name, metrics_port, ...)')
  .option('--verbose', 'log at debug level')
  .option('--log-level <level>', 'debug, info (default), warn or error')
  .option('--log-format <format>', 'json (JSON lines for machines) or pretty (pino-pretty, for people); default: log_format in the configuration, else json')
  .option('--stop-on-stdin-close', 'stop as on SIGTERM when standard input closes: a supervisor holding the pipe (fleetdeploy simulate) takes the agent with it when it dies')
  .action(async (opts: RunOptions) => {
    await runDaemon(opts);
    process.exit(0);
  });

program
  .command('enrol')
  .description('enrol this host with the coordinator: trade a one-time token for a client certificate (mutual TLS)')
  .option('--coordinator <host[:port]>', "the coordinator's enrolment address, enrol= in its listening line (port default 7182; without the flag: the config's coordinator host, its port + 1)")
  .requiredOption('--token <token>', 'the one-time token from RegisterOnPremisesInstance or fleetdeploy-coordinator enrol-token')
  .option('--config <file>', 'agent configuration file: where to store the certificate (tls_dir, or under root_dir)')
  .action(async (opts: EnrolCommandOptions) => {
    await runEnrol(opts, (line) => console.log(line));
  });

addServiceCommands(program as unknown as ServiceCommandHost, {
  install: 'install the agent as a systemd service (fleetdeploy-agent.service: root, restarts on failure, hook scripts survive agent restarts) and start it',
  uninstall: "stop and disable the agent's systemd service and remove its unit file",
  config: `the agent configuration the service runs with (default: ${DEFAULT_AGENT_CONFIG})`,
  runInstall: runInstallService,
  runUninstall: runUninstallService,
  installFlags: [['--platform <platform>', 'linux (default: a systemd unit) or windows (with --dry-run: print a WinSW service definition)']],
});

oneLineUsageErrors(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Mistakes in options, configuration or the bundle are the user's to fix: one line, no stack.
  if (isDeployError(err) || isServiceError(err) || (err instanceof Error && err.name === 'LocalUsageError')) {
    console.error(`ERROR: ${(err as Error).message}`);
  } else {
    console.error('fleetdeploy-agent: unexpected internal error, please report it:');
    console.error(err);
  }
  process.exitCode = 1;
});
