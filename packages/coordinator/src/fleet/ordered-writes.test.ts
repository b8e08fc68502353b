import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createDiskFullWatch } from '../store/disk-full.js';
import { createOrderedWrites, skippedOnFailure } from './ordered-writes.js';

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

describe('skippedOnFailure', () => {
  it('leaves a full disk to the disk watch (one report) and logs any other failure at error, naming the write', async () => {
    const lines: Array<{ level: number; msg: string; what?: string; code?: string; err?: { message: string } }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
    const writes = createOrderedWrites(skippedOnFailure(createDiskFullWatch({ log, now: () => 0 }), log));
    const full = () => Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    writes.write('agent connected', full);
    writes.write('agent heartbeats', full);
    writes.write('agent disconnected', () => Promise.reject(new Error('connection to the database lost')));
    await writes.settled();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'disk full: nothing can be stored until space is freed in the data directory'],
      [50, 'agent disconnected: the agent session record was not written'],
    ]);
    expect(lines[0]).toMatchObject({ what: 'agent connected', code: 'SQLITE_FULL' });
    expect(lines[1]?.err?.message).toBe('connection to the database lost');
  });
});
