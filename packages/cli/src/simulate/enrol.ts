/**
 * Enrolling the simulated hosts, as an operator enrols real ones: each host's one-time token (the
 * one RegisterOnPremisesInstance wrote to the coordinator's `enrolment/<name>.token`, or a new one
 * from `fleetdeploy-coordinator enrol-token` when the host was registered by an earlier run), then
 * `fleetdeploy-agent enrol`, which pins the coordinator's CA and stores the host's key and
 * certificate in its sandbox. A host that already holds an unexpired certificate is left as it is.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CliError, CliErrorCode } from '../cli-error.js';
import { runToEnd } from './processes.js';
import type { SimHost } from './sandbox.js';

/** ENROL_PARALLEL is how many hosts enrol at once (each is two short node processes). */
const ENROL_PARALLEL = 8;

/** EnrolTarget is what enrolment needs of the coordinator. */
export interface EnrolTarget {
  coordinatorBin: string;
  agentBin: string;
  /** The coordinator's data directory (its enrolment/ folder and database). */
  dataDir: string;
  /** Its enrolment address, host:port. */
  enrolAddress: string;
  /** Now, in ms (an expired certificate is replaced). */
  now: number;
}

/** needsEnrolment tells whether a host has no usable certificate yet. */
export function needsEnrolment(host: SimHost, now: number): boolean {
  try {
    return Date.parse(new X509Certificate(fs.readFileSync(path.join(host.tlsDir, 'cert.pem'))).validTo) <= now;
  } catch {
    return true;
  }
}

/** enrolHosts enrols every host that needs it; throws AGENT_FAILED naming the host and the reason. */
export async function enrolHosts(target: EnrolTarget, hosts: readonly SimHost[]): Promise<void> {
  const pending = hosts.filter((h) => needsEnrolment(h, target.now));
  const next = async (): Promise<void> => {
    for (let host = pending.shift(); host !== undefined; host = pending.shift()) await enrolOne(target, host);
  };
  await Promise.all(Array.from({ length: ENROL_PARALLEL }, next));
}

async function enrolOne(target: EnrolTarget, host: SimHost): Promise<void> {
  const tokenFile = path.join(target.dataDir, 'enrolment', `${host.name}.token`);
  let token: string;
  if (fs.existsSync(tokenFile)) token = fs.readFileSync(tokenFile, 'utf8').trim();
  else {
    const minted = await runToEnd([target.coordinatorBin, 'enrol-token', '--instance', host.name, '--data-dir', target.dataDir]);
    if (minted.code !== 0) throw new CliError(CliErrorCode.AGENT_FAILED, `cannot make an enrolment token for ${host.name}: ${lastLine(minted.stderr)}`);
    token = minted.stdout.trim();
  }
  const enrolled = await runToEnd([target.agentBin, 'enrol', '--coordinator', target.enrolAddress, '--token', token, '--config', host.configFile]);
  if (enrolled.code !== 0) throw new CliError(CliErrorCode.AGENT_FAILED, `agent ${host.name} could not enrol: ${lastLine(enrolled.stderr)}`);
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? 'no output';
}
