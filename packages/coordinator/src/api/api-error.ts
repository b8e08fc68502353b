/**
 * ApiError is a refusal in CodeDeploy's error vocabulary: `type` is the exception name the AWS SDKs
 * and CLI match on (sent as `__type`), and the message says what was wrong and where.
 */
export class ApiError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'ApiError';
    this.type = type;
    this.status = status;
  }
}

/** isApiError tells an {@link ApiError} from anything else thrown, by shape. */
export function isApiError(err: unknown): err is ApiError {
  return err instanceof Error && err.name === 'ApiError' && typeof (err as ApiError).type === 'string';
}
