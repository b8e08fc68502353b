import { describe, expect, it } from 'vitest';
import { parseWindowPolicy, pausedMessage, refusalMessage, waitMessage, windowState, WindowPolicyError } from './windows.js';
import type { DeploymentWindow } from './windows.js';

const at = (iso: string) => Date.parse(iso);
const weeknights: DeploymentWindow = { cron: '0 22 * * 1-5', durationMinutes: 120, timeZone: 'Europe/Paris' };

describe('windowState', () => {
  it('is closed before a window, open from its cron time for its duration, closed at its end', () => {
    // Monday 7 December 2026; Paris is UTC+1 in winter, so 22:00 there is 21:00Z.
    expect(windowState([weeknights], at('2026-12-07T20:59:59Z'))).toEqual({ open: false, opensAt: at('2026-12-07T21:00:00Z'), window: weeknights });
    expect(windowState([weeknights], at('2026-12-07T21:00:00Z'))).toEqual({ open: true, closesAt: at('2026-12-07T23:00:00Z') });
    expect(windowState([weeknights], at('2026-12-07T22:59:59.999Z'))).toEqual({ open: true, closesAt: at('2026-12-07T23:00:00Z') });
    expect(windowState([weeknights], at('2026-12-07T23:00:00Z'))).toEqual({ open: false, opensAt: at('2026-12-08T21:00:00Z'), window: weeknights });
  });

  it('skips the days the cron expression leaves out (Friday night to Monday night)', () => {
    expect(windowState([weeknights], at('2026-12-12T12:00:00Z'))).toMatchObject({ open: false, opensAt: at('2026-12-14T21:00:00Z') });
  });

  it('follows the zone across a DST change: 22:00 Paris is 20:00Z in summer', () => {
    expect(windowState([weeknights], at('2026-03-30T19:00:00Z'))).toMatchObject({ open: false, opensAt: at('2026-03-30T20:00:00Z') });
    expect(windowState([weeknights], at('2026-03-30T20:30:00Z'))).toEqual({ open: true, closesAt: at('2026-03-30T22:00:00Z') });
  });

  it('opens a window whose local time a spring-forward skips at the first valid time after it', () => {
    const night: DeploymentWindow = { cron: '30 2 * * *', durationMinutes: 60, timeZone: 'Europe/Paris' };
    // 29 March 2026: 02:00 → 03:00 in Paris; 02:30 does not exist, the window opens at 03:00 CEST (01:00Z).
    expect(windowState([night], at('2026-03-28T12:00:00Z'))).toMatchObject({ open: false, opensAt: at('2026-03-29T01:00:00Z') });
  });

  it('opens a window whose local time a fall-back repeats once, at its first occurrence', () => {
    const night: DeploymentWindow = { cron: '30 2 * * *', durationMinutes: 30, timeZone: 'Europe/Paris' };
    // 25 October 2026: 02:30 CEST is 00:30Z and 02:30 CET 01:30Z; only the first opens the window.
    expect(windowState([night], at('2026-10-25T00:45:00Z'))).toEqual({ open: true, closesAt: at('2026-10-25T01:00:00Z') });
    expect(windowState([night], at('2026-10-25T01:40:00Z'))).toMatchObject({ open: false, opensAt: at('2026-10-26T01:30:00Z') });
  });

  it('reads a window without a zone in UTC', () => {
    expect(windowState([{ cron: '0 6 * * *', durationMinutes: 10 }], at('2026-07-01T05:00:00Z'))).toMatchObject({ open: false, opensAt: at('2026-07-01T06:00:00Z') });
  });

  it('takes overlapping and adjoining windows as one open span', () => {
    const a: DeploymentWindow = { cron: '0 1 * * *', durationMinutes: 60 };
    const b: DeploymentWindow = { cron: '30 1 * * *', durationMinutes: 60 }; // overlaps a
    const c: DeploymentWindow = { cron: '30 2 * * *', durationMinutes: 30 }; // starts as b ends
    expect(windowState([a, b, c], at('2026-07-01T01:10:00Z'))).toEqual({ open: true, closesAt: at('2026-07-01T03:00:00Z') });
  });

  it('takes a window that is longer than its period as always open while it recurs', () => {
    expect(windowState([{ cron: '*/10 * * * *', durationMinutes: 15 }], at('2026-07-01T01:02:00Z'))).toMatchObject({ open: true });
  });

  it('picks the window that opens first among several, and names it', () => {
    const late: DeploymentWindow = { cron: '0 23 * * *', durationMinutes: 30, timeZone: 'America/New_York' };
    const early: DeploymentWindow = { cron: '0 3 * * *', durationMinutes: 30, timeZone: 'Asia/Tokyo' };
    // 2026-07-01T12:00Z: Tokyo 03:00 is 18:00Z that day; New York 23:00 EDT is 03:00Z the next day.
    expect(windowState([late, early], at('2026-07-01T12:00:00Z'))).toEqual({ open: false, opensAt: at('2026-07-01T18:00:00Z'), window: early });
  });

  it('supports a seconds field (six fields)', () => {
    expect(windowState([{ cron: '5 0 12 * * *', durationMinutes: 1 }], at('2026-07-01T12:00:02Z'))).toMatchObject({ open: false, opensAt: at('2026-07-01T12:00:05Z') });
  });
});

describe('parseWindowPolicy', () => {
  it('fills the defaults: queue outside a window, running instances finish when it closes', () => {
    expect(parseWindowPolicy({ windows: [weeknights] })).toEqual({ windows: [weeknights], outsideWindow: 'queue', windowClose: 'finish-running' });
    expect(parseWindowPolicy({ windows: [weeknights], outsideWindow: 'refuse', windowClose: 'continue' })).toMatchObject({ outsideWindow: 'refuse', windowClose: 'continue' });
  });

  it.each([
    [null, 'deploymentWindows must be an object'],
    [{ windows: [] }, 'deploymentWindows.windows must be a non-empty list'],
    [{ windows: [weeknights], mode: 'x' }, 'deploymentWindows.mode is not a field'],
    [{ windows: [{ ...weeknights, cron: 'at ten' }] }, 'deploymentWindows.windows[0].cron "at ten" is not a valid cron expression'],
    [{ windows: [{ ...weeknights, cron: '0 99 * * *' }] }, 'deploymentWindows.windows[0].cron "0 99 * * *" is not a valid cron expression'],
    [{ windows: [{ ...weeknights, timeZone: 'Mars/Olympus' }] }, 'deploymentWindows.windows[0].timeZone "Mars/Olympus" is not an IANA time zone'],
    [{ windows: [{ ...weeknights, durationMinutes: 0 }] }, 'deploymentWindows.windows[0].durationMinutes must be a number of minutes above 0'],
    [{ windows: [{ ...weeknights, durationMinutes: 20000 }] }, 'at most 10080 (a week), got 20000'],
    [{ windows: [{ cron: '0 1 * * *' }] }, 'deploymentWindows.windows[0].durationMinutes must be'],
    [{ windows: [{ ...weeknights, tz: 'UTC' }] }, 'deploymentWindows.windows[0].tz is not a field'],
    [{ windows: [weeknights], outsideWindow: 'wait' }, 'outsideWindow must be queue or refuse, got "wait"'],
    [{ windows: [weeknights], windowClose: 'stop' }, 'windowClose must be finish-running or continue, got "stop"'],
  ])('refuses %j, naming the field', (value, message) => {
    expect(() => parseWindowPolicy(value)).toThrow(WindowPolicyError);
    expect(() => parseWindowPolicy(value)).toThrow(message);
  });
});

describe('messages', () => {
  it('say which window a deployment waits for and when it opens', () => {
    const state = windowState([weeknights], at('2026-12-07T12:00:00Z'));
    if (state.open) throw new Error('expected closed');
    expect(waitMessage(state)).toBe('fleetdeploy: deployment window: waits for the window "0 22 * * 1-5" (Europe/Paris, 120 min), which opens at 2026-12-07T21:00:00.000Z');
    expect(pausedMessage(at('2026-12-07T11:00:00Z'), state)).toBe('fleetdeploy: deployment window: closed at 2026-12-07T11:00:00.000Z; running instances finish and no new one starts; the rest start when the window "0 22 * * 1-5" (Europe/Paris, 120 min) opens at 2026-12-07T21:00:00.000Z');
    expect(refusalMessage('web', state)).toBe('deployment group web refuses deployments outside its deployment windows (outsideWindow: refuse) and no window is open now; the next window "0 22 * * 1-5" (Europe/Paris, 120 min) opens at 2026-12-07T21:00:00.000Z');
  });
});
