import { describe, expect, it } from 'vitest';
import type { Host } from './fleet-model.js';
import { applyInstanceChange, countByState, gridFor, tileAt, tileState } from './fleet-model.js';

const host = (name: string, extra: Partial<Host> = {}): Host => ({ name, agent: 'Connected', ...extra });

describe('tileState', () => {
  it('shows an agent that is not connected as offline, whatever its last deployment did', () => {
    expect(tileState(host('a', { agent: 'Disconnected', instanceStatus: 'Succeeded' }))).toBe('offline');
    expect(tileState(host('a', { agent: 'NeverConnected' }))).toBe('offline');
  });
  it('follows the latest deployment of a connected host', () => {
    expect(tileState(host('a'))).toBe('idle');
    expect(['Succeeded', 'Failed', 'InProgress', 'Pending', 'Ready', 'Skipped', 'Unknown'].map((s) => tileState(host('a', { instanceStatus: s })))).toEqual([
      'succeeded',
      'failed',
      'inProgress',
      'pending',
      'pending',
      'skipped',
      'skipped',
    ]);
  });
  it('counts each state', () => {
    const counts = countByState([host('a', { instanceStatus: 'Failed' }), host('b', { instanceStatus: 'Failed' }), host('c', { agent: 'Disconnected' })]);
    expect(counts).toMatchObject({ failed: 2, offline: 1, succeeded: 0 });
  });
});

describe('applyInstanceChange', () => {
  const hosts = new Map([['web-1', host('web-1', { deploymentId: 'd-AAAAAAAAA', instanceStatus: 'Succeeded' })]]);
  it('moves a host to the status the stream reports, leaving the map it was given alone', () => {
    const next = applyInstanceChange(hosts, { deploymentId: 'd-BBBBBBBBB', instanceName: 'web-1', status: 'InProgress' });
    expect(next?.get('web-1')).toMatchObject({ deploymentId: 'd-BBBBBBBBB', instanceStatus: 'InProgress' });
    expect(hosts.get('web-1')!.instanceStatus).toBe('Succeeded');
  });
  it('changes nothing for an unknown host or a repeat', () => {
    expect(applyInstanceChange(hosts, { deploymentId: 'd-AAAAAAAAA', instanceName: 'nobody', status: 'Failed' })).toBeUndefined();
    expect(applyInstanceChange(hosts, { deploymentId: 'd-AAAAAAAAA', instanceName: 'web-1', status: 'Succeeded' })).toBeUndefined();
  });
});

describe('gridFor and tileAt', () => {
  it('gives a few hosts large tiles and 1,000 hosts small ones that still fit the height', () => {
    expect(gridFor(4, 1000)).toMatchObject({ size: 36, rows: 1 });
    const big = gridFor(1000, 1000);
    expect(big.size).toBeGreaterThanOrEqual(8);
    expect(big.size).toBeLessThan(36);
    expect(big.cols * big.rows).toBeGreaterThanOrEqual(1000);
    expect(big.height).toBeLessThanOrEqual(320);
  });
  it('grows taller rather than shrinking tiles below the minimum', () => {
    const g = gridFor(10_000, 400);
    expect(g.size).toBe(8);
    expect(g.height).toBeGreaterThan(320);
  });
  it('finds the tile under a point, and none in a gap or past the last tile', () => {
    const g = gridFor(5, 100, { maxSize: 10, gap: 2 }); // 8 columns of 10 px at a 12 px pitch
    expect(g.cols).toBe(8);
    expect(tileAt(g, 5, 0, 0)).toBe(0);
    expect(tileAt(g, 5, 12 * 4 + 9, 9)).toBe(4);
    expect(tileAt(g, 5, 10.5, 0)).toBeUndefined(); // the gap
    expect(tileAt(g, 5, 12 * 5 + 1, 1)).toBeUndefined(); // no sixth host
    expect(tileAt(g, 5, -1, 0)).toBeUndefined();
  });
});
