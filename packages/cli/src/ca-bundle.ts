/**
 * Which certificates the CLI trusts for the coordinator's HTTPS API, found as the AWS CLI finds its
 * own: `--ca-bundle FILE`, then AWS_CA_BUNDLE, then the profile's `ca_bundle`; with none, the
 * system's roots (enough for a coordinator behind a publicly trusted proxy). A coordinator's own CA
 * is `<data_dir>/ca/ca.pem`, which it names when it starts.
 */
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { loadConfig } from '@smithy/core/config';
import { CliError, CliErrorCode } from './cli-error.js';

/** CaBundle is the PEM text to trust and where it was named (for error messages). */
export interface CaBundle {
  readonly pem: string;
  readonly file: string;
  readonly from: string;
}

/** resolveCaBundle reads the bundle the flag, environment or profile names, or undefined when none does. */
export async function resolveCaBundle(opts: { caBundle?: string; profile?: string }, env: NodeJS.ProcessEnv = process.env): Promise<CaBundle | undefined> {
  const named = nonEmpty(opts.caBundle) !== undefined ? { file: opts.caBundle!.trim(), from: '--ca-bundle' } : nonEmpty(env.AWS_CA_BUNDLE) !== undefined ? { file: env.AWS_CA_BUNDLE!.trim(), from: 'AWS_CA_BUNDLE' } : await fromProfile(opts.profile);
  return named === undefined ? undefined : readCaBundle(named.file, named.from);
}

/** readCaBundle reads a PEM file of one or more certificates; a CliError names `from` and the file when it cannot. */
export function readCaBundle(file: string, from: string): CaBundle {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(CliErrorCode.USAGE, `${from}: cannot read the CA bundle ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}): give the coordinator's <data_dir>/ca/ca.pem`);
  }
  try {
    new X509Certificate(pem);
  } catch {
    throw new CliError(CliErrorCode.USAGE, `${from}: ${file} holds no PEM certificate: give the coordinator's <data_dir>/ca/ca.pem`);
  }
  return { pem, file, from };
}

async function fromProfile(profile: string | undefined): Promise<{ file: string; from: string } | undefined> {
  const file = await loadConfig<string | undefined>(
    { environmentVariableSelector: () => undefined, configFileSelector: (p) => nonEmpty(p.ca_bundle), default: undefined },
    profile === undefined ? {} : { profile },
  )().catch(() => undefined);
  return file === undefined ? undefined : { file, from: `ca_bundle of the AWS profile ${profile ?? process.env.AWS_PROFILE ?? 'default'}` };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
