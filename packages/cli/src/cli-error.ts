/**
 * CliError is a failure the operator can act on: main prints its message as one `ERROR:` line, with
 * no stack trace, and exits 1. Anything else that escapes is a bug and is printed in full.
 */

/** CliErrorCode names what went wrong, so callers and tests branch on a code, not on the text. */
export const CliErrorCode = {
  /** An option's value is not acceptable. */
  USAGE: 'USAGE',
  /** A port the simulation needs is taken by another process. */
  PORT_IN_USE: 'PORT_IN_USE',
  /** The packages are not built, so the daemons' programs are missing. */
  NOT_BUILT: 'NOT_BUILT',
  /** The coordinator did not start, or exited while the simulation ran. */
  COORDINATOR_FAILED: 'COORDINATOR_FAILED',
  /** An agent exited while the simulation ran. */
  AGENT_FAILED: 'AGENT_FAILED',
  /** A CodeDeploy or S3 call to the coordinator failed. */
  API_FAILED: 'API_FAILED',
  /** A deployment did not reach a final status in time. */
  TIMED_OUT: 'TIMED_OUT',
  /** No coordinator endpoint was given by flag, environment or profile. */
  NO_ENDPOINT: 'NO_ENDPOINT',
  /** The AWS credential chain found no credentials. */
  NO_CREDENTIALS: 'NO_CREDENTIALS',
  /** The coordinator could not be reached (refused, unknown host, timed out). */
  UNREACHABLE: 'UNREACHABLE',
  /** A file or folder the command needs is missing or unusable (a bundle folder without appspec.yml). */
  BAD_BUNDLE: 'BAD_BUNDLE',
  /** The event stream of a watched deployment failed and could not be resumed. */
  STREAM_FAILED: 'STREAM_FAILED',
  /** A program the command needs is not installed (moto_server for --local-aws). */
  MISSING_TOOL: 'MISSING_TOOL',
  /** The local AWS endpoint (moto_server) did not start or ended. */
  LOCAL_AWS_FAILED: 'LOCAL_AWS_FAILED',
  /** The simulation's HAProxy (--haproxy) did not start. */
  HAPROXY_FAILED: 'HAPROXY_FAILED',
} as const;

/** CliErrorCode is one of {@link CliErrorCode}'s values. */
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** CliError is an expected failure with a message written for the operator. */
export class CliError extends Error {
  readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.code = code;
  }
}

/** isCliError tells a {@link CliError} by its name and code, so it works across module copies. */
export function isCliError(err: unknown): err is CliError {
  return err instanceof Error && err.name === 'CliError' && typeof (err as { code?: unknown }).code === 'string';
}
