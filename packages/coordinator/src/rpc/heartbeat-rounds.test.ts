import { describe, expect, it } from 'vitest';
import { createHeartbeatRounds } from './heartbeat-rounds.js';

describe('heartbeat rounds', () => {
  it('visits every session once per round, a slice per tick', () => {
    const rounds = createHeartbeatRounds<number>(4);
    const sessions = Array.from({ length: 10 }, (_, i) => i);
    const ticks = [0, 1, 2, 3].map(() => rounds.tick(() => sessions));
    expect(ticks).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    // The next round starts again from the first session.
    expect(rounds.tick(() => sessions)).toEqual([0, 1, 2]);
  });

  it('gives a lone session one visit per round, not one per tick', () => {
    const rounds = createHeartbeatRounds<string>(5);
    const visits = Array.from({ length: 15 }, () => rounds.tick(() => ['only']).length);
    expect(visits).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('takes its snapshot when a round begins: arrivals wait for the next round, departures are left to the caller', () => {
    const rounds = createHeartbeatRounds<string>(2);
    const sessions = ['a', 'b', 'c', 'd'];
    expect(rounds.tick(() => sessions)).toEqual(['a', 'b']);
    sessions.push('e');
    expect(rounds.tick(() => sessions)).toEqual(['c', 'd']);
    expect(rounds.tick(() => sessions)).toEqual(['a', 'b', 'c']);
    expect(rounds.tick(() => sessions)).toEqual(['d', 'e']);
  });

  it('keeps each session within one tick of an interval when others leave', () => {
    const ticksPerRound = 10;
    const rounds = createHeartbeatRounds<number>(ticksPerRound);
    let sessions = Array.from({ length: 1000 }, (_, i) => i);
    const lastVisit = new Map<number, number>();
    let worst = 0;
    for (let t = 0; t < ticksPerRound * 6; t++) {
      if (t % ticksPerRound === 0 && t > 0) sessions = sessions.filter((s) => s % 7 !== t % 7); // some leave between rounds
      for (const s of rounds.tick(() => sessions)) {
        const before = lastVisit.get(s);
        if (before !== undefined) worst = Math.max(worst, t - before);
        lastVisit.set(s, t);
      }
    }
    expect(worst).toBeLessThanOrEqual(ticksPerRound + 1);
    expect(worst).toBeGreaterThanOrEqual(ticksPerRound);
  });

  it('refuses a round of no ticks', () => {
    expect(() => createHeartbeatRounds(0)).toThrow(/ticksPerRound must be a positive integer, got 0/);
  });
});
