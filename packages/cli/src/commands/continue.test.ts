import { describe, expect, it } from 'vitest';
import { continuedLine, waitType } from './continue.js';

describe('continue', () => {
  it('ends the wait in Ready by default, the termination wait with --termination-wait', () => {
    expect(waitType({ terminationWait: false })).toBe('READY_WAIT');
    expect(waitType({ terminationWait: true })).toBe('TERMINATION_WAIT');
  });

  it('says what happens next and how to follow it', () => {
    expect(continuedLine('d-AAAAAAAAA', 'READY_WAIT')).toBe('Continued d-AAAAAAAAA: the traffic moves to the replacement now; fleetdeploy status d-AAAAAAAAA --watch follows it');
    expect(continuedLine('d-AAAAAAAAA', 'TERMINATION_WAIT')).toMatch(/^Continued d-AAAAAAAAA: the original is retired now/);
  });
});
