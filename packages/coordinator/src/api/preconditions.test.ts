import { describe, expect, it } from 'vitest';
import { evaluatePreconditions } from './preconditions.js';

const modified = Date.UTC(2026, 0, 2, 3, 4, 5, 600); // sub-second part is ignored
const before = 'Fri, 02 Jan 2026 03:04:04 GMT';
const same = 'Fri, 02 Jan 2026 03:04:05 GMT';

describe('evaluatePreconditions', () => {
  it.each([
    [{}, 'serve'],
    [{ 'if-match': '"abc"' }, 'serve'],
    [{ 'if-match': 'ABC' }, 'serve'],
    [{ 'if-match': '"x", "abc"' }, 'serve'],
    [{ 'if-match': '*' }, 'serve'],
    [{ 'if-match': '"x"' }, 'failed'],
    [{ 'if-unmodified-since': before }, 'failed'],
    [{ 'if-unmodified-since': same }, 'serve'],
    [{ 'if-match': '"abc"', 'if-unmodified-since': before }, 'serve'],
    [{ 'if-none-match': '"abc"' }, 'not-modified'],
    [{ 'if-none-match': 'W/"abc"' }, 'not-modified'],
    [{ 'if-none-match': '"x"' }, 'serve'],
    [{ 'if-modified-since': same }, 'not-modified'],
    [{ 'if-modified-since': before }, 'serve'],
    [{ 'if-none-match': '"x"', 'if-modified-since': same }, 'serve'],
    [{ 'if-modified-since': 'not a date' }, 'serve'],
    [{ 'if-match': '"x"', 'if-none-match': '"abc"' }, 'failed'],
  ])('%o → %s', (headers, outcome) => {
    expect(evaluatePreconditions(headers, '"abc"', modified)).toBe(outcome);
  });
});
