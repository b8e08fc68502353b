/**
 * The command line's building blocks, for scripts that drive a simulation themselves (`npm run
 * demo`, the end-to-end tests): start one and stop it; deploying to it is the `fleetdeploy` command's job.
 */
export { CliError, CliErrorCode, isCliError } from './cli-error.js';
export { parseSimulateOptions, MAX_AGENTS } from './simulate/options.js';
export type { SimulateOptions, RawSimulateOptions } from './simulate/options.js';
export { startSimulation } from './simulate/simulation.js';
/** DESTINATION_ROOT_ENV: the agent gives hook scripts its destination_root in this variable. */
export { DESTINATION_ROOT_ENV } from '@fleetdeploy/shared';
export type { Simulation, SimulationHooks } from './simulate/simulation.js';
export { createApiClients, credentialLines, readAdminCredentials, SIM_REGION } from './simulate/credentials.js';
export type { ApiClients, SimCredentials } from './simulate/credentials.js';
export type { SimHost } from './simulate/sandbox.js';
export { hookOutcome, FAILING_SUFFIX } from './simulate/hook-runner.js';
export type { HookOutcome, HookDecider } from './simulate/hook-runner.js';
export type { RecordedInvoke, RecordedAliasUpdate } from './simulate/lambda-front.js';
export { startLambdaFront } from './simulate/lambda-front.js';
export { findMotoServer, localAwsExportLines, MOTO_INSTALL } from './simulate/local-aws.js';
export type { LocalAws } from './simulate/local-aws.js';
