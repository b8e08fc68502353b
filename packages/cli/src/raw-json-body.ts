/**
 * Reading a field that the coordinator adds to a CodeDeploy response and the SDK drops: the SDK
 * deserialises only the fields of CodeDeploy's model (RegisterOnPremisesInstance's `enrolmentToken`
 * and `enrolmentPort` are not in it). A middleware placed just inside the SDK's deserialiser sees the
 * raw HTTP response first; it reads the body, keeps a parsed copy, and hands the same bytes on.
 */
import type { DeserializeHandler, DeserializeHandlerArguments, DeserializeHandlerOutput, MetadataBearer, MiddlewareStack } from '@smithy/types';

/** RawJsonBody is filled with the response's JSON object once the command has been sent. */
export interface RawJsonBody {
  value?: Record<string, unknown>;
}

/**
 * captureRawJsonBody adds the middleware to one command's stack and returns where the body will be.
 * A body that is not a JSON object leaves `value` unset (the SDK then reports the error itself).
 */
export function captureRawJsonBody<I extends object, O extends MetadataBearer>(command: { middlewareStack: MiddlewareStack<I, O> }): RawJsonBody {
  const captured: RawJsonBody = {};
  command.middlewareStack.addRelativeTo(
    (next: DeserializeHandler<I, O>) =>
      async (args: DeserializeHandlerArguments<I>): Promise<DeserializeHandlerOutput<O>> => {
        const result = await next(args);
        const response = result.response as { body?: unknown };
        const bytes = await readBody(response.body);
        if (bytes !== undefined) {
          response.body = bytes; // the deserialiser reads a Uint8Array as it reads a stream
          captured.value = parseObject(bytes);
        }
        return result;
      },
    { relation: 'after', toMiddleware: 'deserializerMiddleware', name: 'fleetdeployRawJsonBody' },
  );
  return captured;
}

async function readBody(body: unknown): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body;
  if (body === null || typeof body !== 'object' || !(Symbol.asyncIterator in body)) return undefined;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

function parseObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
