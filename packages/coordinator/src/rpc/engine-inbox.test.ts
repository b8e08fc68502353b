import { describe, expect, it } from 'vitest';
import type { AgentReport } from '../deployment/engine.js';
import type { EngineSink } from './engine-inbox.js';
import { MAX_BATCH, MAX_SLICE_MS, MIN_SLICE_MS, createEngineInbox } from './engine-inbox.js';
import { createLoopPriority } from '../loop-priority.js';

const ack = (n: number): AgentReport => ({ instanceName: `sim-${n}`, ack: `c-${n}` });

/** A sink that records each call, and a clock the sink's calls move on by `costMs` each. */
function harness(costMs = 0) {
  const calls: string[] = [];
  const turns: (() => void)[] = [];
  let clock = 0;
  const sink: EngineSink = {
    agentReports: (r) => {
      calls.push(`reports ${r.map((x) => ('ack' in x ? x.ack : x.result.commandId)).join(',')}`);
      clock += costMs;
    },
    agentConnected: (name, inFlight) => {
      calls.push(`connected ${name} [${inFlight.join(',')}]`);
      clock += costMs;
    },
    agentDisconnected: (name) => {
      calls.push(`disconnected ${name}`);
      clock += costMs;
    },
  };
  const runTurn = () => turns.shift()!();
  return { calls, turns, runTurn, sink, advance: (ms: number) => (clock += ms), timing: { schedule: (fn: () => void) => turns.push(fn), now: () => clock } };
}

describe('createEngineInbox', () => {
  it('hands nothing over while the I/O that queued it runs, then everything in order at the next turn', () => {
    const h = harness();
    const inbox = createEngineInbox(() => h.sink, h.timing);
    inbox.report(ack(1));
    inbox.report(ack(2));
    inbox.connected('sim-3', ['c-9']);
    inbox.report(ack(3));
    inbox.disconnected('sim-1');
    expect(h.calls).toEqual([]);
    expect(h.turns).toHaveLength(1); // one turn for all of it
    h.runTurn();
    expect(h.calls).toEqual(['reports c-1,c-2', 'connected sim-3 [c-9]', 'reports c-3', 'disconnected sim-1']);
    expect(inbox.pending()).toBe(0);
    expect(h.turns).toHaveLength(0);
  });

  it('skips a turn while an API transaction waits for its own, and hands everything over at the next', () => {
    const h = harness();
    const priority = createLoopPriority();
    const inbox = createEngineInbox(() => h.sink, h.timing, priority.giveWay());
    inbox.report(ack(1));
    priority.queued();
    h.runTurn();
    expect(h.calls).toEqual([]);
    expect(h.turns).toHaveLength(1); // scheduled again, behind the transaction
    h.runTurn(); // never two turns running, even if the transaction still waits
    expect(h.calls).toEqual(['reports c-1']);
  });

  it(`batches at most ${MAX_BATCH} reports per engine call`, () => {
    const h = harness();
    const inbox = createEngineInbox(() => h.sink, h.timing);
    for (let i = 0; i < MAX_BATCH + 5; i++) inbox.report(ack(i));
    h.runTurn();
    expect(h.calls.map((c) => c.split(',').length)).toEqual([MAX_BATCH, 5]);
  });

  it('stops a turn when its slice is used up and goes on at the next turn', () => {
    const h = harness(4); // each engine call takes 4 ms
    const inbox = createEngineInbox(() => h.sink, h.timing);
    for (let i = 0; i < 20; i++) inbox.connected(`sim-${i}`, []);
    h.runTurn();
    // The rest of the turn took no time: the minimum slice, MIN_SLICE_MS.
    expect(h.calls).toHaveLength(Math.ceil(MIN_SLICE_MS / 4));
    expect(h.turns).toHaveLength(1);
    expect(inbox.pending()).toBe(20 - h.calls.length);
  });

  it('gives the engine as long as the rest of the loop turn took, up to MAX_SLICE_MS', () => {
    const h = harness(1);
    const inbox = createEngineInbox(() => h.sink, h.timing);
    for (let i = 0; i < 500; i++) inbox.connected(`sim-${i}`, []);
    h.advance(30); // the sockets took 30 ms before the first turn
    h.runTurn();
    expect(h.calls).toHaveLength(30);
    h.advance(500); // a very long I/O phase: the slice is capped
    h.runTurn();
    expect(h.calls).toHaveLength(30 + MAX_SLICE_MS);
  });

  it('keeps what comes before the engine is attached, and hands it over once there is one', () => {
    const h = harness();
    let engine: EngineSink | undefined = undefined; // attached below, after the first turn
    const inbox = createEngineInbox(() => engine, h.timing);
    inbox.report(ack(1));
    h.runTurn();
    expect(inbox.pending()).toBe(1);
    engine = h.sink;
    inbox.report(ack(2));
    h.runTurn();
    expect(h.calls).toEqual(['reports c-1,c-2']);
  });

  it('close hands everything over at once and takes nothing after', () => {
    const h = harness(100); // far past any slice
    const inbox = createEngineInbox(() => h.sink, h.timing);
    for (let i = 0; i < 3; i++) inbox.connected(`sim-${i}`, []);
    inbox.close();
    expect(h.calls).toHaveLength(3);
    inbox.report(ack(9));
    expect(inbox.pending()).toBe(0);
    h.turns.forEach((t) => t());
    expect(h.calls).toHaveLength(3);
  });

  it('goes on with the queue at the next turn when an engine call throws', () => {
    const h = harness();
    let fail = true;
    const inbox = createEngineInbox(() => ({
      ...h.sink,
      agentConnected: (name, inFlight) => {
        if (fail) {
          fail = false;
          throw new Error('boom');
        }
        return h.sink.agentConnected(name, inFlight);
      },
    }), h.timing);
    inbox.connected('sim-1', []);
    inbox.connected('sim-2', []);
    expect(() => h.runTurn()).toThrow('boom');
    expect(h.turns).toHaveLength(1);
    h.runTurn();
    expect(h.calls).toEqual(['connected sim-2 []']);
  });

  it('hands nothing more over while the engine step it handed over last runs; reports that come meanwhile go over as one batch', async () => {
    const h = harness();
    const steps: Array<() => void> = [];
    const sink: EngineSink = {
      ...h.sink,
      agentReports: (r) => {
        void h.sink.agentReports(r);
        return new Promise<void>((resolve) => steps.push(resolve));
      },
    };
    const inbox = createEngineInbox(() => sink, h.timing);
    inbox.report(ack(1));
    h.runTurn();
    expect(h.calls).toEqual(['reports c-1']);
    inbox.report(ack(2));
    inbox.report(ack(3));
    while (h.turns.length > 0) h.runTurn(); // the step still runs: nothing is handed over
    expect(h.calls).toEqual(['reports c-1']);
    expect(inbox.pending()).toBe(2);
    steps.shift()!();
    await Promise.resolve(); // the step's settling reaches the inbox
    expect(h.turns).toHaveLength(1);
    h.runTurn();
    expect(h.calls).toEqual(['reports c-1', 'reports c-2,c-3']);
  });
});
