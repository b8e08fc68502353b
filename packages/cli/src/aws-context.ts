/**
 * Where the coordinator is and who we are to it, resolved the way the AWS SDKs and CLI resolve
 * them, once per command:
 *
 *   endpoint     --endpoint-url, FLEETDEPLOY_ENDPOINT, AWS_ENDPOINT_URL_CODEDEPLOY, AWS_ENDPOINT_URL,
 *                then the profile's `[services X] codedeploy = endpoint_url = ...` or `endpoint_url`
 *   region       --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1
 *                (the coordinator's default region; it only scopes signatures)
 *   credentials  the SDK's default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or
 *                --profile in ~/.aws/credentials and ~/.aws/config, SSO, process, web identity
 *   trust        --ca-bundle, AWS_CA_BUNDLE, the profile's `ca_bundle` (ca-bundle.ts), else the system's roots
 *
 * The coordinator serves CodeDeploy and its revision bucket on one port, so one endpoint feeds both
 * clients (S3 with path-style addressing) and the event stream.
 */
import https from 'node:https';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { S3Client } from '@aws-sdk/client-s3';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { loadConfig } from '@smithy/core/config';
import type { AwsCredentialIdentity } from '@smithy/types';
import { CliError, CliErrorCode } from './cli-error.js';
import { resolveCaBundle } from './ca-bundle.js';
import { missingProfileMessage, NO_CREDENTIALS_MESSAGE } from './credential-hints.js';

/** ConnectionOptions are the global flags every API command takes. */
export interface ConnectionOptions {
  endpointUrl?: string;
  region?: string;
  profile?: string;
  caBundle?: string;
}

/** AwsContext is a resolved endpoint, region and credentials, with clients built on them. */
export interface AwsContext {
  /** The coordinator's API URL, e.g. `https://127.0.0.1:7180` (no trailing slash). */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
  /** The CA certificates trusted for an https:// endpoint (PEM), when one was named; else the system's. */
  readonly caPem?: string;
  readonly codedeploy: CodeDeployClient;
  readonly s3: S3Client;
  /** destroy closes both clients' sockets. */
  destroy(): void;
}

export { NO_CREDENTIALS_MESSAGE };

/** DEFAULT_REGION is the coordinator's own default region. */
export const DEFAULT_REGION = 'us-east-1';

/**
 * resolveEndpoint finds the coordinator's URL (see the module comment for the order) or throws
 * NO_ENDPOINT. The environment and profile part mirrors the SDKs' service-specific endpoint rules.
 */
export async function resolveEndpoint(opts: ConnectionOptions): Promise<string> {
  const fromFlagOrOurEnv = opts.endpointUrl ?? nonEmpty(process.env.FLEETDEPLOY_ENDPOINT);
  const configured =
    fromFlagOrOurEnv ??
    (await loadConfig<string | undefined>(
      {
        environmentVariableSelector: (e) => nonEmpty(e.AWS_ENDPOINT_URL_CODEDEPLOY) ?? nonEmpty(e.AWS_ENDPOINT_URL),
        configFileSelector: (profile, config) => {
          const services = profile.services === undefined ? undefined : config?.[`services.${profile.services}`];
          return nonEmpty(services?.['codedeploy.endpoint_url']) ?? nonEmpty(profile.endpoint_url);
        },
        default: undefined,
      },
      opts.profile === undefined ? {} : { profile: opts.profile },
    )().catch(() => undefined));
  if (configured === undefined) {
    throw new CliError(CliErrorCode.NO_ENDPOINT, 'no coordinator endpoint: pass --endpoint-url URL or set FLEETDEPLOY_ENDPOINT (fleetdeploy simulate prints it)');
  }
  let url: URL;
  try {
    url = new URL(configured);
  } catch {
    throw new CliError(CliErrorCode.USAGE, `endpoint ${JSON.stringify(configured)} is not a URL: use e.g. https://127.0.0.1:7180`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(CliErrorCode.USAGE, `endpoint ${configured} must be an http:// or https:// URL`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** resolveRegion finds the region to sign for (see the module comment). */
export async function resolveRegion(opts: ConnectionOptions): Promise<string> {
  if (opts.region !== undefined) return opts.region;
  const region = await loadConfig<string | undefined>(
    {
      environmentVariableSelector: (e) => nonEmpty(e.AWS_REGION) ?? nonEmpty(e.AWS_DEFAULT_REGION),
      configFileSelector: (profile) => nonEmpty(profile.region),
      default: undefined,
    },
    opts.profile === undefined ? {} : { profile: opts.profile },
  )().catch(() => undefined);
  return region ?? DEFAULT_REGION;
}

/** resolveCredentials runs the SDK's default chain once, or throws NO_CREDENTIALS saying what to set. */
export async function resolveCredentials(opts: ConnectionOptions): Promise<AwsCredentialIdentity> {
  try {
    return await defaultProvider(opts.profile === undefined ? {} : { profile: opts.profile })();
  } catch (err) {
    const missing = await missingProfileMessage(opts.profile);
    if (missing !== undefined) throw new CliError(CliErrorCode.NO_CREDENTIALS, missing, { cause: err });
    const why = err instanceof Error && err.name !== 'CredentialsProviderError' ? ` (${err.message})` : '';
    throw new CliError(CliErrorCode.NO_CREDENTIALS, `${NO_CREDENTIALS_MESSAGE}${why}`, { cause: err });
  }
}

/** createAwsContext resolves everything and builds the clients; the caller destroys them. */
export async function createAwsContext(opts: ConnectionOptions): Promise<AwsContext> {
  // fleetdeploy supports Node.js 20 (see engines); the SDK's notice would otherwise open every run's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = await resolveEndpoint(opts);
  const region = await resolveRegion(opts);
  const credentials = await resolveCredentials(opts);
  const bundle = await resolveCaBundle(opts);
  // The SDK warns on the console about some failures (a streamed upload that cannot be retried)
  // that the command then explains in its one ERROR line; keep its own logging quiet.
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const trust = bundle === undefined ? {} : { requestHandler: { httpsAgent: new https.Agent({ keepAlive: true, ca: bundle.pem }) } };
  const common = { endpoint, region, credentials, maxAttempts: 2, logger: quiet, ...trust };
  const codedeploy = new CodeDeployClient(common);
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  return {
    endpoint,
    region,
    credentials,
    ...(bundle === undefined ? {} : { caPem: bundle.pem }),
    codedeploy,
    s3,
    destroy() {
      codedeploy.destroy();
      s3.destroy();
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
