import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { weightChanges } from './weight-changes.js';

describe('the order of set weight commands', () => {
  it('brings the greens up before the blues go down (the documented 0 → 100 % example)', () => {
    expect(weightChanges({ b1: 256, b2: 256, g1: 0, g2: 0 }, { b1: 0, b2: 0, g1: 256, g2: 256 })).toEqual([
      { server: 'g1', from: 0, to: 256 },
      { server: 'g2', from: 0, to: 256 },
      { server: 'b1', from: 256, to: 0 },
      { server: 'b2', from: 256, to: 0 },
    ]);
  });

  it('skips servers whose weight stays', () => {
    expect(weightChanges({ b1: 252, g1: 28 }, { b1: 252, g1: 28 })).toEqual([]);
    expect(weightChanges({ b1: 252, g1: 28 }, { b1: 128, g1: 28 })).toEqual([{ server: 'b1', from: 252, to: 128 }]);
  });

  it('names a server it has no current weight for', () => {
    expect(() => weightChanges({ b1: 1 }, { b1: 1, g9: 5 })).toThrow("server 'g9' has a target weight but no current weight");
  });

  it('never passes through a state where every server is at 0, unless the target is all 0', () => {
    const weights = fc.dictionary(fc.constantFrom('b1', 'b2', 'b3', 'g1', 'g2', 'g3'), fc.integer({ min: 0, max: 256 }), { minKeys: 1 });
    fc.assert(
      fc.property(weights, fc.array(fc.integer({ min: 0, max: 256 }), { minLength: 6, maxLength: 6 }), (current, raw) => {
        const target = Object.fromEntries(Object.keys(current).map((s, i) => [s, raw[i]!]));
        const state = { ...current };
        const anyUp = (): boolean => Object.values(state).some((w) => w > 0);
        const startedUp = anyUp();
        for (const c of weightChanges(current, target)) {
          expect(state[c.server]).toBe(c.from);
          state[c.server] = c.to;
          if (startedUp && Object.values(target).some((w) => w > 0)) expect(anyUp()).toBe(true);
        }
        expect(state).toEqual(target);
      }),
    );
  });
});
