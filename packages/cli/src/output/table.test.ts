import { describe, expect, it } from 'vitest';
import { formatTable } from './table.js';

describe('formatTable', () => {
  it('pads every column but the last to its widest cell', () => {
    expect(formatTable(['NAME', 'PLATFORM', 'CREATED'], [['shop', 'Server', '2026-01-02T03:04:05Z'], ['payments-api', 'ECS', '-']])).toEqual([
      'NAME          PLATFORM  CREATED',
      'shop          Server    2026-01-02T03:04:05Z',
      'payments-api  ECS       -',
    ]);
  });

  it('trims the blanks a short last cell would leave', () => {
    expect(formatTable(['A', 'B'], [['x', '']])).toEqual(['A  B', 'x']);
  });
});
