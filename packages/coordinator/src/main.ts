/** fleetdeploy-coordinator: the coordinator daemon's command line. */
import { Command } from 'commander';

const program = new Command('fleetdeploy-coordinator').description('fleetdeploy coordinator daemon').version('0.1.0');
program.parse(process.argv);
