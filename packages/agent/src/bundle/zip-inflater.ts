/**
 * A worker thread that reads and inflates a zip's small entries, in archive order, while the main
 * thread writes the ones it has already inflated: the tar path gets the same overlap from gunzip in
 * the thread pool. On a 2,000-file zip, inflating was a third of the install's CPU time, all of it on
 * the main thread between the writes.
 *
 * Design decision: the thread reads the bundle itself (through the main thread's descriptor), finds
 * each entry's data after its local header, inflates it with one synchronous call and checks its size
 * and CRC-32; the main thread gets the data of a run of entries in one message, in one of a few
 * buffers that go back and forth (so neither side allocates per entry, and the thread can be at most
 * that many buffers ahead). Inflating in the thread pool instead cost a zlib object, a round trip and
 * a promise per entry, which on 2,000 small entries was more CPU than it saved. The thread's code is
 * one self-contained function run with `eval`, so it needs no file of its own in the source tree,
 * the built tree or the esbuild bundle; it touches nothing but its parameters.
 *
 * A failure (a missing local header, data past the end of the file, larger or shorter than declared,
 * a wrong CRC-32, corrupt deflate data) comes back as a {@link InflateFailure} at the entry it
 * concerns, after the data of every entry before it, so the main thread reports what the in-thread
 * path would have, after writing what it would have written.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type * as Fs from 'node:fs';
import type * as WorkerThreads from 'node:worker_threads';
import type * as Zlib from 'node:zlib';

/** InflateJob is what the thread needs of a judged entry to find, inflate and check its data. */
export interface InflateJob {
  headerOffset: number;
  compressedSize: number;
  size: number;
  crc: number;
  /** 0 stored, 8 deflated. */
  method: number;
}

/**
 * InflateFailure says why an entry's data was refused, for the main thread to word as it words the
 * same failure found in-thread: `past-end` carries the byte the read would have ended at (`what` is
 * the entry's local header or its data), `short` the length found, `zlib` zlib's message, `other`
 * any other error's message (a read error, say).
 */
export type InflateFailure =
  | { code: 'no-header' }
  | { code: 'past-end'; what: 'header' | 'data'; end: number }
  | { code: 'cut'; what: 'header' | 'data' }
  | { code: 'too-large' }
  | { code: 'short'; length: number }
  | { code: 'crc' }
  | { code: 'zlib'; message: string }
  | { code: 'other'; message: string };

/** ZipInflaterOptions sizes the thread's read window and the buffers that carry inflated data. */
export interface ZipInflaterOptions {
  fd: number;
  fileBytes: number;
  /** The read window: must hold a local header (up to 30 + 2 × 64 KiB) and one entry's compressed data. */
  windowBytes: number;
  /** Each carrying buffer: must hold one entry's inflated data (its declared size). */
  batchBytes: number;
  /** How many carrying buffers circulate: how far, at most, the thread runs ahead. */
  batches: number;
  /** Whether this thread claims chunks too (false: the inflating thread does them all, as tests want). */
  shareWork: boolean;
}

/** Batch is one message from the thread: one chunk's entries' data one after another, and where it ended. */
interface Batch {
  chunk: number;
  buffer: ArrayBuffer;
  lengths: number[];
  failure?: InflateFailure;
}

/**
 * InflateSink is what {@link ZipInflater.drain} does with each job: `own` inflates and writes a job
 * of a chunk this thread claimed, `write` writes a job's data that the thread inflated (valid only
 * during the call), `refused` words a failure the thread found. A job's failure is thrown by `own` or
 * `write`, or returned by `refused`.
 */
export interface InflateSink {
  own(job: number): void | Promise<void>;
  write(job: number, data: Buffer): void;
  refused(job: number, failure: InflateFailure): unknown;
}

/** JobFailure is the first job, in archive order, that failed, and its error. */
export interface JobFailure {
  job: number;
  err: unknown;
}

/** Shared counters: the next chunk nobody has claimed, and how many batches the thread has sent. */
const NEXT_CHUNK = 0;
const SENT = 1;

/** waitAsync is Atomics.waitAsync (Node 16+; not in the ES2022 library this project compiles against). */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): { async: boolean; value: Promise<unknown> | unknown } }).waitAsync;

/**
 * ZipInflater runs the inflating thread for one bundle. The jobs are cut into chunks of at most
 * `batchBytes` of data, which this thread and the inflating one claim from a shared counter: the
 * inflating thread claims the next chunk whenever it has a free buffer, this one whenever it has
 * written what the thread sent so far. So neither waits for the other: while the thread starts, or
 * when the machine has no core to spare for it, this thread does the work itself. Chunks are
 * therefore written out of archive order (the caller makes sure no two jobs write the same path);
 * failures are still reported as the serial path would, at the first failing job in archive order.
 * Give it the jobs once ({@link submit}), write them with {@link drain}; {@link close} stops the
 * thread, and must be awaited before the descriptor is closed.
 */
export class ZipInflater {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private chunkStarts: number[] = [];
  private broken: unknown;

  constructor(private readonly opts: ZipInflaterOptions) {
    const source = `(${inflaterThread.toString()})(require('node:worker_threads'), require('node:fs'), require('node:zlib'))`;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    // The thread needs none of this process's Node options: a preload (--import, --require) would
    // run in it too, and held its start back by about 100 ms (bench:agent-install's RSS probe did).
    this.worker = new Worker(source, {
      eval: true,
      execArgv: [],
      workerData: { fd: opts.fd, fileBytes: opts.fileBytes, windowBytes: opts.windowBytes, port: port2, shared: this.shared },
      transferList: [port2],
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the zip inflating thread exited (code ${code})`)));
  }

  /**
   * submit hands the thread every job, in archive order, cut into chunks of at most `batchBytes` of
   * declared data (one byte more per job, to see data that runs past its size); a job must fit in a
   * chunk of its own.
   */
  submit(jobs: readonly InflateJob[]): void {
    const packed = new Float64Array(jobs.length * 5);
    let chunkBytes = Infinity;
    jobs.forEach((j, i) => {
      packed.set([j.headerOffset, j.compressedSize, j.size, j.crc, j.method], i * 5);
      if (chunkBytes + j.size + 1 > this.opts.batchBytes) {
        this.chunkStarts.push(i);
        chunkBytes = 0;
      }
      chunkBytes += j.size + 1;
    });
    this.chunkStarts.push(jobs.length);
    const starts = Int32Array.from(this.chunkStarts);
    const buffers = Array.from({ length: this.opts.batches }, () => new ArrayBuffer(this.opts.batchBytes));
    this.worker.postMessage({ jobs: packed, starts, buffers }, [packed.buffer, starts.buffer, ...buffers]);
  }

  /**
   * drain writes every job before `limit` through `sink`, its own chunks and the thread's as they
   * come, and returns the first failure in job order (or undefined). After a failure it claims no
   * more chunks, but still writes the thread's chunks before the failing job, which may fail earlier.
   * If the thread dies (it could not start, say), the chunks it did not send are inflated here.
   */
  async drain(sink: InflateSink, limit: number): Promise<JobFailure | undefined> {
    const chunks = this.chunkStarts.length - 1;
    const received = new Set<number>();
    const mine = new Set<number>();
    let failure: JobFailure | undefined;
    const failed = (job: number, err: unknown): void => {
      if (failure === undefined || job < failure.job) failure = { job, err };
    };
    const end = (): number => Math.min(limit, failure?.job ?? limit);
    /**
     * Whether a chunk that holds jobs before the end is still to come from the thread. Every such
     * chunk is claimed (by the thread, or by this one, which has written it) by the time this thread
     * stops claiming: after a failure, the chunks nobody claimed all come after it.
     */
    const outstanding = (): boolean => {
      for (let c = 0; c < chunks && this.chunkStarts[c]! < end(); c++) if (!mine.has(c) && !received.has(c)) return true;
      return false;
    };
    const takeSent = (): void => {
      for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
        const batch = m.message as Batch;
        received.add(batch.chunk);
        this.writeBatch(batch, sink, end(), failed);
        this.worker.postMessage({ buffers: [batch.buffer] }, [batch.buffer]);
      }
    };
    const inflateHere = async (chunk: number): Promise<void> => {
      mine.add(chunk);
      for (let job = this.chunkStarts[chunk]!; job < this.chunkStarts[chunk + 1]! && job < end(); job++) {
        try {
          const pending = sink.own(job);
          if (pending !== undefined) await pending;
        } catch (err) {
          failed(job, err);
        }
      }
    };
    for (;;) {
      const sent = Atomics.load(this.shared, SENT);
      takeSent();
      const chunk = failure === undefined && this.opts.shareWork ? Atomics.add(this.shared, NEXT_CHUNK, 1) : chunks;
      if (chunk < chunks) {
        await inflateHere(chunk);
        continue;
      }
      if (!outstanding()) return failure;
      if (this.broken !== undefined) {
        // The thread is gone (it could not start, or failed): the chunks it did not send are done here.
        takeSent();
        for (let c = 0; c < chunks && this.chunkStarts[c]! < end(); c++) if (!mine.has(c) && !received.has(c)) await inflateHere(c);
        return failure;
      }
      const wait = waitAsync(this.shared, SENT, sent);
      if (wait.async) await wait.value;
    }
  }

  /** close stops the thread (at once, whatever it was doing). */
  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    this.port.close();
    await this.worker.terminate();
  }

  private writeBatch(batch: Batch, sink: InflateSink, end: number, failed: (job: number, err: unknown) => void): void {
    let job = this.chunkStarts[batch.chunk]!;
    let offset = 0;
    for (const length of batch.lengths) {
      if (job >= end) return;
      try {
        sink.write(job, Buffer.from(batch.buffer, offset, length));
      } catch (err) {
        failed(job, err);
        return;
      }
      offset += length;
      job++;
    }
    if (batch.failure !== undefined && job < end) failed(job, sink.refused(job, batch.failure));
  }

  private fail(err: unknown): void {
    this.broken ??= err;
    // Wake a drain waiting for the thread's next batch, which will not come.
    Atomics.add(this.shared, SENT, 1);
    Atomics.notify(this.shared, SENT);
  }
}

/** ThreadData is the thread's workerData. */
interface ThreadData {
  fd: number;
  fileBytes: number;
  windowBytes: number;
  /** Where batches go: the other thread reads them with receiveMessageOnPort. */
  port: WorkerThreads.MessagePort;
  /** NEXT_CHUNK and SENT. */
  shared: Int32Array;
}

/**
 * inflaterThread is the thread's whole program (run from its source text, so it must use nothing
 * but its parameters and globals). It waits for the jobs and the carrying buffers, then, for as long
 * as it has a free buffer, claims the next chunk from the shared counter, fills the buffer with its
 * entries' data and sends it; a returned buffer lets it go on. A failure ends a chunk: it is sent
 * after the data of the chunk's entries before it.
 */
function inflaterThread(threads: typeof WorkerThreads, fs: typeof Fs, zlib: typeof Zlib): void {
  const { fd, fileBytes, windowBytes, port, shared } = threads.workerData as ThreadData;
  const window = Buffer.allocUnsafeSlow(windowBytes);
  let windowStart = 0;
  let windowEnd = 0;
  const free: ArrayBuffer[] = [];
  let jobs: Float64Array = new Float64Array(0);
  let starts: Int32Array = new Int32Array(1);

  type Failure = InflateFailure;
  const read = (pos: number, length: number, what: 'header' | 'data'): Buffer | Failure => {
    if (pos >= windowStart && pos + length <= windowEnd) return window.subarray(pos - windowStart, pos - windowStart + length);
    if (pos + length > fileBytes) return { code: 'past-end', what, end: pos + length };
    const want = Math.min(windowBytes, fileBytes - pos);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, window, got, want - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    windowStart = pos;
    windowEnd = pos + got;
    if (got < length) return { code: 'cut', what };
    return window.subarray(0, length);
  };

  const dataOf = (at: number): Buffer | Failure => {
    const [headerOffset, compressedSize, size, crc, method] = [jobs[at]!, jobs[at + 1]!, jobs[at + 2]!, jobs[at + 3]!, jobs[at + 4]!];
    const header = read(headerOffset, 30, 'header');
    if (!Buffer.isBuffer(header)) return header;
    if (header.readUInt32LE(0) !== 0x04034b50) return { code: 'no-header' };
    const raw = read(headerOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28), compressedSize, 'data');
    if (!Buffer.isBuffer(raw)) return raw;
    let data = raw;
    if (method === 8) {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: size + 1, chunkSize: Math.max(64, size + 1) });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'ERR_BUFFER_TOO_LARGE') return { code: 'too-large' };
        if (typeof code === 'string' && code.startsWith('Z_')) return { code: 'zlib', message: (err as Error).message };
        throw err;
      }
    }
    if (data.length > size) return { code: 'too-large' };
    if (data.length < size) return { code: 'short', length: data.length };
    if (zlib.crc32(data) !== crc) return { code: 'crc' };
    return data;
  };

  const run = (): void => {
    const chunks = starts.length - 1;
    while (free.length > 0 && Atomics.load(shared, 0) < chunks) {
      const chunk = Atomics.add(shared, 0, 1);
      if (chunk >= chunks) return;
      const out = new Uint8Array(free.pop()!);
      const lengths: number[] = [];
      let used = 0;
      let failure: Failure | undefined;
      for (let k = starts[chunk]!; k < starts[chunk + 1]!; k++) {
        let data: Buffer | Failure;
        try {
          data = dataOf(k * 5);
        } catch (err) {
          data = { code: 'other', message: err instanceof Error ? err.message : String(err) };
        }
        if (!Buffer.isBuffer(data)) {
          failure = data;
          break;
        }
        out.set(data, used);
        used += data.length;
        lengths.push(data.length);
      }
      port.postMessage(failure === undefined ? { chunk, buffer: out.buffer, lengths } : { chunk, buffer: out.buffer, lengths, failure }, [out.buffer]);
      Atomics.add(shared, 1, 1);
      Atomics.notify(shared, 1);
    }
  };

  threads.parentPort!.on('message', (message: { jobs?: Float64Array; starts?: Int32Array; buffers: ArrayBuffer[] }) => {
    if (message.jobs !== undefined && message.starts !== undefined) {
      jobs = message.jobs;
      starts = message.starts;
    }
    free.push(...message.buffers);
    run();
  });
}
