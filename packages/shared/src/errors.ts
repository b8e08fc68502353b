/**
 * ScriptErrorCode is the agent's numeric vocabulary for a failed host command, shared by the agent,
 * the coordinator and the wire protocol. The numbers are the AWS agent's own (its completion payload
 * carries them as `error_code`), the names are CodeDeploy's `LifecycleErrorCode` values.
 */
export const ScriptErrorCode = {
  Success: 0,
  ScriptMissing: 1,
  ScriptNotExecutable: 2,
  ScriptTimedOut: 3,
  ScriptFailed: 4,
  UnknownError: 5,
  OutputsLeftOpen: 6,
  FailedAfterRestart: 7,
} as const;

/** LifecycleErrorName is one of the names of {@link ScriptErrorCode}. */
export type LifecycleErrorName = keyof typeof ScriptErrorCode;

/**
 * Diagnostics is what a failed (or succeeded) lifecycle event reports: CodeDeploy's
 * `LifecycleEvent.diagnostics` shape. `logTail` holds at most about 2 KiB of the newest script output.
 */
export interface Diagnostics {
  errorCode: LifecycleErrorName;
  scriptName: string;
  message: string;
  logTail: string;
}

/**
 * DeployError is the one error type expected failures throw. Branch on `code`, never on `instanceof`
 * across package boundaries. `scriptName` and `logTail` are set for failures of a hook script.
 */
export class DeployError extends Error {
  readonly code: LifecycleErrorName;
  readonly scriptName: string;
  readonly logTail: string;

  constructor(
    code: LifecycleErrorName,
    message: string,
    opts: { scriptName?: string; logTail?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DeployError';
    this.code = code;
    this.scriptName = opts.scriptName ?? '';
    this.logTail = opts.logTail ?? '';
  }

  /** toDiagnostics turns the error into the payload a lifecycle event reports. */
  toDiagnostics(): Diagnostics {
    return { errorCode: this.code, scriptName: this.scriptName, message: this.message, logTail: this.logTail };
  }
}

/** isDeployError tells a {@link DeployError} apart from anything else thrown, by shape. */
export function isDeployError(err: unknown): err is DeployError {
  return err instanceof Error && (err as { name?: string }).name === 'DeployError' && 'code' in err;
}

/** toDeployError passes a {@link DeployError} through and wraps anything else as an UnknownError, keeping its text. */
export function toDeployError(err: unknown): DeployError {
  if (isDeployError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DeployError('UnknownError', message, { cause: err });
}
