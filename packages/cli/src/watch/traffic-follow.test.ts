import { describe, expect, it } from 'vitest';
import type { TrafficTarget } from '../progress/traffic-target.js';
import type { TrafficWatch } from './traffic-follow.js';
import { seeTarget, seeWeight } from './traffic-follow.js';

const target = (weightPercent: number, allow = 'InProgress'): TrafficTarget => ({
  targetId: 'fn:live',
  status: 'InProgress',
  original: 'version 1',
  replacement: 'version 2',
  change: 'version 1 → 2',
  eventsNoun: 'hooks',
  weightPercent,
  events: [
    { name: 'BeforeAllowTraffic', status: 'Succeeded' },
    { name: 'AllowTraffic', status: allow },
    { name: 'AfterAllowTraffic', status: 'Pending' },
  ],
});
const weightOf = (lines: string[]): string[] => lines.filter((l) => l.includes(' traffic ')).map((l) => l.replace(/^.*[█░] {2}/, ''));

describe('following a traffic target with traffic messages', () => {
  it('prints every weight a message tells, once, and no weight a look reads ahead of them', () => {
    const w: TrafficWatch = { known: new Map(), told: false };
    expect(weightOf(seeTarget(w, target(0)))).toEqual(['100 % on version 1']); // the first look says where it stands
    const printed: string[] = [];
    printed.push(...seeWeight(w, 10));
    printed.push(...seeTarget(w, target(30))); // a look that ran ahead of the messages for 20 and 30 %
    for (const step of [20, 30, 30, 40]) printed.push(...seeWeight(w, step));
    printed.push(...seeWeight(w, 100), ...seeTarget(w, target(100, 'Succeeded')));
    expect(weightOf(printed)).toEqual(['90 % on version 1, 10 % on version 2', '80 % on version 1, 20 % on version 2', '70 % on version 1, 30 % on version 2', '60 % on version 1, 40 % on version 2', '100 % on version 2']);
    expect(printed.at(-1)).toBe('fn:live  AllowTraffic        Succeeded'); // after the last weight, as AllowTraffic ends
  });

  it('a rollback message puts the traffic back on the original', () => {
    const w: TrafficWatch = { known: new Map(), told: false };
    seeTarget(w, target(0));
    seeWeight(w, 20);
    expect(weightOf(seeWeight(w, 0))).toEqual(['100 % on version 1']);
    expect(w.known.get('fn:live')?.weightPercent).toBe(0);
  });

  it('from a coordinator that sends no traffic message, the looks\' weights are printed as they change', () => {
    const w: TrafficWatch = { known: new Map(), told: false };
    seeTarget(w, target(0));
    expect(weightOf(seeTarget(w, target(30)))).toEqual(['70 % on version 1, 30 % on version 2']);
  });
});
