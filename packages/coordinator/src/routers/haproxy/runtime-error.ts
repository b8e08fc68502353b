/**
 * The failures of a call to HAProxy's runtime API, one code each, so that a caller (the HAProxy
 * router) branches on `code` and never on message text.
 */

/** RuntimeApiErrorCode lists why a runtime API call failed. */
export const RuntimeApiErrorCode = {
  /** The socket is absent, refused the connection or could not be opened. */
  UNREACHABLE: 'UNREACHABLE',
  /** HAProxy did not finish its answer in time. */
  TIMEOUT: 'TIMEOUT',
  /** HAProxy has no backend of that name. */
  NO_SUCH_BACKEND: 'NO_SUCH_BACKEND',
  /** The backend has no server of that name. */
  NO_SUCH_SERVER: 'NO_SUCH_SERVER',
  /** HAProxy answered the command with any other error (its text is in the message). */
  COMMAND_REJECTED: 'COMMAND_REJECTED',
  /** HAProxy's answer is not in the format this client reads. */
  BAD_RESPONSE: 'BAD_RESPONSE',
  /** The call's own arguments were wrong; nothing was sent. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;

export type RuntimeApiErrorCode = (typeof RuntimeApiErrorCode)[keyof typeof RuntimeApiErrorCode];

/** RuntimeApiError is a failed runtime API call: a code, and a message naming the address, backend or server. */
export class RuntimeApiError extends Error {
  constructor(
    readonly code: RuntimeApiErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RuntimeApiError';
  }
}

/** isRuntimeApiError tells a {@link RuntimeApiError} by its name and code (never instanceof across module copies). */
export function isRuntimeApiError(err: unknown): err is RuntimeApiError {
  return err instanceof Error && err.name === 'RuntimeApiError' && Object.values(RuntimeApiErrorCode).includes((err as RuntimeApiError).code);
}
