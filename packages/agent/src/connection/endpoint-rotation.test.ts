import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { beginRound, take } from './endpoint-rotation.js';
import type { Round } from './endpoint-rotation.js';

/** drain takes every endpoint a round gives before it is over. */
function drain(round: Round): string[] {
  const tried: string[] = [];
  for (let next = take(round); next !== undefined; next = take(next.round)) tried.push(next.key);
  return tried;
}

const keyLists = fc.uniqueArray(fc.stringMatching(/^[a-z0-9.:]{1,12}$/), { minLength: 1, maxLength: 8 });
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('endpoint rotation', () => {
  it('starts at a random endpoint and tries each one once before a delay is due', () => {
    fc.assert(
      fc.property(keyLists, unit, (keys, random) => {
        const tried = drain(beginRound(keys, random));
        expect(tried[0]).toBe(keys[Math.floor(random * keys.length)]);
        expect([...tried].sort()).toEqual([...keys].sort());
        // in order, wrapping around: each is the one after its predecessor
        tried.slice(1).forEach((k, i) => expect(keys.indexOf(k)).toBe((keys.indexOf(tried[i]!) + 1) % keys.length));
      }),
    );
  });

  it('spreads first endpoints over the whole list', () => {
    const firsts = new Set([0, 0.26, 0.51, 0.76, 0.999999].map((r) => take(beginRound(['a', 'b', 'c', 'd'], r))!.key));
    expect(firsts).toEqual(new Set(['a', 'b', 'c', 'd']));
  });

  it('after a failed round, starts the next one after the endpoint tried last, so none is starved', () => {
    fc.assert(
      fc.property(keyLists, unit, fc.integer({ min: 1, max: 5 }), (keys, random, rounds) => {
        const tried: string[] = [];
        let round = beginRound(keys, random);
        for (let r = 0; r < rounds; r++) {
          tried.push(...drain(round));
          round = beginRound(keys, random, tried.at(-1));
        }
        // one continuous round robin across rounds
        tried.slice(1).forEach((k, i) => expect(keys.indexOf(k)).toBe((keys.indexOf(tried[i]!) + 1) % keys.length));
        for (const k of keys) expect(tried.filter((t) => t === k)).toHaveLength(rounds);
      }),
    );
  });

  it('counts a welcomed stream that ended as its round\'s first failure: the others are tried at once, that one after the delay', () => {
    fc.assert(
      fc.property(keyLists, unit, fc.nat(), (keys, random, pick) => {
        const ended = keys[pick % keys.length]!;
        const tried = drain(beginRound(keys, random, ended, true));
        expect(tried).toHaveLength(keys.length - 1);
        expect(tried).not.toContain(ended);
        expect(new Set(tried)).toEqual(new Set(keys.filter((k) => k !== ended)));
      }),
    );
    // one endpoint: the round is over at once, so the delay comes before dialling it again
    expect(take(beginRound(['only:7181'], 0.3, 'only:7181', true))).toBeUndefined();
  });

  it('when the endpoint tried last is gone from a new lookup, still covers every endpoint listed now', () => {
    fc.assert(
      fc.property(keyLists, unit, fc.boolean(), (keys, random, afterFailed) => {
        const tried = drain(beginRound(keys, random, 'gone-from-dns', afterFailed));
        expect([...tried].sort()).toEqual([...keys].sort());
      }),
    );
  });

  it('refuses a round without endpoints', () => {
    expect(() => beginRound([], 0)).toThrow('a round needs at least one endpoint');
  });
});
