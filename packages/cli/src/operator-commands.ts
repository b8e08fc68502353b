/**
 * The operator's resource commands: applications, deployment groups, on-premises instances and
 * revisions, so that setting up a fleet needs no `aws deploy` and no invented IAM ARNs. main.ts adds
 * them with one call; each runs against the coordinator through the connection main resolves.
 */
import type { Command } from 'commander';
import type { AwsContext } from './aws-context.js';
import { runAppCreate, runAppDelete, runAppList } from './commands/app.js';
import type { RawGroupCreateOptions } from './commands/group.js';
import { DEFAULT_SERVICE_ROLE_ARN, runGroupCreate, runGroupList } from './commands/group.js';
import type { RawInstanceRegisterOptions } from './commands/instance.js';
import { DEFAULT_AGENT_CONFIG, runInstanceRegister } from './commands/instance.js';
import { runRevisions } from './commands/revisions.js';
import type { RawWindowsSetOptions } from './commands/group-windows.js';
import { runWindowsClear, runWindowsSet, runWindowsShow } from './commands/group-windows.js';
import { runInstances } from './commands/instances.js';
import { runSetOnFailure } from './commands/resolve.js';
import type { OutputFormat } from './output/format.js';
import { outputOption } from './output/format.js';

/** OperatorCommandDeps are main's connection and output helpers. */
export interface OperatorCommandDeps {
  /** withAws resolves the connection from the global flags, runs `fn`, sets the exit code and closes the clients. */
  withAws(cmd: Command, fn: (aws: AwsContext) => Promise<number>): Promise<void>;
  line(text: string): void;
}

/** collect lets a flag be repeated: each value is appended (no default, so help shows none). */
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** addOperatorCommands adds `app`, `group`, `instance`, `instances` and `revisions` to the program. */
export function addOperatorCommands(program: Command, deps: OperatorCommandDeps): void {
  const { withAws, line } = deps;

  const app = program.command('app').description('create, list and delete applications');
  app
    .command('create')
    .argument('<name>', 'the application\'s name')
    .description('create an application')
    .option('--compute-platform <platform>', 'Server (on-premises instances; the default), Lambda or ECS')
    .action(async (name: string, opts: { computePlatform?: string }, cmd: Command) => {
      await withAws(cmd, (aws) => runAppCreate(aws, name, opts.computePlatform, line));
    });
  app
    .command('list')
    .description('list the applications')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      await withAws(cmd, (aws) => runAppList(aws, opts.output, line));
    });
  app
    .command('delete')
    .argument('<name>', 'the application to delete')
    .description('delete an application with its deployment groups and revision records (the bundles stay in the bucket)')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withAws(cmd, (aws) => runAppDelete(aws, name, line));
    });

  const group = program.command('group').description('create and list deployment groups; set their deployment windows and guided failure');
  group
    .command('create')
    .argument('<name>', 'the deployment group\'s name')
    .description('create a deployment group: which instances (by tag), how fast, when to roll back, alarms and triggers')
    .requiredOption('-a, --application <name>', 'the application')
    .option('--tag <filter>', 'instances with this tag join: KEY=VALUE, KEY (any value) or =VALUE (any key); repeat for more (any one matches)', collect)
    .option('-c, --config <name>', 'the deployment configuration (default CodeDeployDefault.OneAtATime)')
    .option('--auto-rollback <events>', 'roll back on DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_REQUEST, DEPLOYMENT_STOP_ON_ALARM (comma list)', collect)
    .option('--alarm <name>', 'a CloudWatch alarm of the group (alarmConfiguration); repeat for more', collect)
    .option('--ignore-alarm-poll-failure', 'go on when the alarms cannot be read')
    .option('--trigger <spec>', 'a notification trigger (triggerConfigurations): name=NAME,target=SNS_TOPIC_ARN|https://WEBHOOK,events=DeploymentFailure,...; repeat for more', collect)
    .option('--service-role-arn <arn>', `the service role CodeDeploy requires (default ${DEFAULT_SERVICE_ROLE_ARN}; the coordinator does not use it)`)
    .option('--on-instance-failure <mode>', 'fail (default, as CodeDeploy) or guided: an in-place deployment waits at a failed instance until fleetdeploy resolve retries, skips or fails it (a fleetdeploy extension)')
    .action(async (name: string, opts: RawGroupCreateOptions, cmd: Command) => {
      await withAws(cmd, (aws) => runGroupCreate(aws, name, opts, line));
    });
  group
    .command('list')
    .description('list an application\'s deployment groups')
    .requiredOption('-a, --application <name>', 'the application')
    .addOption(outputOption())
    .action(async (opts: { application: string; output: OutputFormat }, cmd: Command) => {
      await withAws(cmd, (aws) => runGroupList(aws, opts.application, opts.output, line));
    });

  group
    .command('on-failure')
    .argument('<group>', 'the deployment group')
    .argument('<mode>', 'guided: wait at a failed instance for fleetdeploy resolve --retry|--skip|--fail; fail: CodeDeploy\'s behaviour')
    .description('set what the group\'s in-place deployments do when an instance fails (onInstanceFailure, a fleetdeploy extension)')
    .requiredOption('-a, --application <name>', 'the application')
    .action(async (name: string, mode: string, opts: { application: string }, cmd: Command) => {
      await withAws(cmd, (aws) => runSetOnFailure(aws, opts.application, name, mode, line));
    });

  const windows = group.command('windows').description('deployment windows (a fleetdeploy extension): when the group\'s deployments may start instances');
  windows
    .command('set')
    .argument('<group>', 'the deployment group')
    .description('replace the group\'s deployment windows; a deployment created outside them waits Queued (or is refused) until one opens')
    .requiredOption('-a, --application <name>', 'the application')
    .option('--window <spec>', "a window: 'CRON; MINUTES[; TIME_ZONE]' — opens at each time of the cron expression (5 fields, or 6 with seconds first) in the IANA zone (default UTC) for MINUTES; repeat for more", collect)
    .option('--outside-window <mode>', 'queue (default): a deployment created while every window is closed waits Queued and starts at the next opening; refuse: CreateDeployment fails with DeploymentWindowClosedException')
    .option('--window-close <mode>', 'finish-running (default): when a window closes mid-deployment, running instances finish and no new one starts until the next window; continue: the deployment goes on')
    .action(async (name: string, opts: RawWindowsSetOptions, cmd: Command) => {
      await withAws(cmd, (aws) => runWindowsSet(aws, name, opts, line));
    });
  windows
    .command('show')
    .argument('<group>', 'the deployment group')
    .description('print the group\'s deployment windows')
    .requiredOption('-a, --application <name>', 'the application')
    .action(async (name: string, opts: { application: string }, cmd: Command) => {
      await withAws(cmd, (aws) => runWindowsShow(aws, name, opts.application, line));
    });
  windows
    .command('clear')
    .argument('<group>', 'the deployment group')
    .description('remove the group\'s deployment windows: its deployments start at once again')
    .requiredOption('-a, --application <name>', 'the application')
    .action(async (name: string, opts: { application: string }, cmd: Command) => {
      await withAws(cmd, (aws) => runWindowsClear(aws, name, opts.application, line));
    });

  const instance = program.command('instance').description('register on-premises instances');
  instance
    .command('register')
    .argument('<name>', 'the instance\'s name (the host\'s instance_name)')
    .description('register an on-premises instance, tag it, and print the command that enrols its agent')
    .option('--tag <KEY=VALUE>', 'a tag deployment groups select it by; repeat for more', collect)
    .option('--iam-user-arn <arn>', 'the IAM user ARN CodeDeploy requires (default arn:aws:iam::000000000000:user/<name>; the coordinator does not use it)')
    .option('--agent-config <file>', `the agent's configuration file on the host, for the printed commands (default ${DEFAULT_AGENT_CONFIG})`)
    .action(async (name: string, opts: RawInstanceRegisterOptions, cmd: Command) => {
      await withAws(cmd, (aws) => runInstanceRegister(aws, name, opts, line));
    });

  program
    .command('instances')
    .description('the registered instances: agent connected or not, last heartbeat, agent version, certificate expiry, last deployment and its revision, tags')
    .addOption(outputOption())
    .action(async (opts: { output: OutputFormat }, cmd: Command) => {
      await withAws(cmd, (aws) => runInstances(aws, opts.output, line));
    });

  program
    .command('revisions')
    .description('the revisions registered with an application, newest first: location, registered, first and last used, groups, description')
    .requiredOption('-a, --application <name>', 'the application')
    .addOption(outputOption())
    .action(async (opts: { application: string; output: OutputFormat }, cmd: Command) => {
      await withAws(cmd, (aws) => runRevisions(aws, opts.application, opts.output, line));
    });
}
