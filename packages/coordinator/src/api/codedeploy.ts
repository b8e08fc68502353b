/**
 * CodeDeploy's JSON 1.1 protocol: `POST /` with `X-Amz-Target: CodeDeploy_20141006.<Operation>`,
 * a JSON body in, a JSON body out; a refusal is HTTP 400 with `{"__type", "message"}`, which the
 * AWS CLI and SDKs turn into their named exceptions. fleetdeploy's own operations (ListInstances)
 * are served the same way under `X-Amz-Target: FleetDeploy_20261204.<Operation>`.
 *
 * Every call that may change something (not Get*, List*, BatchGet*) leaves one info-level audit line
 * once it is answered, naming the access key that signed it:
 *   {"msg":"api call","operation":"CreateDeployment","accessKeyId":"AKIA...","role":"deployer","outcome":"ok"}
 * (`outcome` is the error's `__type` when it was refused).
 *
 * A request that failed because the coordinator's disk is full is answered HTTP 507 with
 * `{"__type": "StorageFullException", "message": "the coordinator's disk is full, ..."}`, not 500:
 * the AWS CLI and the SDKs retry 500, 502, 503 and 504 (and throttling), which cannot help until an
 * operator frees space, and 507 (WebDAV's Insufficient Storage, also MinIO's answer) names the
 * cause. The CLI shows the message once; the coordinator's log has one line per episode.
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import { ApiError, isApiError } from './api-error.js';
import type { Input } from './input.js';
import type { Caller, CodeDeployGuard } from '../auth/request-guards.js';
import { isReadOperation } from '../auth/roles.js';
import { drainRequest, readLimitedBody } from './request-body.js';
import { createDiskFullWatch, DISK_FULL_MESSAGE } from '../store/disk-full.js';
import type { DiskFullWatch } from '../store/disk-full.js';
import { systemClock } from '../clock.js';

/** TARGET_PREFIX is CodeDeploy's X-Amz-Target prefix. */
export const TARGET_PREFIX = 'CodeDeploy_20141006.';

/** FLEETDEPLOY_TARGET_PREFIX is the X-Amz-Target prefix of fleetdeploy's own operations (ListInstances). */
export const FLEETDEPLOY_TARGET_PREFIX = 'FleetDeploy_20261204.';

/** MAX_BODY_BYTES bounds a request body; CodeDeploy's largest inputs (AppSpec content) are far smaller. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** STORAGE_FULL_TYPE is the `__type` of a request refused because the coordinator's disk is full (HTTP 507). */
export const STORAGE_FULL_TYPE = 'StorageFullException';

/** Operation is one API operation: it reads its input and returns the output shape (or throws an ApiError). */
export type Operation<Ctx> = (input: Input, ctx: Ctx) => unknown;

/**
 * createCodeDeployApi answers CodeDeploy requests from a table of operations. Each request's body is
 * read first, then `guard` verifies its SigV4 signature (over the body too) and the key's role,
 * before the operation is looked up and run. `fleetOperations` are served under
 * {@link FLEETDEPLOY_TARGET_PREFIX}. `disk` hears of each request a full disk failed, and of each
 * change stored.
 */
export function createCodeDeployApi<Ctx>(
  operations: Readonly<Record<string, Operation<Ctx>>>,
  ctx: Ctx,
  log: Logger,
  guard: CodeDeployGuard,
  fleetOperations: Readonly<Record<string, Operation<Ctx>>> = {},
  disk: DiskFullWatch = createDiskFullWatch({ log, now: () => systemClock.now() }),
  observe?: (operation: string, outcome: string) => void,
) {
  /** audit logs a call that may change something, with the key that made it (and counts every call). */
  const audit = (caller: Caller | undefined, name: string, outcome: string): void => {
    observe?.(name, outcome);
    if (caller === undefined || name === '' || isReadOperation(name)) return;
    log.info({ operation: name, accessKeyId: caller.keyId, role: caller.role, outcome }, 'api call');
  };
  return {
    /** handle answers one request whose X-Amz-Target names a CodeDeploy (or fleetdeploy) operation. */
    async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
      const target = String(req.headers['x-amz-target'] ?? '');
      const [table, name] = target.startsWith(TARGET_PREFIX)
        ? [operations, target.slice(TARGET_PREFIX.length)]
        : target.startsWith(FLEETDEPLOY_TARGET_PREFIX)
          ? [fleetOperations, target.slice(FLEETDEPLOY_TARGET_PREFIX.length)]
          : [operations, ''];
      let caller: Caller | undefined;
      try {
        if (req.method !== 'POST') throw new ApiError('UnknownOperationException', `CodeDeploy operations are POSTed; got ${req.method}`);
        const body = await readBody(req);
        caller = await guard.authenticate(req, body);
        const operation = Object.hasOwn(table, name) ? table[name] : undefined;
        if (operation === undefined) throw new ApiError('UnknownOperationException', `unknown operation ${JSON.stringify(target)}`);
        guard.authorize(caller, name);
        const input = parseBody(body.toString('utf8'));
        const output = await operation(input, ctx);
        send(res, 200, output ?? {});
        if (!isReadOperation(name)) disk.wrote(name);
        audit(caller, name, 'ok');
      } catch (err) {
        drainRequest(req, res); // a refusal before or while the body was read: do not read it all
        if (isApiError(err)) {
          log.debug({ operation: name, type: err.type, reason: err.message }, 'request refused');
          send(res, err.status, { __type: err.type, message: err.message });
          audit(caller, name, err.type);
        } else if (disk.failed(err, name)) {
          log.debug({ operation: name }, 'request not stored: the disk is full');
          send(res, 507, { __type: STORAGE_FULL_TYPE, message: DISK_FULL_MESSAGE });
          audit(caller, name, STORAGE_FULL_TYPE);
        } else {
          log.error({ err, operation: name }, 'request failed unexpectedly');
          send(res, 500, { __type: 'InternalFailure', message: 'the coordinator failed to handle this request; its log has the details' });
          audit(caller, name, 'InternalFailure');
        }
      }
    },
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return readLimitedBody(req, MAX_BODY_BYTES, () => new ApiError('SerializationException', `request body is larger than ${MAX_BODY_BYTES} bytes`));
}

function parseBody(text: string): Input {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError('SerializationException', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('SerializationException', 'request body must be a JSON object');
  return value as Input;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': crypto.randomUUID() });
  res.end(text);
}
