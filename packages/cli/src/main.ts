/** fleetdeploy: the operator's command line. */
import { Command } from 'commander';

const program = new Command('fleetdeploy').description('fleetdeploy: CodeDeploy-compatible deployments for your own fleet').version('0.1.0');
program.parse(process.argv);
