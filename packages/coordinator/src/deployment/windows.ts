/**
 * Deployment windows, a fleetdeploy extension of a deployment group (CodeDeploy has none): the times
 * at which the group's deployments may start instances. Each window opens at the times of a cron
 * expression, read in its IANA time zone, and stays open for its duration. Pure: a policy and a time
 * in, whether a window is open and until when, or when the next one opens, out.
 *
 *   closed ──next cron time of any window──▶ open ──last overlapping window ends──▶ closed
 *
 * Cron times are croner's: 5 fields (minute precision) or 6 (seconds first); a local time that a DST
 * change skips runs at the first valid time after it, and one that repeats runs once.
 */
import { Cron } from 'croner';

/** DeploymentWindow is one window as the group stores it. */
export interface DeploymentWindow {
  cron: string;
  durationMinutes: number;
  /** An IANA zone such as Europe/Paris; UTC when absent. */
  timeZone?: string;
}

/** OutsideWindow is what CreateDeployment does while every window is closed. */
export type OutsideWindow = 'queue' | 'refuse';
/** WindowClose is what a running deployment does when its window closes. */
export type WindowClose = 'finish-running' | 'continue';

/** WindowPolicy is the group's `deploymentWindows` field. */
export interface WindowPolicy {
  windows: DeploymentWindow[];
  outsideWindow: OutsideWindow;
  windowClose: WindowClose;
}

/** WindowState is whether a window is open at a time: until when if so, else when one next opens. */
export type WindowState =
  | { open: true; closesAt: number }
  | { open: false; opensAt: number | undefined; window: DeploymentWindow | undefined };

/** MAX_DURATION_MINUTES bounds a window to a week, which also bounds the search for overlaps. */
export const MAX_DURATION_MINUTES = 7 * 24 * 60;
/** MAX_WINDOWS is how many windows one group may declare. */
export const MAX_WINDOWS = 20;
/** How many cron times one look at a stretch of time takes at most. */
const MAX_STEPS = 10_000;
/** How far ahead the end of an open span is looked for: windows that keep overlapping are open "until" then. */
const HORIZON_MS = (MAX_DURATION_MINUTES + 24 * 60) * 60_000;

/** WindowPolicyError is a `deploymentWindows` value that cannot be used; its message names the field. */
export class WindowPolicyError extends Error {}

function cronOf(window: DeploymentWindow): Cron {
  return new Cron(window.cron, { paused: true, timezone: window.timeZone ?? 'UTC' });
}

/** parseWindowPolicy validates a `deploymentWindows` value (`where` names it in errors). */
export function parseWindowPolicy(value: unknown, where = 'deploymentWindows'): WindowPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WindowPolicyError(`${where} must be an object with windows, outsideWindow and windowClose`);
  const input = value as Record<string, unknown>;
  const unknown = Object.keys(input).find((k) => !['windows', 'outsideWindow', 'windowClose'].includes(k));
  if (unknown !== undefined) throw new WindowPolicyError(`${where}.${unknown} is not a field (windows, outsideWindow, windowClose)`);
  const list = input.windows;
  if (!Array.isArray(list) || list.length === 0) throw new WindowPolicyError(`${where}.windows must be a non-empty list of {cron, durationMinutes, timeZone}`);
  if (list.length > MAX_WINDOWS) throw new WindowPolicyError(`${where}.windows has ${list.length} windows; at most ${MAX_WINDOWS} are allowed`);
  const windows = list.map((w, i) => parseWindow(w, `${where}.windows[${i}]`));
  const outsideWindow = input.outsideWindow ?? 'queue';
  if (outsideWindow !== 'queue' && outsideWindow !== 'refuse') throw new WindowPolicyError(`${where}.outsideWindow must be queue or refuse, got ${JSON.stringify(outsideWindow)}`);
  const windowClose = input.windowClose ?? 'finish-running';
  if (windowClose !== 'finish-running' && windowClose !== 'continue') throw new WindowPolicyError(`${where}.windowClose must be finish-running or continue, got ${JSON.stringify(windowClose)}`);
  return { windows, outsideWindow, windowClose };
}

function parseWindow(value: unknown, where: string): DeploymentWindow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WindowPolicyError(`${where} must be an object {cron, durationMinutes, timeZone}`);
  const w = value as Record<string, unknown>;
  const unknown = Object.keys(w).find((k) => !['cron', 'durationMinutes', 'timeZone'].includes(k));
  if (unknown !== undefined) throw new WindowPolicyError(`${where}.${unknown} is not a field (cron, durationMinutes, timeZone)`);
  const d = w.durationMinutes;
  if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0 || d > MAX_DURATION_MINUTES) throw new WindowPolicyError(`${where}.durationMinutes must be a number of minutes above 0 and at most ${MAX_DURATION_MINUTES} (a week), got ${JSON.stringify(d)}`);
  const checked = parseCron(w.cron, w.timeZone, where);
  const window: DeploymentWindow = { ...checked, durationMinutes: d };
  return window;
}

/**
 * parseCron checks a cron expression and its optional IANA zone (`where` names them in errors): a
 * valid expression that occurs again, in a zone the runtime knows.
 */
export function parseCron(cron: unknown, timeZone: unknown, where: string): { cron: string; timeZone?: string } {
  if (typeof cron !== 'string' || cron.trim() === '') throw new WindowPolicyError(`${where}.cron must be a cron expression such as "0 22 * * 1-5"`);
  if (timeZone !== undefined && (typeof timeZone !== 'string' || timeZone === '')) throw new WindowPolicyError(`${where}.timeZone must be an IANA time zone name such as Europe/Paris`);
  const out = { cron: cron.trim(), ...(timeZone === undefined ? {} : { timeZone: timeZone as string }) };
  if (out.timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: out.timeZone });
    } catch {
      throw new WindowPolicyError(`${where}.timeZone ${JSON.stringify(out.timeZone)} is not an IANA time zone name (such as Europe/Paris or UTC)`);
    }
  }
  let next: Date | null;
  try {
    next = new Cron(out.cron, { paused: true, timezone: out.timeZone ?? 'UTC' }).nextRun();
  } catch (err) {
    throw new WindowPolicyError(`${where}.cron ${JSON.stringify(out.cron)} is not a valid cron expression: ${(err as Error).message}`);
  }
  if (next === null) throw new WindowPolicyError(`${where}.cron ${JSON.stringify(out.cron)} never occurs again`);
  return out;
}

/** nextCronTime is the first time of `cron` (in `timeZone`, UTC by default) strictly after `after`, undefined when none. */
export function nextCronTime(cron: string, timeZone: string | undefined, after: number): number | undefined {
  return new Cron(cron, { paused: true, timezone: timeZone ?? 'UTC' }).nextRun(new Date(after))?.getTime();
}

/** Cron times of `window` in (from, to], ascending. */
function runsBetween(window: DeploymentWindow, from: number, to: number): number[] {
  const cron = cronOf(window);
  const runs: number[] = [];
  let at: Date | null = new Date(from);
  while (runs.length < MAX_STEPS) {
    at = cron.nextRun(at);
    if (at === null || at.getTime() > to) break;
    runs.push(at.getTime());
  }
  return runs;
}

/**
 * openUntil is when the windows open at `now` close, taking overlapping and adjoining windows as one
 * span; undefined when none is open. A span that keeps being extended is cut at HORIZON_MS from now
 * (the deployment looks again then).
 */
function openUntil(windows: readonly DeploymentWindow[], now: number): number | undefined {
  let end: number | undefined;
  for (const w of windows) {
    const length = w.durationMinutes * 60_000;
    // A window that opened at t is open over [t, t + length): the runs in (now − length, now].
    for (const t of runsBetween(w, now - length, now)) end = Math.max(end ?? 0, t + length);
  }
  if (end === undefined) return undefined;
  return spanEnd(windows, now, end);
}

/** spanEnd extends an open span that ends at `end` by the windows that open before it ends. */
function spanEnd(windows: readonly DeploymentWindow[], now: number, first: number): number {
  let end = first;
  // A window opening before the span ends (or just as it ends) carries it on; each pass looks only
  // at the stretch the previous one added.
  let seen = now;
  while (end > seen && end < now + HORIZON_MS) {
    let extended: number = end;
    for (const w of windows) {
      const length = w.durationMinutes * 60_000;
      for (const t of runsBetween(w, seen, end)) extended = Math.max(extended, t + length);
    }
    seen = end;
    end = extended;
  }
  return Math.min(end, now + HORIZON_MS);
}

/** windowState tells whether any of `windows` is open at `now` (epoch ms), and until when or from when. */
export function windowState(windows: readonly DeploymentWindow[], now: number): WindowState {
  const closesAt = openUntil(windows, now);
  if (closesAt !== undefined) return { open: true, closesAt };
  let opensAt: number | undefined;
  let first: DeploymentWindow | undefined;
  for (const w of windows) {
    const next = cronOf(w).nextRun(new Date(now))?.getTime();
    if (next !== undefined && (opensAt === undefined || next < opensAt)) {
      opensAt = next;
      first = w;
    }
  }
  return { open: false, opensAt, window: first };
}

/** WINDOW_MESSAGE_PREFIX starts every deployment status message about windows, so they can be removed once stale. */
export const WINDOW_MESSAGE_PREFIX = 'fleetdeploy: deployment window: ';

/** describeWindow names a window in messages: its cron expression, zone and duration. */
export function describeWindow(window: DeploymentWindow): string {
  return `"${window.cron}" (${window.timeZone ?? 'UTC'}, ${window.durationMinutes} min)`;
}

/** waitMessage is the status message of a deployment that waits for a window to open. */
export function waitMessage(state: Extract<WindowState, { open: false }>): string {
  if (state.opensAt === undefined || state.window === undefined) return `${WINDOW_MESSAGE_PREFIX}waits for a window to open, but none of the group's windows opens again`;
  return `${WINDOW_MESSAGE_PREFIX}waits for the window ${describeWindow(state.window)}, which opens at ${new Date(state.opensAt).toISOString()}`;
}

/** pausedMessage is the status message of a running deployment whose window closed. */
export function pausedMessage(closedAt: number, state: Extract<WindowState, { open: false }>): string {
  const next = state.opensAt === undefined || state.window === undefined ? 'none of the group\'s windows opens again (stop the deployment, or change the windows)' : `the rest start when the window ${describeWindow(state.window)} opens at ${new Date(state.opensAt).toISOString()}`;
  return `${WINDOW_MESSAGE_PREFIX}closed at ${new Date(closedAt).toISOString()}; running instances finish and no new one starts; ${next}`;
}

/** refusalMessage is CreateDeployment's error for a group that refuses deployments outside its windows. */
export function refusalMessage(groupName: string, state: Extract<WindowState, { open: false }>): string {
  const next = state.opensAt === undefined || state.window === undefined ? 'none of its windows opens again' : `the next window ${describeWindow(state.window)} opens at ${new Date(state.opensAt).toISOString()}`;
  return `deployment group ${groupName} refuses deployments outside its deployment windows (outsideWindow: refuse) and no window is open now; ${next}`;
}

/** policyOf reads a group's stored policy (its `extra.deploymentWindows`), undefined when it has none. */
export function policyOf(extra: Record<string, unknown>): WindowPolicy | undefined {
  return extra.deploymentWindows === undefined ? undefined : (extra.deploymentWindows as WindowPolicy);
}
