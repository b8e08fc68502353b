/**
 * The daemon's BundleFetcher: DownloadBundle from the coordinator into `<deployment root>/bundle.tar`,
 * hashing as the bytes arrive, then refusing the file unless its size and SHA-256 are the ones the
 * command named (so nothing unverified is ever unpacked). A broken stream resumes from the byte it
 * reached, a few times, after a short jittered wait.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { DeployError, isDeployError, nextDelay } from '@fleetdeploy/shared';
import type { BackoffOptions } from '@fleetdeploy/shared';
import type * as Grpc from '@grpc/grpc-js';
import type { BundleChunk__Output } from '@fleetdeploy/protocol';
import type { BundleDigest } from '../commands/agent-command.js';
import type { BundleFetcher } from '../commands/download.js';
import type { Clock } from '../clock.js';
import { sleep } from '../clock.js';
import type { Logger } from '../log.js';

/** resumeBackoff spaces the retries of a broken download: up to 0.2 s, then 0.4 s, 0.8 s. */
export const resumeBackoff: BackoffOptions = Object.freeze({ baseMs: 200, maxMs: 2_000 });

/** BundleFetcherOptions is one command's download. */
export interface BundleFetcherOptions {
  commandId: string;
  expected: BundleDigest;
  open: (commandId: string, offset: number) => Grpc.ClientReadableStream<BundleChunk__Output>;
  /** gRPC status codes after which another try cannot help (the coordinator refused). */
  finalCodes: ReadonlySet<number>;
  clock: Clock;
  random: () => number;
  log: Logger;
  /** received hears of each chunk's size as it is written (for metrics). */
  received?: (bytes: number) => void;
  /** Resumptions after the first attempt (default 3). */
  retries?: number;
  backoff?: BackoffOptions;
}

/** createBundleFetcher returns the BundleFetcher of one command. */
export function createBundleFetcher(opts: BundleFetcherOptions): BundleFetcher {
  const retries = opts.retries ?? 3;
  return async (_revision, destination, signal) => {
    const { sha256, size } = opts.expected;
    if (!/^[0-9a-f]{64}$/.test(sha256) || size < 0) {
      throw new DeployError('UnknownError', `the command names no usable bundle digest (sha256 ${JSON.stringify(sha256)}, size ${size}); refusing to download an unverifiable bundle`);
    }
    const hash = createHash('sha256');
    const out = fs.openSync(destination, 'w');
    const progress = { offset: 0 };
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await receive(opts.open(opts.commandId, progress.offset), out, hash, progress, size, signal, opts.received);
          if (progress.offset >= size) break;
          throw new Error(`the stream ended after ${progress.offset} of ${size} bytes`);
        } catch (err) {
          if (signal?.aborted) throw new DeployError('UnknownError', 'bundle download cancelled', { cause: err });
          if (isDeployError(err)) throw err;
          const code = (err as { code?: unknown }).code;
          const message = (err as Error).message;
          if ((typeof code === 'number' && opts.finalCodes.has(code)) || attempt >= retries) {
            throw new DeployError('UnknownError', `bundle download failed after ${progress.offset} of ${size} bytes: ${message}`, { cause: err });
          }
          const waitMs = nextDelay(attempt, opts.random(), opts.backoff ?? resumeBackoff);
          opts.log.warn({ offset: progress.offset, size, attempt: attempt + 1, reason: message, retryInMs: waitMs }, 'bundle download interrupted, resuming');
          await sleep(opts.clock, waitMs, signal);
        }
      }
    } catch (err) {
      fs.rmSync(destination, { force: true });
      throw err;
    } finally {
      fs.closeSync(out);
    }
    const actual = hash.digest('hex');
    const offset = progress.offset;
    if (offset !== size || actual !== sha256) {
      fs.rmSync(destination, { force: true });
      throw new DeployError('UnknownError', `the downloaded bundle does not match the command's revision: expected sha256 ${sha256} (${size} bytes), got sha256 ${actual} (${offset} bytes)`);
    }
  };
}

/**
 * Appends one stream's chunks at `progress.offset`, advancing it chunk by chunk (so a break leaves it
 * where the next attempt resumes); more bytes than expected end the download at once (the digest
 * cannot match, and the disk should not fill).
 */
async function receive(
  stream: Grpc.ClientReadableStream<BundleChunk__Output>,
  out: number,
  hash: ReturnType<typeof createHash>,
  progress: { offset: number },
  size: number,
  signal: AbortSignal | undefined,
  received?: (bytes: number) => void,
): Promise<void> {
  const onAbort = (): void => stream.cancel();
  stream.on('error', () => undefined); // the iteration below sees the same error
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<BundleChunk__Output>) {
      const data = chunk.data;
      if (progress.offset + data.length > size) {
        stream.cancel();
        throw new DeployError('UnknownError', `the downloaded bundle does not match the command's revision: expected ${size} bytes, the coordinator sent more than that`);
      }
      fs.writeSync(out, data, 0, data.length, progress.offset);
      hash.update(data);
      progress.offset += data.length;
      received?.(data.length);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.cancel(); // a no-op once the call has ended; stops one we leave early
  }
}
