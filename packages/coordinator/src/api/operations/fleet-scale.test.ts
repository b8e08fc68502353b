/**
 * What RegisterOnPremisesInstance, AddTagsToOnPremisesInstances and CreateDeployment cost in store
 * queries, and in rows those queries read, on a fleet of 200 and of 2,000 instances (issue 14): a
 * call touches the rows it changes and the group it deploys to, so both figures are the same at
 * either size. Counted, not timed.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ApiHarness } from '../../testing/api-harness.js';
import { startApiHarness } from '../../testing/api-harness.js';

const ROLE = 'arn:aws:iam::000000000000:role/fleetdeploy';
/** GROUP hosts carry role=web, the group's tag; every host carries env=fleet. */
const GROUP = 10;

interface Cost {
  queries: number;
  rows: number;
}

/** cost runs one API call and returns the store's queries and rows read during it. */
async function cost(h: ApiHarness, operation: string, input: Record<string, unknown>): Promise<Cost> {
  const queries = h.store.queryCount();
  const rows = h.store.rowsRead();
  await h.ok(operation, input);
  return { queries: h.store.queryCount() - queries, rows: h.store.rowsRead() - rows };
}

/** callsOn measures the three calls on a fleet of `size` registered, tagged instances. */
async function callsOn(size: number): Promise<Record<'register' | 'tag' | 'create', Cost> & { targets: number }> {
  const h = await startApiHarness();
  try {
    // The fleet goes straight into the real store (one transaction): 2,000 API round trips would only slow the test.
    h.store.transaction(() => {
      for (let i = 1; i <= size; i++) {
        const name = `host-${i}`;
        h.store.putInstance({
          instanceName: name,
          instanceArn: `arn:aws:codedeploy:us-east-1:000000000000:instance/${name}`,
          iamUserArn: `arn:aws:iam::000000000000:user/${name}`,
          registerTime: h.clock.now(),
          tags: [{ Key: 'env', Value: 'fleet' }, ...(i < GROUP ? [{ Key: 'role', Value: 'web' }] : [])],
        });
      }
    });
    await h.ok('CreateApplication', { applicationName: 'app' });
    await h.ok('CreateDeploymentGroup', { applicationName: 'app', deploymentGroupName: 'web', serviceRoleArn: ROLE, onPremisesInstanceTagFilters: [{ Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' }] });
    await h.ctx.buckets.createBucket('revisions', 0);
    const blob = await h.ctx.blobs.put(Readable.from([Buffer.from('a bundle the recording engine never opens')]));
    await h.ctx.buckets.putObject({ bucket: 'revisions', key: 'app.zip', sha256: blob.sha256, size: blob.size, etag: `"${blob.md5}"` }, 0);

    const register = await cost(h, 'RegisterOnPremisesInstance', { instanceName: 'newcomer', iamUserArn: 'arn:aws:iam::000000000000:user/newcomer' });
    const tag = await cost(h, 'AddTagsToOnPremisesInstances', { instanceNames: ['newcomer'], tags: [{ Key: 'role', Value: 'web' }] });
    const create = await cost(h, 'CreateDeployment', { applicationName: 'app', deploymentGroupName: 'web', revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'app.zip', bundleType: 'zip' } } });
    const [deploymentId] = h.engine.calls.flatMap((c) => (c.call === 'deploymentCreated' ? [c.deploymentId] : []));
    return { register, tag, create, targets: h.store.listTargets(deploymentId!).length };
  } finally {
    await h.close();
  }
}

describe('the control plane at fleet scale', () => {
  it('registers, tags and deploys to a group with as many queries and rows read on 2,000 instances as on 200', async () => {
    const small = await callsOn(200);
    const large = await callsOn(2000);
    // The group is GROUP - 1 seeded hosts and the newcomer, at either size.
    expect(small.targets).toBe(GROUP);
    expect(large).toEqual(small);
    // And a handful each: what the call changes and reads, nothing per instance of the fleet.
    for (const c of [large.register, large.tag, large.create]) expect(c.rows).toBeLessThan(25);
    for (const c of [large.register, large.tag, large.create]) expect(c.queries).toBeLessThan(40);
  }, 60_000);
});
