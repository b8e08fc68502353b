import { describe, expect, it } from 'vitest';
import { revisionsToPrune } from './retention.js';

const dirs = (...names: string[]) => names.map((name, i) => ({ path: `/r/g/${name}`, mtimeMs: i }));

describe('revisionsToPrune', () => {
  it('protects the last successful install and deletes the oldest others (DL-06)', () => {
    expect(revisionsToPrune(dirs('d1', 'd2', 'd3', 'd4'), '/r/g/d4', '/r/g/d1', 2)).toEqual(['/r/g/d2', '/r/g/d3']);
  });
  it('keeps four old folders under max 5 and deletes the single oldest of five (DL-07)', () => {
    expect(revisionsToPrune(dirs('a', 'b', 'c', 'd', 'new'), '/r/g/new', undefined, 5)).toEqual([]);
    expect(revisionsToPrune(dirs('a', 'b', 'c', 'd', 'e', 'new'), '/r/g/new', '/r/g/a', 5)).toEqual(['/r/g/b']);
  });
  it('can leave two folders with max_revisions 1 when the protected one is old', () => {
    expect(revisionsToPrune(dirs('old', 'mid', 'new'), '/r/g/new', '/r/g/old', 1)).toEqual(['/r/g/mid']);
  });
});
