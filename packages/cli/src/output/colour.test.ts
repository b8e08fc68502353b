import { describe, expect, it } from 'vitest';
import { paintFor } from './colour.js';

describe('paintFor', () => {
  it('colours on a terminal, not on a pipe, and not with NO_COLOR or TERM=dumb', () => {
    expect(paintFor({ isTTY: true }, {}).red('Failed')).toBe('\u001b[31mFailed\u001b[39m');
    expect(paintFor({ isTTY: false }, {}).red('Failed')).toBe('Failed');
    expect(paintFor({ isTTY: true }, { NO_COLOR: '1' }).red('Failed')).toBe('Failed');
    expect(paintFor({ isTTY: true }, { NO_COLOR: '' }).red('Failed')).toBe('\u001b[31mFailed\u001b[39m'); // empty means unset, as no-color.org says
    expect(paintFor({ isTTY: true }, { TERM: 'dumb' }).red('Failed')).toBe('Failed');
  });
});
