/**
 * Where alarm states come from. The watch (alarm-watch.ts) and the pure judgement (alarm-verdict.ts)
 * only see this interface, so another source (Prometheus alerts, say) is one more file beside
 * cloudwatch-source.ts.
 */

/** AlarmState is CloudWatch's StateValue; other sources map their states onto these three. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/**
 * AlarmReading is one poll's answer: the state of each alarm the source knows (a name it does not
 * know is simply absent), or why the source could not be read at all.
 */
export type AlarmReading = { ok: true; states: ReadonlyMap<string, AlarmState> } | { ok: false; error: string };

/** AlarmSource reads the current state of named alarms. */
export interface AlarmSource {
  /** name says where the states come from, in messages and logs ("CloudWatch"). */
  readonly name: string;
  /** states never rejects: a source that cannot be reached answers `{ok: false, error}`. */
  states(names: readonly string[]): Promise<AlarmReading>;
}
