/**
 * The `simulate` command's options: the raw strings commander hands over, parsed and validated once
 * into a frozen {@link SimulateOptions}. Nothing past this module sees an unchecked value.
 */
import path from 'node:path';
import { CliError, CliErrorCode } from '../cli-error.js';

/** MAX_AGENTS bounds `--agents`: each agent is a Node.js process of about 60 MB. */
export const MAX_AGENTS = 200;

/** SimulateOptions is a validated simulation request. */
export interface SimulateOptions {
  readonly agents: number;
  readonly host: string;
  /** The CodeDeploy API and revision bucket port; 0 lets the coordinator pick a free one. */
  readonly apiPort: number;
  /** The agents' gRPC port: `--agent-port`, else apiPort + 1 (0 when apiPort is 0). */
  readonly agentPort: number;
  /** Where everything lives; undefined means a fresh folder under the OS temp dir. */
  readonly dataDir: string | undefined;
  /** `--local-aws`: start moto_server as the coordinator's Lambda, CloudWatch and SNS endpoint. */
  readonly localAws: boolean;
  /** `--lambda-hooks FILE`: what each hook function reports (see hook-runner.ts). */
  readonly lambdaHooksFile: string | undefined;
  /** `--haproxy`: start HAProxy before the hosts' web servers, on this frontend port (undefined: no HAProxy). */
  readonly haproxyPort: number | undefined;
  /**
   * Coordinator configuration keys (snake_case, as in its config file) for programs that start a
   * simulation themselves, e.g. `npm run demo:lambda`'s `test_only_minute_ms`. No flag sets them.
   */
  readonly coordinatorSettings: Readonly<Record<string, number | string>>;
}

/** RawSimulateOptions are the option strings as commander collects them. */
export interface RawSimulateOptions {
  agents?: string;
  port?: string;
  agentPort?: string;
  dataDir?: string;
  host?: string;
  localAws?: boolean;
  lambdaHooks?: string;
  haproxy?: boolean;
  haproxyPort?: string;
}

/** defaultSimulateOptions are what `fleetdeploy simulate` with no options runs. */
export const defaultSimulateOptions = Object.freeze({ agents: 3, host: '127.0.0.1', apiPort: 7180, haproxyPort: 7190 });

/**
 * parseSimulateOptions checks every option and throws a USAGE {@link CliError} naming the first bad
 * one. Examples: `{agents: '5'}` gives 5 agents on ports 7180/7181; `{port: '9000'}` gives 9000/9001;
 * `{port: '0'}` gives 0/0 (both picked by the coordinator).
 */
export function parseSimulateOptions(raw: RawSimulateOptions): SimulateOptions {
  const agents = raw.agents === undefined ? defaultSimulateOptions.agents : wholeNumber('--agents', raw.agents, 1, MAX_AGENTS);
  const apiPort = raw.port === undefined ? defaultSimulateOptions.apiPort : wholeNumber('--port', raw.port, 0, 65535);
  let agentPort: number;
  if (raw.agentPort !== undefined) agentPort = wholeNumber('--agent-port', raw.agentPort, 0, 65535);
  else if (apiPort === 0) agentPort = 0;
  else if (apiPort === 65535) throw usage('--port: 65535 leaves no port for the agents (the agents\' port is --port + 1); give --agent-port too');
  else agentPort = apiPort + 1;
  if (apiPort !== 0 && apiPort === agentPort) throw usage(`--agent-port: must differ from --port (both are ${apiPort})`);
  const host = raw.host ?? defaultSimulateOptions.host;
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw usage(`--host: expected an address such as 127.0.0.1, got ${JSON.stringify(host)}`);
  if (raw.dataDir !== undefined && raw.dataDir.trim() === '') throw usage('--data-dir: expected a folder, got an empty text');
  const dataDir = raw.dataDir === undefined ? undefined : path.resolve(raw.dataDir);
  if (raw.lambdaHooks !== undefined && raw.localAws !== true) throw usage('--lambda-hooks: the hook functions are played by the local AWS endpoint; give --local-aws too');
  const lambdaHooksFile = raw.lambdaHooks === undefined ? undefined : path.resolve(raw.lambdaHooks);
  if (raw.haproxyPort !== undefined && raw.haproxy !== true) throw usage('--haproxy-port: it is the port of the simulation\'s HAProxy; give --haproxy too');
  const haproxyPort = raw.haproxy !== true ? undefined : raw.haproxyPort === undefined ? defaultSimulateOptions.haproxyPort : wholeNumber('--haproxy-port', raw.haproxyPort, 1, 65535);
  if (haproxyPort !== undefined && (haproxyPort === apiPort || haproxyPort === agentPort || (agentPort !== 0 && haproxyPort === agentPort + 1))) {
    throw usage(`--haproxy-port: ${haproxyPort} is one of the coordinator's ports; pick another`);
  }
  return Object.freeze({ agents, host, apiPort, agentPort, dataDir, localAws: raw.localAws === true, lambdaHooksFile, haproxyPort, coordinatorSettings: Object.freeze({}) });
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw usage(`${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

function usage(message: string): CliError {
  return new CliError(CliErrorCode.USAGE, message);
}
