import { describe, expect, it } from 'vitest';
import { deploymentFromDoc, deploymentToDoc } from './deployment-doc.js';
import { deploymentRecord } from '../testing/record-builders.js';
import type { FleetPlan } from '../deployment/fleet-plan.js';

const plan: FleetPlan = {
  status: 'InProgress',
  minimumHealthy: 2,
  targets: [
    { id: 'h3', status: 'Succeeded' },
    { id: 'h1', status: 'InProgress' },
    { id: 'h2', status: 'Pending' },
    { id: 'h4', status: 'Failed' },
    { id: 'h5', status: 'Skipped' },
  ],
  held: ['h4'],
  waived: ['h5'],
};

describe('deployment documents', () => {
  it('read back the record written, plan and all, with the targets in their order', () => {
    const d = deploymentRecord({ deploymentId: 'd-1', plan });
    expect(deploymentFromDoc(deploymentToDoc(d))).toEqual(d);
    const noPlan = deploymentRecord({ deploymentId: 'd-2' });
    expect(deploymentFromDoc(deploymentToDoc(noPlan))).toEqual(noPlan);
  });

  it('write a plan\'s targets as ids and one letter each', () => {
    const doc = JSON.parse(deploymentToDoc(deploymentRecord({ plan }))) as { plan: Record<string, unknown> };
    expect(doc.plan.targets).toBeUndefined();
    expect(doc.plan.targetIds).toEqual(['h3', 'h1', 'h2', 'h4', 'h5']);
    expect(doc.plan.targetStatuses).toBe('SIPFK');
    // A thousand instances: the document is under half the size it was.
    const big = deploymentRecord({ plan: { ...plan, targets: Array.from({ length: 1000 }, (_, i) => ({ id: `fleet-i-${String(i).padStart(5, '0')}`, status: 'Succeeded' as const })) } });
    expect(deploymentToDoc(big).length).toBeLessThan(JSON.stringify(big).length / 2);
  });

  it('read a document written before, with the targets as objects', () => {
    const d = deploymentRecord({ deploymentId: 'd-old', plan });
    expect(deploymentFromDoc(JSON.stringify(d))).toEqual(d);
  });

  it('refuse a damaged plan, naming the deployment and what is wrong', () => {
    const doc = (statuses: string) => JSON.stringify({ ...deploymentRecord({ deploymentId: 'd-bad' }), plan: { status: 'InProgress', minimumHealthy: 0, targetIds: ['a', 'b'], targetStatuses: statuses } });
    expect(() => deploymentFromDoc(doc('S'))).toThrow('deployment d-bad: its stored plan has 2 target ids but 1 statuses');
    expect(() => deploymentFromDoc(doc('SX'))).toThrow('deployment d-bad: its stored plan gives target b the unknown status letter "X"');
  });
});
