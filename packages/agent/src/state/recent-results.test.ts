import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResultStore } from './results.js';
import type { StoredResult } from './results.js';
import { RecentResults } from './recent-results.js';
import { tempDir } from '../testing/fixtures.js';

let work: string;
beforeEach(() => {
  work = tempDir('fd-recent-');
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

const result = (commandId: string, endedAtMs: number): StoredResult => ({
  commandId,
  status: 'Failed',
  noop: false,
  diagnostics: { errorCode: 'ScriptFailed', scriptName: 's.sh', message: 'exit 1', logTail: 'tail' },
  startedAtMs: endedAtMs - 1,
  endedAtMs,
});

describe('RecentResults', () => {
  it('answers with the same result after the ack, and forgets the oldest past its capacity (on disk too)', () => {
    const dir = path.join(work, 'acked');
    const recent = new RecentResults(new ResultStore(dir), 2);
    recent.remember(result('c-1', 1));
    recent.remember(result('c-2', 2));
    recent.remember(result('c-3', 3));
    expect(recent.get('c-1')).toBeUndefined();
    expect(recent.get('c-3')).toEqual(result('c-3', 3));
    expect(recent.size).toBe(2);
    expect(fs.readdirSync(dir).sort()).toEqual(['c-2.json', 'c-3.json']);
  });

  it('survives a restart, trimming a folder that outgrew a smaller capacity', () => {
    const dir = path.join(work, 'acked');
    const first = new RecentResults(new ResultStore(dir), 5);
    for (let i = 1; i <= 4; i++) first.remember(result(`c-${i}`, i));
    const reopened = new RecentResults(new ResultStore(dir), 2);
    expect(reopened.get('c-4')?.commandId).toBe('c-4');
    expect(reopened.get('c-2')).toBeUndefined();
    expect(fs.readdirSync(dir)).toHaveLength(2);
  });

  it('remembers a result only once when it is acknowledged twice', () => {
    const recent = new RecentResults(new ResultStore(path.join(work, 'acked')), 3);
    recent.remember(result('c-1', 1));
    recent.remember(result('c-1', 1));
    expect(recent.size).toBe(1);
  });
});
