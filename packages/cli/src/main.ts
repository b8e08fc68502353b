/**
 * fleetdeploy: the operator's command line. Mistakes and expected failures print one `ERROR:` line
 * and exit 1; anything else is a bug and is printed with its stack.
 */
import { Command } from 'commander';
import { isCliError } from './cli-error.js';
import { MAX_AGENTS } from './simulate/options.js';
import type { RawSimulateOptions } from './simulate/options.js';
import { runSimulate } from './simulate/command.js';

const program = new Command('fleetdeploy')
  .description('fleetdeploy: CodeDeploy-compatible deployments for your own fleet')
  .version('0.1.0')
  // commander's own mistakes (unknown option, missing value) in the same one-line form as ours.
  .configureOutput({ outputError: (text, write) => write(`ERROR: ${text.replace(/^error: /, '').trimEnd()} (see fleetdeploy --help)\n`) });

program
  .command('simulate')
  .description('run a coordinator and N agents on this machine, each agent in its own sandbox, until interrupted')
  .option('-n, --agents <n>', `how many agents (simulated hosts sim-1..sim-N), 1-${MAX_AGENTS} (default: 3)`)
  .option('-p, --port <port>', 'port of the CodeDeploy API and revision bucket; 0 picks a free one (default: 7180)')
  .option('--agent-port <port>', 'port of the agents\' gRPC service (default: --port + 1, or a free one with --port 0)')
  .option('-d, --data-dir <dir>', 'where the coordinator\'s data and the hosts\' sandboxes go (default: a new folder under the temp dir)')
  .option('--host <address>', 'address the coordinator listens on (default: 127.0.0.1)')
  .action(async (opts: RawSimulateOptions) => {
    process.exitCode = await runSimulate(opts, { line: (text) => console.log(text) });
  });

program.parseAsync(process.argv).then(
  () => process.exit(),
  (err: unknown) => {
    if (isCliError(err)) console.error(`ERROR: ${err.message}`);
    else {
      console.error('fleetdeploy: unexpected internal error, please report it:');
      console.error(err);
    }
    process.exit(1);
  },
);
