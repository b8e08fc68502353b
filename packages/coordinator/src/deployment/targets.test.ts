import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { DeploymentGroupRecord, InstanceRecord } from '../store/records.js';
import type { TagFilter } from '../fleet/tag-match.js';
import { candidateFilters, findGroupInstances, groupInstances } from './targets.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-targets-'));
const store = openSqliteStore(dir);
afterAll(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const group = (filters: TagFilter[], tagSet: TagFilter[][]): DeploymentGroupRecord => ({
  applicationName: 'app',
  deploymentGroupId: 'gid',
  deploymentGroupName: 'g',
  deploymentConfigName: 'CodeDeployDefault.OneAtATime',
  serviceRoleArn: 'arn:aws:iam::000000000000:role/r',
  onPremisesInstanceTagFilters: filters,
  onPremisesTagSet: tagSet,
  extra: {},
});

// Few keys and values, so that filters match often and tag sets need several groups to agree.
const key = fc.constantFrom('env', 'role', 'zone');
const value = fc.constantFrom('a', 'b', 'c');
const filter: fc.Arbitrary<TagFilter> = fc.oneof(
  fc.record({ Type: fc.constant('KEY_AND_VALUE' as const), Key: key, Value: value }),
  fc.record({ Type: fc.constant('KEY_ONLY' as const), Key: key }),
  fc.record({ Type: fc.constant('VALUE_ONLY' as const), Value: value }),
);
const instances = fc.uniqueArray(
  fc.record({ name: fc.stringMatching(/^h[0-9]{1,3}$/), tags: fc.uniqueArray(fc.record({ Key: key, Value: value }), { selector: (t) => t.Key, maxLength: 3 }), gone: fc.boolean() }),
  { selector: (i) => i.name, maxLength: 25 },
);
const selector = fc.oneof(
  fc.array(filter, { maxLength: 4 }).map((f) => group(f, [])),
  fc.array(fc.array(filter, { maxLength: 3 }), { maxLength: 3 }).map((s) => group([], s)),
);

describe('findGroupInstances', () => {
  /** The tag index's one read, asynchronously, as findGroupInstances takes it. */
  const tagged = { instancesTagged: async (filters: readonly TagFilter[]) => store.instancesTagged(filters) };

  it('selects, through the tag index, exactly what the tag rules select over the whole fleet (filters, tag sets, deregistered hosts)', async () => {
    await fc.assert(
      fc.asyncProperty(instances, selector, async (fleet, g) => {
        store.db.exec('DELETE FROM instances; DELETE FROM instance_tags');
        store.transaction(() => {
          for (const i of fleet) {
            const record: InstanceRecord = { instanceName: i.name, instanceArn: `arn:${i.name}`, registerTime: 1, tags: i.tags, ...(i.gone ? { deregisterTime: 2 } : {}) };
            store.putInstance(record);
          }
        });
        expect(await findGroupInstances(g, tagged)).toEqual(groupInstances(g, store.listInstances()));
      }),
      { numRuns: 300 },
    );
  });

  it('follows tags as they are replaced and removed, and forgets a deregistered instance', async () => {
    store.db.exec('DELETE FROM instances; DELETE FROM instance_tags');
    const web = group([{ Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' }], []);
    const h1: InstanceRecord = { instanceName: 'h1', instanceArn: 'arn:h1', registerTime: 1, tags: [{ Key: 'role', Value: 'web' }] };
    store.putInstance(h1);
    expect((await findGroupInstances(web, tagged)).map((i) => i.instanceName)).toEqual(['h1']);
    store.putInstance({ ...h1, tags: [{ Key: 'role', Value: 'db' }] });
    expect(await findGroupInstances(web, tagged)).toEqual([]);
    store.putInstance(h1);
    store.putInstance({ ...h1, deregisterTime: 5 });
    expect(await findGroupInstances(web, tagged)).toEqual([]);
  });

  it('takes its candidates from every filter, or from the first non-empty group of a tag set, and none for an empty selector', async () => {
    const a: TagFilter = { Key: 'env', Value: 'a', Type: 'KEY_AND_VALUE' };
    const b: TagFilter = { Key: 'zone', Type: 'KEY_ONLY' };
    expect(candidateFilters({ filters: [a, b] })).toEqual([a, b]);
    expect(candidateFilters({ tagSet: [[], [b], [a]] })).toEqual([b]);
    expect(candidateFilters({ tagSet: [] })).toEqual([]);
    expect(await findGroupInstances(group([], []), tagged)).toEqual([]);
  });
});
