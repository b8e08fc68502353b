/**
 * Reading a bundle file through buffers that are reused, instead of a fresh buffer per read as
 * fs.createReadStream allocates. On the benchmark bundle the fresh read buffers were a third of the
 * agent's page faults (perf record: 13,306 faults for an install, against 504 for tar + cp), and on
 * a VM whose host has taken memory back each fault is expensive.
 */
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/**
 * readFileChunks yields the file's bytes in order, every chunk a view of the same buffer: the caller
 * must be done with a chunk before asking for the next one (as a synchronous loop body is).
 */
export async function* readFileChunks(path: string, bufferBytes: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(bufferBytes);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, bufferBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/**
 * feedFile writes the file into `sink` and ends it, through two buffers: one is read into while the
 * sink consumes the other, and a buffer is refilled only once its write's callback says the sink is
 * done with it (zlib calls it when the whole input chunk is inflated). It rejects when reading fails
 * or the sink is destroyed; the caller decides what the sink hears of it.
 */
export async function feedFile(path: string, sink: Writable, bufferBytes: number): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffers = [Buffer.allocUnsafeSlow(bufferBytes), Buffer.allocUnsafeSlow(bufferBytes)] as const;
    const consumed: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
    for (let i = 0; ; i ^= 1) {
      await consumed[i];
      const buffer = buffers[i] as Buffer;
      const { bytesRead } = await handle.read(buffer, 0, bufferBytes, null);
      if (bytesRead === 0) break;
      const written = new Promise<void>((resolve, reject) => {
        sink.write(buffer.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve()));
      });
      // Awaited in turn below; until then a failed write must not count as an unhandled rejection.
      written.catch(() => undefined);
      consumed[i] = written;
    }
    sink.end();
    await Promise.all(consumed);
  } finally {
    await handle.close();
  }
}
