import { describe, expect, it } from 'vitest';
import { createOrderedWrites } from './ordered-writes.js';

/** later resolves after `ms` real milliseconds, so a write that starts first may end last. */
const later = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('createOrderedWrites', () => {
  it('runs each write only after the ones queued before it have finished', async () => {
    const done: string[] = [];
    const writes = createOrderedWrites(() => undefined);
    writes.write('connected', async () => {
      await later(20);
      done.push('connected');
    });
    writes.write('disconnected', async () => {
      done.push('disconnected');
    });
    await writes.settled();
    expect(done).toEqual(['connected', 'disconnected']);
  });

  it('hands a failed write to `failed`, named, and still runs the writes after it', async () => {
    const failures: Array<[string, string]> = [];
    const done: string[] = [];
    const writes = createOrderedWrites((err, what) => failures.push([what, (err as Error).message]));
    writes.write('agent connected', () => Promise.reject(new Error('database unreachable')));
    writes.write('agent disconnected', async () => void done.push('disconnected'));
    await writes.settled();
    expect(failures).toEqual([['agent connected', 'database unreachable']]);
    expect(done).toEqual(['disconnected']);
  });

  it('settles at once with nothing queued, and after the last write when some are', async () => {
    const writes = createOrderedWrites(() => undefined);
    await expect(writes.settled()).resolves.toBeUndefined();
    let finished = false;
    writes.write('slow', async () => {
      await later(10);
      finished = true;
    });
    await writes.settled();
    expect(finished).toBe(true);
  });
});
