import { describe, expect, it } from 'vitest';
import { createLoopPriority } from './loop-priority.js';

describe('loop priority', () => {
  it('has a background task skip its turn while a transaction waits, never two turns running', () => {
    const priority = createLoopPriority();
    const gate = priority.giveWay();
    expect(gate()).toBe(false); // nothing waits
    priority.queued();
    priority.queued();
    expect(priority.waiting()).toBe(2);
    expect([gate(), gate(), gate(), gate()]).toEqual([true, false, true, false]);
    priority.begun();
    priority.begun();
    expect(priority.waiting()).toBe(0);
    expect(gate()).toBe(false);
  });

  it('keeps one gate per task: one task giving way does not use up another\'s', () => {
    const priority = createLoopPriority();
    const inbox = priority.giveWay();
    const fanOut = priority.giveWay();
    priority.queued();
    expect(inbox()).toBe(true);
    expect(fanOut()).toBe(true);
  });

  it('never counts below zero', () => {
    const priority = createLoopPriority();
    priority.begun();
    expect(priority.waiting()).toBe(0);
  });
});
