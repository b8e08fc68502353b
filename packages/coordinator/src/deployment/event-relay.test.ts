import { describe, expect, it } from 'vitest';
import type { DeploymentEvent } from './events.js';
import { createEventRelay, decodeEvents, encodeEvents } from './event-relay.js';

const lifecycle = (i: number, logTail = ''): DeploymentEvent => ({
  type: 'lifecycleEvent',
  deploymentId: 'd-1',
  instanceName: `web-${i}`,
  lifecycleEvent: 'Install',
  status: 'Failed',
  diagnostics: { errorCode: 'ScriptFailed', scriptName: 'install.sh', message: 'exit 1', logTail },
  at: i,
});

describe('event relay', () => {
  it('packs events into payloads under the size limit, in order, and reads them back at another replica', () => {
    const events = Array.from({ length: 200 }, (_, i) => lifecycle(i));
    const payloads = encodeEvents('replica-a', events, 2_000);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(2_000);
    expect(payloads.flatMap((p) => decodeEvents(p, 'replica-b'))).toEqual(events);
    // The replica that sent them does not hear them again: its own engine published them.
    expect(payloads.flatMap((p) => decodeEvents(p, 'replica-a'))).toEqual([]);
    expect(encodeEvents('replica-a', [], 2_000)).toEqual([]);
  });

  it('cuts the log tail, then the message, of an event too large for a payload, and drops only one that still does not fit', () => {
    const big = lifecycle(1, 'x'.repeat(5_000));
    const [payload] = encodeEvents('replica-a', [big, lifecycle(2)], 1_000);
    const [first, second] = decodeEvents(payload!, 'replica-b');
    expect(first).toEqual({ ...big, diagnostics: { ...(big as { diagnostics: object }).diagnostics, logTail: '' } });
    expect(second).toEqual(lifecycle(2));
    const wordy = (message: string, logTail: string): DeploymentEvent => ({ ...lifecycle(3), diagnostics: { errorCode: 'ScriptFailed', scriptName: 'a.sh', message, logTail } }) as DeploymentEvent;
    expect(decodeEvents(encodeEvents('replica-a', [wordy('m'.repeat(900), 'y'.repeat(900))], 600)[0]!, 'replica-b')).toEqual([wordy('', '')]);
    const huge: DeploymentEvent = { type: 'deployment', deploymentId: 'd-'.repeat(400), status: 'Succeeded', at: 1 };
    expect(encodeEvents('replica-a', [huge], 600)).toEqual([]);
  });

  it('ignores a payload not of its shape', () => {
    for (const p of ['not json', '[]', 'null', '{"r":1,"e":[]}', '{"r":"replica-a"}', '{"r":"replica-a","e":[1,{"type":"deployment"}]}']) expect(decodeEvents(p, 'replica-b')).toEqual([]);
  });

  it('hands what it receives to its listeners until they unsubscribe, and reports a listener that throws without stopping the others', () => {
    const failures: unknown[] = [];
    const relay = createEventRelay('replica-b', (err) => failures.push(err));
    const heard: DeploymentEvent[] = [];
    const payloads = encodeEvents('replica-a', [lifecycle(1), lifecycle(2)], 7_999);
    relay.received(payloads); // nobody listens: nothing to do
    const stopThrowing = relay.subscribe(() => {
      throw new Error('listener broke');
    });
    const stop = relay.subscribe((e) => heard.push(e));
    relay.received(payloads);
    expect(heard).toEqual([lifecycle(1), lifecycle(2)]);
    expect(failures).toHaveLength(2);
    stop();
    stopThrowing();
    relay.received(payloads);
    expect(heard).toHaveLength(2);
  });
});
