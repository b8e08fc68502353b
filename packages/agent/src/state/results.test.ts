import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResultStore } from './results.js';
import type { StoredResult } from './results.js';
import { tempDir } from '../testing/fixtures.js';

let work: string;
beforeEach(() => {
  work = tempDir('fd-results-');
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

const result = (commandId: string, endedAtMs: number): StoredResult => ({
  commandId,
  status: 'Succeeded',
  noop: false,
  diagnostics: { errorCode: 'Success', scriptName: '', message: 'Succeeded', logTail: '' },
  startedAtMs: endedAtMs - 10,
  endedAtMs,
});

describe('ResultStore', () => {
  it('keeps results until acknowledged, oldest first, across instances (an agent restart)', () => {
    new ResultStore(work).save(result('c-2', 200));
    new ResultStore(work).save(result('c-1', 100));
    const reopened = new ResultStore(work);
    expect(reopened.pending().map((r) => r.commandId)).toEqual(['c-1', 'c-2']);
    reopened.acknowledge('c-1');
    expect(reopened.pending().map((r) => r.commandId)).toEqual(['c-2']);
    expect(reopened.get('c-2')?.endedAtMs).toBe(200);
    expect(reopened.get('c-1')).toBeUndefined();
  });

  it('stores any command id as one file inside its folder', () => {
    const store = new ResultStore(path.join(work, 'results'));
    store.save(result('../../etc/evil', 1));
    expect(fs.readdirSync(path.join(work, 'results'))).toEqual([`${encodeURIComponent('../../etc/evil')}.json`]);
    expect(store.get('../../etc/evil')?.commandId).toBe('../../etc/evil');
  });

  it('has nothing pending before anything was saved, and skips junk files', () => {
    const store = new ResultStore(path.join(work, 'results'));
    expect(store.pending()).toEqual([]);
    fs.mkdirSync(path.join(work, 'results'));
    fs.writeFileSync(path.join(work, 'results', 'junk.json'), '{not json');
    fs.writeFileSync(path.join(work, 'results', 'half.json.tmp'), '{}');
    expect(store.pending()).toEqual([]);
  });
});

describe('ResultStore without fsync (acknowledged results)', () => {
  it('still saves atomically and reads back', () => {
    const store = new ResultStore(work, false);
    const result = { commandId: 'c/1', status: 'Succeeded' as const, noop: true, diagnostics: { errorCode: 'Success' as const, scriptName: '', message: '', logTail: '' }, startedAtMs: 1, endedAtMs: 2 };
    store.save(result);
    expect(store.get('c/1')).toEqual(result);
    expect(fs.readdirSync(work).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
