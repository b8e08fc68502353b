/**
 * `fleetdeploy-agent enrol --coordinator HOST:PORT --token TOKEN [--config FILE]`: pins the
 * coordinator's CA by the token's fingerprint, trades the token for a client certificate, and stores
 * key.pem (0600), cert.pem and ca.pem in the agent's tls folder (`tls_dir`, default
 * `<root_dir>/fleetdeploy-agent/tls`). `run` then connects with mutual TLS.
 */
import fs from 'node:fs';
import os from 'node:os';
import { DeployError } from '@fleetdeploy/shared';
import { defaultAgentConfig, parseAgentConfig, tlsDir } from '../config/agent-config.js';
import type { AgentConfig } from '../config/agent-config.js';

/** EnrolCommandOptions are the command's options. */
export interface EnrolCommandOptions {
  /** HOST or HOST:PORT of the enrolment port; default: the configuration's coordinator host, its port + 1. */
  coordinator?: string;
  token: string;
  config?: string;
}

/** runEnrol enrols and prints what it stored; throws DeployError with one line to show. */
export async function runEnrol(opts: EnrolCommandOptions, print: (line: string) => void): Promise<void> {
  let config: AgentConfig = defaultAgentConfig;
  if (opts.config !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(opts.config, 'utf8');
    } catch (err) {
      throw new DeployError('UnknownError', `configuration file ${opts.config} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    config = parseAgentConfig(text, opts.config);
  }
  const dir = tlsDir(config);
  // grpc-js, the proto and @peculiar/x509 load only here and in `run`.
  const [{ loadGrpcRuntime }, { enrolAgent }] = await Promise.all([import('../connection/grpc-runtime.js'), import('../connection/enrol.js')]);
  const { resolveEnrolAddress, joinAddress, splitAddress, WrongPortError } = await import('../connection/enrol-address.js');
  const address = resolveEnrolAddress(opts.coordinator, config.coordinator, opts.config ?? 'no --config given');
  const runtime = await loadGrpcRuntime();
  const { proxyFor } = await import('../connection/proxy.js');
  const enrolAt = (at: string) => {
    const proxy = proxyFor(splitAddress(at).host, config.proxyUri, process.env);
    return enrolAgent({ runtime, address: at, token: opts.token, dir, nameHint: config.instanceName ?? os.hostname(), ...(proxy === undefined ? {} : { proxy }) });
  };
  let identity;
  try {
    identity = await enrolAt(address);
  } catch (err) {
    // The agents' port was given (the address agent.yml names): its enrolment port is next to it by default.
    if (!(err instanceof WrongPortError && err.wrong === 'agents')) throw err;
    const { host, port } = splitAddress(address);
    const next = joinAddress(host, port + 1);
    identity = await enrolAt(next).catch(() => {
      throw err;
    });
    print(`note: ${address} is the coordinator's agents' port; enrolled at its enrolment port ${next} (give that to --coordinator next time)`);
  }
  if (config.instanceName !== undefined && config.instanceName !== identity.instanceName) {
    print(`WARNING: ${opts.config}: instance_name is ${config.instanceName} but the token enrolled ${identity.instanceName}; run will refuse until they agree`);
  }
  print(`enrolled as ${identity.instanceName}: certificate valid until ${new Date(identity.notAfter).toISOString()}, stored in ${dir} (key.pem readable only by ${os.userInfo().username})`);
}
