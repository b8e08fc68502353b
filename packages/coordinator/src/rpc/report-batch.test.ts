import { describe, expect, it } from 'vitest';
import type { AgentReport } from '../deployment/engine.js';
import { MAX_BATCH, createReportBatch } from './report-batch.js';

const ack = (n: number): AgentReport => ({ instanceName: `sim-${n}`, ack: `c-${n}` });

describe('createReportBatch', () => {
  it('delivers what came in one turn together, in order, once', () => {
    const delivered: AgentReport[][] = [];
    const turns: (() => void)[] = [];
    const batch = createReportBatch((r) => delivered.push([...r]), (fn) => turns.push(fn));
    batch.add(ack(1));
    batch.add(ack(2));
    expect(delivered).toEqual([]);
    expect(turns).toHaveLength(1); // one turn scheduled for both
    turns.shift()!();
    expect(delivered).toEqual([[ack(1), ack(2)]]);
    batch.add(ack(3));
    turns.shift()!();
    expect(delivered).toEqual([[ack(1), ack(2)], [ack(3)]]);
  });

  it('flush delivers at once, and the turn that comes later has nothing to deliver', () => {
    const delivered: AgentReport[][] = [];
    const turns: (() => void)[] = [];
    const batch = createReportBatch((r) => delivered.push([...r]), (fn) => turns.push(fn));
    batch.add(ack(1));
    batch.flush();
    expect(delivered).toEqual([[ack(1)]]);
    turns.shift()!();
    batch.flush();
    expect(delivered).toHaveLength(1);
  });

  it(`delivers as soon as ${MAX_BATCH} are gathered`, () => {
    const sizes: number[] = [];
    const turns: (() => void)[] = [];
    const batch = createReportBatch((r) => sizes.push(r.length), (fn) => turns.push(fn));
    for (let i = 0; i < MAX_BATCH + 3; i++) batch.add(ack(i));
    expect(sizes).toEqual([MAX_BATCH]);
    turns.forEach((t) => t());
    expect(sizes).toEqual([MAX_BATCH, 3]);
  });
});
