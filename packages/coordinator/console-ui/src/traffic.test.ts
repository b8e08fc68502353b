import { describe, expect, it } from 'vitest';
import { addPoint, stepPolyline } from './traffic.js';
import { visibleRange } from './visible-range.js';

describe('traffic points', () => {
  it('keeps points in time order, a repeat of a time replacing the earlier one', () => {
    let points = addPoint([], { at: 2000, weight: 20 });
    points = addPoint(points, { at: 1000, weight: 10 });
    points = addPoint(points, { at: 2000, weight: 25 });
    expect(points).toEqual([
      { at: 1000, weight: 10 },
      { at: 2000, weight: 25 },
    ]);
  });
  it('draws a staircase from 0 % at the bottom to 100 % at the top, held until now', () => {
    const line = stepPolyline([{ at: 0, weight: 0 }, { at: 1000, weight: 50 }, { at: 2000, weight: 100 }], 200, 100, 4000);
    expect(line).toBe('0,100 50,100 50,50 100,50 100,0 200,0');
    expect(stepPolyline([], 200, 100, 0)).toBe('');
  });
});

describe('visibleRange', () => {
  it('renders only the rows in view and a few either side', () => {
    expect(visibleRange(1000, 28, 280, 0)).toEqual([0, 15]);
    expect(visibleRange(1000, 28, 280, 28 * 500)).toEqual([495, 515]);
    expect(visibleRange(3, 28, 280, 0)).toEqual([0, 3]);
  });
});
