import { describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../store/records.js';
import type { Engine } from './engine.js';
import type { TrafficDriver } from './traffic/driver.js';
import { routeByPlatform } from './platforms.js';

describe('routeByPlatform', () => {
  const records: Record<string, Pick<DeploymentRecord, 'computePlatform' | 'blueGreen'>> = { 'd-server': { computePlatform: 'Server' }, 'd-lambda': { computePlatform: 'Lambda' } };
  const started: string[] = [];
  const engine = { deploymentCreated: async (id: string) => void started.push(`engine ${id}`) } as unknown as Engine;
  const traffic = { deploymentCreated: (id: string) => void started.push(`traffic ${id}`) } as unknown as TrafficDriver;
  const turns: (() => void)[] = [];
  const route = routeByPlatform({ getDeployment: async (id) => records[id] as DeploymentRecord | undefined }, engine, traffic, (fn) => turns.push(fn));

  it('starts an in-place deployment on the next turn, after CreateDeployment has answered; a traffic-shifted one at once', async () => {
    await route.deploymentCreated('d-server');
    await route.deploymentCreated('d-lambda');
    expect(started).toEqual(['traffic d-lambda']);
    turns.forEach((t) => t());
    expect(started).toEqual(['traffic d-lambda', 'engine d-server']);
  });
});
