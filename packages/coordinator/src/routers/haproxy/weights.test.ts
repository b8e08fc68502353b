import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_WEIGHT, weightsForGreenShare } from './weights.js';

const sum = (ws: readonly number[]): number => ws.reduce((a, b) => a + b, 0);
const ones = (n: number): number[] => Array.from({ length: n }, () => 1);

/** atMost is a colour at its largest scale (largest server 256), every server with weight above 0 at least 1. */
const atMost = (ws: readonly number[]): number[] => {
  const largest = Math.max(...ws);
  return ws.map((w) => (w === 0 ? 0 : Math.max(1, Math.round((MAX_WEIGHT * w) / largest))));
};
/** The representable green shares for 0 < p < 100: greens at 1 each against blues at their largest, and the reverse. */
const shareRange = (blue: readonly number[], green: readonly number[]): [number, number] => {
  const nGreen = green.filter((w) => w > 0).length;
  const nBlue = blue.filter((w) => w > 0).length;
  return [(100 * nGreen) / (nGreen + sum(atMost(blue))), (100 * sum(atMost(green))) / (sum(atMost(green)) + nBlue)];
};

describe('weights for a green share: the documented examples', () => {
  it('2 blue + 2 green at 10 % → blues 252, greens 28 (56 of 560)', () => {
    expect(weightsForGreenShare({ blue: [1, 1], green: [1, 1] }, 10)).toEqual({ blue: [252, 252], green: [28, 28], greenPercent: 10 });
  });

  it('keeps a 3:1 blue pair at 3:1 while giving one green server half', () => {
    expect(weightsForGreenShare({ blue: [3, 1], green: [1] }, 50)).toEqual({ blue: [192, 64], green: [256], greenPercent: 50 });
  });

  it('p = 0: greens 0, blues scaled to their initial proportions', () => {
    expect(weightsForGreenShare({ blue: [1, 1], green: [1, 1] }, 0)).toEqual({ blue: [256, 256], green: [0, 0], greenPercent: 0 });
    expect(weightsForGreenShare({ blue: [3, 2], green: [5] }, 0)).toEqual({ blue: [255, 170], green: [0], greenPercent: 0 });
  });

  it('p = 100: blues 0', () => {
    expect(weightsForGreenShare({ blue: [1, 1], green: [1, 1] }, 100)).toEqual({ blue: [0, 0], green: [256, 256], greenPercent: 100 });
  });

  it('keeps exact proportions within each colour when the share allows them', () => {
    const r = weightsForGreenShare({ blue: [2, 1], green: [4, 2, 2] }, 25);
    expect(r.greenPercent).toBe(25);
    expect(r.blue[0]! / r.blue[1]!).toBe(2);
    expect(r.green[0]! / r.green[1]!).toBe(2);
    expect(r.green[1]).toBe(r.green[2]);
  });

  it('1 % with 50 green servers and 1 blue is not representable: the nearest share, 50/306, with every green at 1', () => {
    const r = weightsForGreenShare({ blue: [1], green: ones(50) }, 1);
    expect(r.green).toEqual(ones(50));
    expect(r.blue).toEqual([256]);
    expect(r.greenPercent).toBeCloseTo((100 * 50) / 306, 10);
  });

  it('99 % with 50 blue servers and 1 green is not representable either: every blue at 1, green 256', () => {
    const r = weightsForGreenShare({ blue: ones(50), green: [1] }, 99);
    expect(r.blue).toEqual(ones(50));
    expect(r.green).toEqual([256]);
    expect(r.greenPercent).toBeCloseTo((100 * 256) / 306, 10);
  });

  it('leaves a server configured with weight 0 at 0', () => {
    const r = weightsForGreenShare({ blue: [1, 0], green: [0, 1] }, 50);
    expect(r).toEqual({ blue: [256, 0], green: [0, 256], greenPercent: 50 });
  });

  it('needs no green servers for p = 0 and no blue ones for p = 100', () => {
    expect(weightsForGreenShare({ blue: [2], green: [] }, 0)).toEqual({ blue: [256], green: [], greenPercent: 0 });
    expect(weightsForGreenShare({ blue: [], green: [2] }, 100)).toEqual({ blue: [], green: [256], greenPercent: 100 });
  });
});

describe('weights for a green share: bad input', () => {
  it.each([-1, 100.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects the share %s', (p) => {
    expect(() => weightsForGreenShare({ blue: [1], green: [1] }, p)).toThrow(`green share must be a percentage from 0 to 100, got ${p}`);
  });

  it.each([257, -1, 1.5])('rejects the initial weight %s, naming the server', (w) => {
    expect(() => weightsForGreenShare({ blue: [1], green: [1, w] }, 10)).toThrow(`green server 2: initial weight must be an integer from 0 to 256, got ${w}`);
  });

  it('cannot give a share to a colour with no servers or only weight-0 servers', () => {
    expect(() => weightsForGreenShare({ blue: [1], green: [] }, 10)).toThrow('no green server can take traffic: there are no green servers');
    expect(() => weightsForGreenShare({ blue: [0, 0], green: [1] }, 10)).toThrow('no blue server can take traffic: every blue server has initial weight 0');
    expect(() => weightsForGreenShare({ blue: [], green: [1] }, 0)).toThrow('no blue server can take traffic');
  });
});

describe('weights for a green share: properties (1–50 servers per colour, initial weights 1–256)', () => {
  const colour = fc.array(fc.integer({ min: 1, max: MAX_WEIGHT }), { minLength: 1, maxLength: 50 });
  const share = fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constantFrom(0, 1, 5, 10, 50, 90, 99, 100));

  it('gives integer weights 0–256 whose green sum is the reported share', () => {
    fc.assert(
      fc.property(colour, colour, share, (blue, green, p) => {
        const r = weightsForGreenShare({ blue, green }, p);
        expect(r.blue).toHaveLength(blue.length);
        expect(r.green).toHaveLength(green.length);
        for (const w of [...r.blue, ...r.green]) expect(Number.isInteger(w) && w >= 0 && w <= MAX_WEIGHT).toBe(true);
        expect(r.greenPercent).toBeCloseTo((100 * sum(r.green)) / (sum(r.green) + sum(r.blue)), 9);
      }),
      { numRuns: 300 },
    );
  });

  it('realises p within 0.1 percentage points when p is representable, else the nearest representable share', () => {
    fc.assert(
      fc.property(colour, colour, fc.double({ min: 0, max: 100, noNaN: true }), (blue, green, p) => {
        const r = weightsForGreenShare({ blue, green }, p);
        const [low, high] = shareRange(blue, green);
        const target = p === 0 || p === 100 ? p : Math.min(high, Math.max(low, p));
        expect(Math.abs(r.greenPercent - target)).toBeLessThanOrEqual(0.1);
      }),
      { numRuns: 300 },
    );
  });

  it('hits p within 0.1 points anywhere inside the representable range, near its ends too', () => {
    fc.assert(
      fc.property(colour, colour, fc.double({ min: 0, max: 1, noNaN: true }), (blue, green, t) => {
        const [low, high] = shareRange(blue, green);
        const p = low + t * (high - low);
        expect(Math.abs(weightsForGreenShare({ blue, green }, p).greenPercent - p)).toBeLessThanOrEqual(0.1);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every server at weight 1 or more while both colours share the traffic, and none of the other colour at the ends', () => {
    fc.assert(
      fc.property(colour, colour, share, (blue, green, p) => {
        const r = weightsForGreenShare({ blue, green }, p);
        if (p > 0) expect(Math.min(...r.green)).toBeGreaterThanOrEqual(1);
        else expect(r.green.every((w) => w === 0)).toBe(true);
        if (p < 100) expect(Math.min(...r.blue)).toBeGreaterThanOrEqual(1);
        else expect(r.blue.every((w) => w === 0)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never gives a server less than one of its colour with a smaller initial weight', () => {
    fc.assert(
      fc.property(colour, colour, share, (blue, green, p) => {
        const r = weightsForGreenShare({ blue, green }, p);
        const inOrder = (initial: number[], weights: number[]): boolean =>
          initial.every((w, i) => initial.every((v, j) => !(w > v) || weights[i]! >= weights[j]!));
        expect(inOrder(blue, r.blue)).toBe(true);
        expect(inOrder(green, r.green)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps each server within 1 % of its colour of its initial share when one colour takes everything', () => {
    fc.assert(
      fc.property(colour, fc.constantFrom(0, 100), (weights, p) => {
        const r = p === 0 ? weightsForGreenShare({ blue: weights, green: [1] }, 0).blue : weightsForGreenShare({ blue: [1], green: weights }, 100).green;
        weights.forEach((w, i) => expect(Math.abs(r[i]! / sum(r) - w / sum(weights))).toBeLessThanOrEqual(0.01));
      }),
      { numRuns: 300 },
    );
  });
});
