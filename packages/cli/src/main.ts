/**
 * fleetdeploy: the operator's command line. Mistakes and expected failures print one `ERROR:` line
 * that says what to do and exit 1; anything else is a bug, printed as one line too (with its stack
 * only when FLEETDEPLOY_DEBUG is set).
 */
import type { RawScheduleOptions } from './commands/schedule.js';
import { runSchedule, runSchedules, runUnschedule } from './commands/schedule.js';
import { Command, Option } from 'commander';
import type { WriteStream } from 'node:tty';
import { oneLineUsageErrors } from '@fleetdeploy/shared';
import { isCliError } from './cli-error.js';
import { MAX_AGENTS } from './simulate/options.js';
import type { RawSimulateOptions } from './simulate/options.js';
import { runSimulate } from './simulate/command.js';
import type { AwsContext, ConnectionOptions } from './aws-context.js';
import { createAwsContext } from './aws-context.js';
import { diagnoseEndpoint } from './endpoint-diagnosis.js';
import { parseBundleType, parseS3Location } from './bundle/s3-location.js';
import { pushRevision, pushSummary } from './commands/push.js';
import { requireApplication } from './names/require-names.js';
import type { RawDeployOptions } from './commands/deploy.js';
import { runDeploy } from './commands/deploy.js';
import type { RawStatusOptions } from './commands/status.js';
import { runStatus } from './commands/status.js';
import { runStop, STOP_WAIT_MS } from './commands/stop.js';
import { runContinue } from './commands/continue.js';
import type { ResolveFlags } from './commands/resolve.js';
import { resolveAction, runResolve } from './commands/resolve.js';
import { localArgs, runLocal } from './commands/local.js';
import { addOperatorCommands } from './operator-commands.js';
import { outputOption } from './output/format.js';
import type { OutputFormat } from './output/format.js';

const line = (text: string): void => void process.stdout.write(`${text}\n`);

const program = new Command('fleetdeploy')
  .description('fleetdeploy: CodeDeploy-compatible deployments for your own fleet')
  .version('0.1.0')
  .addOption(new Option('--endpoint-url <url>', 'the coordinator\'s API URL (default: FLEETDEPLOY_ENDPOINT, AWS_ENDPOINT_URL_CODEDEPLOY, AWS_ENDPOINT_URL, or endpoint_url in the profile)'))
  .addOption(new Option('--region <region>', 'region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION, the profile\'s region, else us-east-1)'))
  .addOption(new Option('--ca-bundle <file>', 'the CA certificate(s) to trust for an https:// endpoint: the coordinator\'s <data_dir>/ca/ca.pem (default: AWS_CA_BUNDLE, the profile\'s ca_bundle, else the system\'s)'))
  .addOption(new Option('--profile <name>', 'the AWS profile for credentials, region and endpoint_url (default: AWS_PROFILE, else default)'));

/** withAws resolves the connection from the global flags, runs `fn`, and closes the clients. */
async function withAws(cmd: Command, fn: (aws: AwsContext) => Promise<number>): Promise<void> {
  const g = cmd.optsWithGlobals<ConnectionOptions>();
  const aws = await createAwsContext({
    ...(g.endpointUrl === undefined ? {} : { endpointUrl: g.endpointUrl }),
    ...(g.region === undefined ? {} : { region: g.region }),
    ...(g.profile === undefined ? {} : { profile: g.profile }),
    ...(g.caBundle === undefined ? {} : { caBundle: g.caBundle }),
  });
  try {
    process.exitCode = await fn(aws);
  } catch (err) {
    // A TLS or socket failure may only mean the endpoint is the wrong port: say which.
    throw (await diagnoseEndpoint(aws.endpoint, err)) ?? err;
  } finally {
    aws.destroy();
  }
}

/** terminal is standard output when it is a terminal (bars), else nothing (plain lines). */
function terminal(): { tty?: WriteStream } {
  return process.stdout.isTTY ? { tty: process.stdout as WriteStream } : {};
}

/** interruptible runs `fn` with a signal that Ctrl-C or SIGTERM aborts: a watch then stops and says how to resume. */
async function interruptible(fn: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const interrupted = new AbortController();
  const onSignal = (): void => interrupted.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await fn(interrupted.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

program
  .command('push')
  .description('pack a revision folder (with its appspec.yml) as zip or tgz, upload it to the coordinator\'s bucket and register it, like aws deploy push')
  .requiredOption('-a, --application <name>', 'the application to register the revision with')
  .requiredOption('-s, --source <dir>', 'the revision folder; appspec.yml at its top')
  .requiredOption('--s3-location <s3://bucket/key>', 'where to upload it (the bucket must exist)')
  .option('-t, --bundle-type <type>', 'zip, tgz or tar (default: from the key\'s extension, else zip)')
  .option('--description <text>', 'the revision\'s description')
  .option('--ignore-hidden-files', 'leave out files and folders whose names start with a dot')
  .action(async (opts: { application: string; source: string; s3Location: string; bundleType?: string; description?: string; ignoreHiddenFiles?: boolean }, cmd: Command) => {
    const location = parseS3Location(opts.s3Location, opts.bundleType === undefined ? undefined : parseBundleType(opts.bundleType), 'zip');
    await withAws(cmd, async (aws) => {
      await requireApplication(aws, opts.application); // before the upload: a typo leaves no orphan bundle
      const pushed = await pushRevision(aws, {
        applicationName: opts.application,
        source: opts.source,
        location,
        ...(opts.description === undefined ? {} : { description: opts.description }),
        ignoreHidden: opts.ignoreHiddenFiles ?? false,
      });
      pushSummary(opts.application, pushed).forEach(line);
      return 0;
    });
  });

program
  .command('deploy')
  .description('deploy a revision to a deployment group; with --watch, follow it live and exit 0 only if it succeeds')
  .requiredOption('-a, --application <name>', 'the application')
  .requiredOption('-g, --group <name>', 'the deployment group')
  .option('-b, --bundle <dir>', 'a revision folder to push first (to s3://fleetdeploy-revisions/<application>/...)')
  .option('--s3-location <s3://bucket/key>', 'a revision pushed already (s3://bucket/key or bucket=,key=,bundleType=,eTag=)')
  .option('--appspec <file>', 'a Lambda application\'s AppSpec (YAML or JSON), sent inline as the revision')
  .option('-t, --bundle-type <type>', 'zip, tgz or tar (default: from the key\'s extension, else zip)')
  .option('-c, --config <name>', 'the deployment configuration (default: the group\'s)')
  .option('--description <text>', 'the deployment\'s description')
  .option('--file-exists-behavior <behavior>', 'DISALLOW, OVERWRITE or RETAIN (default DISALLOW)')
  .option('--ignore-application-stop-failures', 'carry on when ApplicationStop fails')
  .option('-w, --watch', 'follow the deployment to its end: bars per instance on a terminal, plain lines otherwise')
  .action(async (opts: RawDeployOptions, cmd: Command) => {
    await withAws(cmd, (aws) => interruptible((signal) => runDeploy(aws, opts, { ...terminal(), line }, signal)));
  });

program
  .command('schedule')
  .description('have the coordinator create a deployment at a cron time (it keeps the schedule across its restarts; once, at the first time from now)')
  .requiredOption('-a, --application <name>', 'the application')
  .requiredOption('-g, --group <name>', 'the deployment group')
  .requiredOption('--cron <expr>', "when: a cron expression, 5 fields or 6 with seconds first, e.g. '0 22 * * 1-5'")
  .option('--time-zone <zone>', 'the IANA zone the cron expression is read in, e.g. Europe/Paris (default UTC)')
  .requiredOption('--s3-location <s3://bucket/key>', 'a revision pushed already (s3://bucket/key or bucket=,key=,bundleType=,eTag=)')
  .option('-t, --bundle-type <type>', 'zip, tgz or tar (default: from the key\'s extension, else zip)')
  .option('-c, --config <name>', 'the deployment configuration (default: the group\'s)')
  .option('--description <text>', 'the deployment\'s description')
  .option('--file-exists-behavior <behavior>', 'DISALLOW, OVERWRITE or RETAIN (default DISALLOW)')
  .option('--ignore-application-stop-failures', 'carry on when ApplicationStop fails')
  .action(async (opts: RawScheduleOptions, cmd: Command) => {
    await withAws(cmd, (aws) => runSchedule(aws, opts, line));
  });

program
  .command('schedules')
  .description('the deployment schedules: when each runs, and the deployment it created or why it could not')
  .addOption(outputOption())
  .action(async (opts: { output: OutputFormat }, cmd: Command) => {
    await withAws(cmd, (aws) => runSchedules(aws, opts.output, line));
  });

program
  .command('unschedule')
  .argument('<schedule-id>', 'the schedule to delete (fleetdeploy schedules lists them)')
  .description('delete a deployment schedule')
  .action(async (id: string, _opts: unknown, cmd: Command) => {
    await withAws(cmd, (aws) => runUnschedule(aws, id, line));
  });

program
  .command('status')
  .argument('[deployment-id]', 'the deployment to show')
  .description('a deployment\'s status, overview and instances; or the latest deployments of an application or group')
  .option('-a, --application <name>', 'list the application\'s latest deployments')
  .option('-g, --group <name>', 'only this deployment group\'s')
  .option('-n, --limit <n>', 'how many deployments to list (default 10)')
  .option('-w, --watch', 'follow the deployment to its end, as deploy --watch does')
  .addOption(outputOption())
  .action(async (deploymentId: string | undefined, opts: RawStatusOptions, cmd: Command) => {
    await withAws(cmd, (aws) => interruptible((signal) => runStatus(aws, deploymentId, opts, { ...terminal(), write: line }, signal)));
  });

program
  .command('stop')
  .argument('<deployment-id>', 'the deployment to stop')
  .description('stop a deployment; with --rollback, then redeploy the last successful revision')
  .option('--rollback', 'roll back the instances to the last successful revision once stopped')
  .option('--no-wait', `return once the stop is asked for, without waiting (up to ${STOP_WAIT_MS / 1000} s) for the running lifecycle events to be cancelled`)
  .action(async (deploymentId: string, opts: { rollback?: boolean; wait: boolean }, cmd: Command) => {
    await withAws(cmd, (aws) => interruptible((signal) => runStop(aws, deploymentId, { rollback: opts.rollback ?? false, wait: opts.wait }, line, signal)));
  });

program
  .command('continue')
  .argument('<deployment-id>', 'the blue/green deployment to continue')
  .description('end a blue/green deployment\'s wait in Ready: reroute the traffic to the replacement now (ContinueDeployment READY_WAIT)')
  .option('--termination-wait', 'end the wait before the original is retired instead (ContinueDeployment TERMINATION_WAIT)')
  .action(async (deploymentId: string, opts: { terminationWait?: boolean }, cmd: Command) => {
    await withAws(cmd, (aws) => runContinue(aws, deploymentId, { terminationWait: opts.terminationWait === true }, line));
  });

program
  .command('resolve')
  .argument('<deployment-id>', 'the deployment that waits (guided failure; fleetdeploy status names the instance)')
  .argument('<instance>', 'the failed instance it waits on')
  .description('answer a guided failure: retry the failed instance, skip it, or fail the deployment')
  .option('--retry', 'run the instance\'s lifecycle again from the start (fresh bundle download; hosts that succeeded are left alone)')
  .option('--skip', 'mark the instance Skipped (still unhealthy for the minimum healthy hosts) and go on')
  .option('--fail', 'fail the deployment (with a rollback if the group rolls back on DEPLOYMENT_FAILURE)')
  .action(async (deploymentId: string, instance: string, opts: ResolveFlags, cmd: Command) => {
    resolveAction(opts); // a usage mistake is reported before any connection is made
    await withAws(cmd, (aws) => runResolve(aws, deploymentId, instance, opts, line));
  });

addOperatorCommands(program, { withAws, line });

program
  .command('local')
  .description('deploy a revision on this machine with no coordinator (fleetdeploy-agent local; see fleetdeploy local --help)')
  .helpOption(false)
  .allowUnknownOption()
  .allowExcessArguments()
  .action(async () => {
    process.exitCode = await runLocal(localArgs(process.argv));
  });

program
  .command('simulate')
  .description('run a coordinator and N agents on this machine, each agent in its own sandbox, until interrupted')
  .option('-n, --agents <n>', `how many agents (simulated hosts sim-1..sim-N), 1-${MAX_AGENTS} (default: 3)`)
  .option('-p, --port <port>', 'port of the CodeDeploy API and revision bucket; 0 picks a free one (default: 7180)')
  .option('--agent-port <port>', 'port of the agents\' gRPC service (default: --port + 1, or a free one with --port 0)')
  .option('-d, --data-dir <dir>', 'where the coordinator\'s data and the hosts\' sandboxes go (default: a new folder under the temp dir)')
  .option('--host <address>', 'address the coordinator listens on (default: 127.0.0.1)')
  .option('--local-aws', 'start moto_server as a local Lambda, CloudWatch and SNS endpoint for the coordinator (Lambda deployments and alarms without AWS); hook functions are played locally')
  .option('--haproxy', 'start HAProxy (Debian package haproxy) before the hosts, each serving what it installed at /var/www/html, and let the coordinator drive it: blue/green Server deployments on one machine')
  .option('--haproxy-port <port>', 'with --haproxy: the port HAProxy serves the site on (default: 7190)')
  .option('--lambda-hooks <file>', 'with --local-aws: JSON mapping hook function names to Succeeded, Failed, NoReport or {"run": "shell command"} (exit 0 = Succeeded) (default: Succeeded, Failed for names ending in -fail)')
  .action(async (opts: RawSimulateOptions) => {
    process.exitCode = await runSimulate(opts, { line: (text) => console.log(text) });
  });

// commander's own mistakes (unknown option, missing value) in the same one-line form as ours.
oneLineUsageErrors(program);

program.parseAsync(process.argv).then(
  () => process.exit(),
  (err: unknown) => {
    if (isCliError(err)) console.error(`ERROR: ${err.message}`);
    else {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      console.error(`ERROR: unexpected internal error (${message.split('\n')[0]}); please report it, with the output of FLEETDEPLOY_DEBUG=1 and the same command`);
      if (process.env.FLEETDEPLOY_DEBUG) console.error(err);
    }
    process.exit(1);
  },
);
