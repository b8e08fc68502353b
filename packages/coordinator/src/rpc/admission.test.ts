import { describe, expect, it } from 'vitest';
import { Admission } from './admission.js';

describe('Admission', () => {
  it('admits a burst of perSecond streams, then refills at perSecond', () => {
    const a = new Admission(3, 0);
    expect([a.tryAdmit(0), a.tryAdmit(0), a.tryAdmit(0), a.tryAdmit(0)]).toEqual([true, true, true, false]);
    expect(a.tryAdmit(200)).toBe(false); // 0.6 of a token
    expect(a.tryAdmit(400)).toBe(true); // 1.2 tokens by now
    expect(a.tryAdmit(400)).toBe(false);
    expect([a.tryAdmit(10_000), a.tryAdmit(10_000), a.tryAdmit(10_000), a.tryAdmit(10_000)]).toEqual([true, true, true, false]); // never more than the burst
  });
});
