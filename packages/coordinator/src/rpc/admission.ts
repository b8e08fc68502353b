/**
 * Admission is a token bucket for new agent streams: after a coordinator restart a thousand agents
 * reconnect at once, and those beyond the rate are told to back off (RESOURCE_EXHAUSTED) instead of
 * all being handed their pending work in the same instant. Pure apart from the clock value passed in.
 */

/** Admission admits at most `perSecond` new streams per second, with a burst of the same size. */
export class Admission {
  private tokens: number;
  private last: number;

  constructor(private readonly perSecond: number, now: number) {
    this.tokens = perSecond;
    this.last = now;
  }

  /** tryAdmit takes a token if one is left at time `now` (ms). */
  tryAdmit(now: number): boolean {
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
