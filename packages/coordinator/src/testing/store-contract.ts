/**
 * The store contract: what every {@link AsyncStore} must do, as one list of tests run against each
 * implementation (SQLite through asyncSqliteStore, PostgreSQL's PgStore), so that the two stay
 * interchangeable. Call {@link defineStoreContract} inside a describe block.
 */
import { afterEach, expect, it } from 'vitest';
import type { AsyncStore } from '../store/async-store.js';
import { OutsideTransactionError, TransactionEndedError } from '../store/async-store.js';
import type { ApplicationRecord, CommandRecord, DeploymentGroupRecord, InstanceRecord, RevisionRecord } from '../store/records.js';
import { newTarget } from '../deployment/instance-lifecycle.js';
import { deploymentRecord } from './record-builders.js';

/** StoreUnderTest is a fresh, empty store and a way to open a second store on the same database. */
export interface StoreUnderTest {
  store: AsyncStore;
  /**
   * replica is another store on the same database, as a second coordinator would open it; for
   * SQLite, whose one process holds one connection, the same store.
   */
  replica(): Promise<AsyncStore>;
}

/** ContractOptions says what the implementation is expected to do beyond the common contract. */
export interface ContractOptions {
  /**
   * concurrentTransactions: two transactions may be open at once (PostgreSQL), so a conflicting
   * one is refused and run again; false where transactions take turns (SQLite).
   */
  concurrentTransactions: boolean;
}

const app = (name: string, over: Partial<ApplicationRecord> = {}): ApplicationRecord => ({ applicationId: `id-${name}`, applicationName: name, computePlatform: 'Server', createTime: 1, linkedToGitHub: false, ...over });
const instance = (name: string, over: Partial<InstanceRecord> = {}): InstanceRecord => ({ instanceName: name, instanceArn: `arn:${name}`, registerTime: 1, tags: [], ...over });
const group = (appName: string, name: string, id: string, over: Partial<DeploymentGroupRecord> = {}): DeploymentGroupRecord => ({
  applicationName: appName,
  deploymentGroupId: id,
  deploymentGroupName: name,
  deploymentConfigName: 'CodeDeployDefault.OneAtATime',
  serviceRoleArn: 'arn:role',
  onPremisesInstanceTagFilters: [],
  onPremisesTagSet: [],
  extra: {},
  ...over,
});
const revision = (appName: string, key: string, registerTime: number): RevisionRecord => ({
  applicationName: appName,
  revisionKey: key,
  revisionLocation: { revisionType: 'String', string: { content: key } },
  registerTime,
  deploymentGroups: [],
});
const command = (id: string, instanceName: string, over: Partial<CommandRecord> = {}): CommandRecord => ({ commandId: id, deploymentId: 'd-1', instanceName, lifecycleEvent: 'ApplicationStop', state: 'sent', createdAt: 1, deadlineAt: 2, ...over });

/** defineStoreContract defines the contract's tests; `open` makes a fresh, empty store for each. */
export function defineStoreContract(open: () => Promise<StoreUnderTest>, options: ContractOptions): void {
  const opened: AsyncStore[] = [];
  const fresh = async (): Promise<StoreUnderTest> => {
    const under = await open();
    opened.push(under.store);
    return {
      store: under.store,
      replica: async () => {
        const other = await under.replica();
        if (other !== under.store) opened.push(other);
        return other;
      },
    };
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('keeps applications by name, in name order; deleting one takes its groups and revisions but not its deployments', async () => {
    const { store } = await fresh();
    await store.putApplication(app('b'));
    await store.putApplication(app('a'));
    await store.putApplication(app('b', { linkedToGitHub: true }));
    expect(await store.getApplication('b')).toEqual(app('b', { linkedToGitHub: true }));
    expect(await store.getApplication('nope')).toBeUndefined();
    expect((await store.listApplications()).map((a) => a.applicationName)).toEqual(['a', 'b']);

    await store.putGroup(group('b', 'g', 'gid-1'));
    await store.putGroup(group('a', 'g', 'gid-2'));
    await store.putRevision(revision('b', 'r1', 1));
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', applicationName: 'b' }));
    await store.deleteApplication('b');
    expect(await store.getApplication('b')).toBeUndefined();
    expect(await store.getGroup('b', 'g')).toBeUndefined();
    expect(await store.listRevisions('b')).toEqual([]);
    expect((await store.getDeployment('d-1'))?.applicationName).toBe('b');
    expect((await store.listGroups()).map((g) => g.deploymentGroupId)).toEqual(['gid-2']);
  });

  it('keeps instances and configurations by name, in name order', async () => {
    const { store } = await fresh();
    await store.putInstance(instance('h2'));
    await store.putInstance(instance('h1', { tags: [{ Key: 'k', Value: 'v' }] }));
    expect((await store.listInstances()).map((i) => i.instanceName)).toEqual(['h1', 'h2']);
    expect((await store.getInstance('h1'))?.tags).toEqual([{ Key: 'k', Value: 'v' }]);
    await store.putInstance(instance('h1', { deregisterTime: 5 }));
    expect((await store.getInstance('h1'))?.deregisterTime).toBe(5);
    expect(await store.getInstance('h3')).toBeUndefined();

    const config = { deploymentConfigId: 'c', deploymentConfigName: 'Half', computePlatform: 'Server' as const, minimumHealthyHosts: { type: 'FLEET_PERCENT' as const, value: 50 }, createTime: 3 };
    await store.putConfig({ ...config, deploymentConfigName: 'Zed' });
    await store.putConfig(config);
    expect(await store.getConfig('Half')).toEqual(config);
    expect((await store.listConfigs()).map((c) => c.deploymentConfigName)).toEqual(['Half', 'Zed']);
    await store.deleteConfig('Half');
    expect(await store.getConfig('Half')).toBeUndefined();
    expect((await store.listConfigs()).map((c) => c.deploymentConfigName)).toEqual(['Zed']);
  });

  it('finds groups by name and by id, lists them per application, and renames one in place by its id', async () => {
    const { store } = await fresh();
    await store.putGroup(group('b', 'g2', 'id-3'));
    await store.putGroup(group('a', 'g2', 'id-2'));
    await store.putGroup(group('a', 'g1', 'id-1'));
    expect((await store.listGroups()).map((g) => `${g.applicationName}/${g.deploymentGroupName}`)).toEqual(['a/g1', 'a/g2', 'b/g2']);
    expect((await store.listGroups('a')).map((g) => g.deploymentGroupId)).toEqual(['id-1', 'id-2']);
    expect((await store.getGroupById('id-3'))?.applicationName).toBe('b');
    expect(await store.getGroupById('id-9')).toBeUndefined();

    await store.putGroup(group('a', 'renamed', 'id-1', { deploymentConfigName: 'Half' }));
    expect(await store.getGroup('a', 'g1')).toBeUndefined();
    expect((await store.getGroup('a', 'renamed'))?.deploymentConfigName).toBe('Half');
    expect(await store.listGroups('a')).toHaveLength(2);
    await store.deleteGroup('a', 'renamed');
    expect(await store.getGroupById('id-1')).toBeUndefined();
  });

  it('lists an application\'s revisions by registration time, then key, and updates one in place', async () => {
    const { store } = await fresh();
    await store.putRevision(revision('a', 'r-late', 20));
    await store.putRevision(revision('a', 'r-b', 10));
    await store.putRevision(revision('a', 'r-a', 10));
    await store.putRevision(revision('other', 'r-x', 1));
    expect((await store.listRevisions('a')).map((r) => r.revisionKey)).toEqual(['r-a', 'r-b', 'r-late']);
    await store.putRevision({ ...revision('a', 'r-b', 10), description: 'now described' });
    expect((await store.getRevision('a', 'r-b'))?.description).toBe('now described');
    expect(await store.getRevision('a', 'r-none')).toBeUndefined();
    expect(await store.listRevisions('a')).toHaveLength(3);
  });

  it('lists deployments newest first (in the order they were made, whatever their times) and filters them', async () => {
    const { store } = await fresh();
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', createTime: 300, applicationName: 'a', deploymentGroupName: 'g1', status: 'Succeeded' }));
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-2', createTime: 100, applicationName: 'a', deploymentGroupName: 'g2', status: 'InProgress' }));
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-3', createTime: 200, applicationName: 'b', deploymentGroupName: 'g1', status: 'Failed' }));
    // An update keeps a deployment's place.
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', createTime: 300, applicationName: 'a', deploymentGroupName: 'g1', status: 'Stopped' }));
    const ids = (q: Parameters<AsyncStore['listDeploymentIds']>[0]) => store.listDeploymentIds(q);
    expect(await ids({})).toEqual(['d-3', 'd-2', 'd-1']);
    expect(await ids({ applicationName: 'a' })).toEqual(['d-2', 'd-1']);
    expect(await ids({ applicationName: 'a', deploymentGroupName: 'g1' })).toEqual(['d-1']);
    expect(await ids({ statuses: ['Stopped', 'Failed'] })).toEqual(['d-3', 'd-1']);
    expect(await ids({ statuses: [] })).toEqual(['d-3', 'd-2', 'd-1']);
    expect(await ids({ createdAfter: 200 })).toEqual(['d-3', 'd-1']);
    expect(await ids({ createdBefore: 200 })).toEqual(['d-3', 'd-2']);
    expect(await ids({ createdAfter: 150, createdBefore: 250 })).toEqual(['d-3']);
    expect((await store.getDeployment('d-1'))?.status).toBe('Stopped');
    expect(await store.getDeployment('d-9')).toBeUndefined();
  });

  it('lists active deployments oldest first, leaving out Succeeded, Failed and Stopped', async () => {
    const { store } = await fresh();
    for (const [id, status] of [['d-1', 'InProgress'], ['d-2', 'Succeeded'], ['d-3', 'Created'], ['d-4', 'Baking'], ['d-5', 'Failed'], ['d-6', 'Ready'], ['d-7', 'Stopped'], ['d-8', 'Queued']] as const) {
      await store.putDeployment(deploymentRecord({ deploymentId: id, status }));
    }
    expect((await store.activeDeployments()).map((d) => d.deploymentId)).toEqual(['d-1', 'd-3', 'd-4', 'd-6', 'd-8']);
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Succeeded' }));
    expect((await store.activeDeployments()).map((d) => d.deploymentId)).toEqual(['d-3', 'd-4', 'd-6', 'd-8']);
  });

  it('lists a deployment\'s targets in the order they were added, an update keeping its place, and finds an instance\'s latest target', async () => {
    const { store } = await fresh();
    await store.putTarget(newTarget('d-1', 'h2', 1));
    await store.putTarget(newTarget('d-1', 'h1', 1));
    await store.putTarget(newTarget('d-2', 'h1', 2));
    await store.putTarget({ ...newTarget('d-1', 'h2', 1), status: 'Succeeded' });
    expect((await store.listTargets('d-1')).map((t) => `${t.targetId}:${t.status}`)).toEqual(['h2:Succeeded', 'h1:Pending']);
    expect((await store.getTarget('d-1', 'h2'))?.status).toBe('Succeeded');
    expect(await store.getTarget('d-1', 'h9')).toBeUndefined();
    expect((await store.lastTargetOf('h1'))?.deploymentId).toBe('d-2');
    // Updating an older target does not make its deployment the latest.
    await store.putTarget({ ...newTarget('d-1', 'h1', 1), status: 'Failed' });
    expect((await store.lastTargetOf('h1'))?.deploymentId).toBe('d-2');
    expect(await store.lastTargetOf('h9')).toBeUndefined();
    expect(await store.listTargets('d-9')).toEqual([]);
  });

  it('finds registered instances by tag filter (key and value, key only, value only), each once, by name; a deregistered or retagged one drops out', async () => {
    const { store } = await fresh();
    await store.putInstance(instance('web-2', { tags: [{ Key: 'env', Value: 'prod' }, { Key: 'role', Value: 'web' }] }));
    await store.putInstance(instance('web-1', { tags: [{ Key: 'env', Value: 'prod' }] }));
    await store.putInstance(instance('db-1', { tags: [{ Key: 'env', Value: 'test' }, { Key: 'tier', Value: 'prod' }] }));
    await store.putInstance(instance('gone', { tags: [{ Key: 'env', Value: 'prod' }], deregisterTime: 5 }));
    const names = async (...filters: Parameters<AsyncStore['instancesTagged']>[0]) => (await store.instancesTagged(filters)).map((i) => i.instanceName);
    expect(await names({ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' })).toEqual(['web-1', 'web-2']);
    expect(await names({ Key: 'env', Value: '', Type: 'KEY_ONLY' })).toEqual(['db-1', 'web-1', 'web-2']);
    expect(await names({ Key: '', Value: 'prod', Type: 'VALUE_ONLY' })).toEqual(['db-1', 'web-1', 'web-2']);
    expect(await names({ Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' }, { Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' })).toEqual(['web-1', 'web-2']);
    expect(await names({ Key: 'env', Value: 'nope', Type: 'KEY_AND_VALUE' })).toEqual([]);
    await store.putInstance(instance('web-2', { tags: [{ Key: 'env', Value: 'test' }] }));
    await store.putInstance(instance('web-1', { tags: [{ Key: 'env', Value: 'prod' }], deregisterTime: 9 }));
    expect(await names({ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' })).toEqual([]);
    expect(await names({ Key: 'env', Value: 'test', Type: 'KEY_AND_VALUE' })).toEqual(['db-1', 'web-2']);
  });

  it('registers an instance unless its name is registered or its ARN is another registered instance\'s, over a deregistered record', async () => {
    const { store } = await fresh();
    expect(await store.registerInstance(instance('a', { iamUserArn: 'arn:user/a' }))).toBe('registered');
    expect(await store.registerInstance(instance('a', { iamUserArn: 'arn:user/other' }))).toBe('nameTaken');
    expect(await store.registerInstance(instance('b', { iamUserArn: 'arn:user/a' }))).toBe('iamUserArnTaken');
    expect(await store.registerInstance(instance('s', { iamSessionArn: 'arn:session/s' }))).toBe('registered');
    expect(await store.registerInstance(instance('t', { iamSessionArn: 'arn:session/s' }))).toBe('iamSessionArnTaken');
    expect((await store.getInstance('a'))?.iamUserArn).toBe('arn:user/a');
    expect(await store.getInstance('b')).toBeUndefined();
    // Deregistered: its name and its ARN are free again, and a registration replaces the old record and its tags.
    await store.putInstance(instance('a', { iamUserArn: 'arn:user/a', tags: [{ Key: 'env', Value: 'prod' }] }));
    await store.putInstance(instance('a', { iamUserArn: 'arn:user/a', deregisterTime: 5 }));
    expect(await store.registerInstance(instance('b', { iamUserArn: 'arn:user/a' }))).toBe('registered');
    expect(await store.registerInstance(instance('a', { iamUserArn: 'arn:user/a2', registerTime: 9 }))).toBe('registered');
    expect(await store.getInstance('a')).toEqual(instance('a', { iamUserArn: 'arn:user/a2', registerTime: 9 }));
    expect((await store.instancesTagged([{ Key: 'env', Value: 'prod', Type: 'KEY_AND_VALUE' }])).map((i) => i.instanceName)).toEqual([]);
    expect(await store.registeredInstanceWithArn('iamUserArn', 'arn:user/a')).toBe('b');
  });

  it('lets one of many concurrent registrations of one ARN through, from two stores on the database', async () => {
    const under = await fresh();
    const other = await under.replica();
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? under.store : other).registerInstance(instance(`h${i}`, { iamUserArn: 'arn:user/shared' }))));
    expect(outcomes.filter((o) => o === 'registered')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'registered').every((o) => o === 'iamUserArnTaken')).toBe(true);
  });

  it('names the registered instance holding an IAM user or session ARN, never a deregistered one', async () => {
    const { store } = await fresh();
    await store.putInstance(instance('a', { iamUserArn: 'arn:user/a' }));
    await store.putInstance(instance('b', { iamSessionArn: 'arn:session/b' }));
    await store.putInstance(instance('old', { iamUserArn: 'arn:user/old', deregisterTime: 3 }));
    expect(await store.registeredInstanceWithArn('iamUserArn', 'arn:user/a')).toBe('a');
    expect(await store.registeredInstanceWithArn('iamSessionArn', 'arn:session/b')).toBe('b');
    expect(await store.registeredInstanceWithArn('iamSessionArn', 'arn:user/a')).toBeUndefined();
    expect(await store.registeredInstanceWithArn('iamUserArn', 'arn:user/old')).toBeUndefined();
  });

  it('finds a group\'s oldest active deployment and the groups with one', async () => {
    const { store } = await fresh();
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-1', deploymentGroupId: 'g1', status: 'Succeeded' }));
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-2', deploymentGroupId: 'g1', status: 'InProgress' }));
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-3', deploymentGroupId: 'g1', status: 'Queued' }));
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-4', deploymentGroupId: 'g2', status: 'Failed' }));
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-5', deploymentGroupId: 'g3', status: 'Ready' }));
    expect((await store.activeDeploymentOfGroup('g1'))?.deploymentId).toBe('d-2');
    expect(await store.activeDeploymentOfGroup('g2')).toBeUndefined();
    expect([...(await store.activeGroupIds())].sort()).toEqual(['g1', 'g3']);
    await store.putDeployment(deploymentRecord({ deploymentId: 'd-2', deploymentGroupId: 'g1', status: 'Stopped' }));
    expect((await store.activeDeploymentOfGroup('g1'))?.deploymentId).toBe('d-3');
  });

  it('stores and reads several targets at once: an update keeps its place, a new one goes after the others in the order given', async () => {
    const { store } = await fresh();
    await store.putTarget(newTarget('d-1', 'h1', 1));
    await store.putTarget(newTarget('d-1', 'h2', 1));
    await store.putTargets([newTarget('d-1', 'h4', 1), { ...newTarget('d-1', 'h1', 1), status: 'Succeeded' }, newTarget('d-1', 'h3', 1)]);
    await store.putTargets([]);
    expect((await store.listTargets('d-1')).map((t) => `${t.targetId}:${t.status}`)).toEqual(['h1:Succeeded', 'h2:Pending', 'h4:Pending', 'h3:Pending']);
    expect((await store.getTargetsOf('d-1', ['h3', 'h9', 'h1'])).map((t) => t.targetId).sort()).toEqual(['h1', 'h3']);
    expect(await store.getTargetsOf('d-2', ['h1'])).toEqual([]);
    expect(await store.getTargetsOf('d-1', [])).toEqual([]);
  });

  it('adds many targets at once in the order given, after the deployment\'s earlier ones', async () => {
    const { store } = await fresh();
    await store.putTarget(newTarget('d-1', 'first', 1));
    const many = Array.from({ length: 600 }, (_, i) => newTarget('d-1', `h-${String(599 - i).padStart(3, '0')}`, 1));
    await store.addTargets([...many, newTarget('d-2', 'other', 1)]);
    await store.addTargets([]);
    expect((await store.listTargets('d-1')).map((t) => t.targetId)).toEqual(['first', ...many.map((t) => t.targetId)]);
    expect((await store.listTargets('d-2')).map((t) => t.targetId)).toEqual(['other']);
  });

  it('counts a deployment\'s targets by status and names those in given statuses, as their records change', async () => {
    const { store } = await fresh();
    await store.addTargets(['h3', 'h1', 'h2', 'h4'].map((n) => newTarget('d-1', n, 1)));
    await store.putTarget(newTarget('d-1', 'h5', 1));
    await store.putTarget(newTarget('d-2', 'x', 1));
    await store.putTarget({ ...newTarget('d-1', 'h1', 1), status: 'InProgress' });
    await store.putTarget({ ...newTarget('d-1', 'h2', 1), status: 'Succeeded' });
    await store.putTarget({ ...newTarget('d-1', 'h4', 1), status: 'Failed' });
    expect(await store.countTargets('d-1')).toEqual({ Pending: 2, InProgress: 1, Succeeded: 1, Failed: 1 });
    expect((await store.targetIdsWithStatus('d-1', ['InProgress', 'Pending'])).sort()).toEqual(['h1', 'h3', 'h5']);
    expect(await store.targetIdsWithStatus('d-1', ['Skipped'])).toEqual([]);
    expect(await store.targetIdsWithStatus('d-1', [])).toEqual([]);
    expect(await store.countTargets('d-9')).toEqual({});
  });

  it('lists open commands in the order they were made, for all instances or one; a done command is closed', async () => {
    const { store } = await fresh();
    await store.putCommand(command('c2', 'h1'));
    await store.putCommand(command('c1', 'h2'));
    await store.putCommand(command('c3', 'h1', { state: 'pending' }));
    expect((await store.openCommands()).map((c) => c.commandId)).toEqual(['c2', 'c1', 'c3']);
    expect((await store.openCommands('h1')).map((c) => c.commandId)).toEqual(['c2', 'c3']);
    await store.putCommand(command('c2', 'h1', { state: 'done' }));
    expect((await store.openCommands()).map((c) => c.commandId)).toEqual(['c1', 'c3']);
    expect((await store.getCommand('c2'))?.state).toBe('done');
    expect(await store.getCommand('c9')).toBeUndefined();
    expect(await store.openCommands('h9')).toEqual([]);
  });

  it('reads and writes several commands at once: by id, the open ones of several instances in order, a batch of puts', async () => {
    const { store } = await fresh();
    await store.putCommands([command('c2', 'h1'), command('c1', 'h2'), command('c3', 'h1', { state: 'pending' }), command('c4', 'h3')]);
    expect((await store.openCommandsOf(['h1', 'h2'])).map((c) => c.commandId)).toEqual(['c2', 'c1', 'c3']);
    expect(await store.openCommandsOf([])).toEqual([]);
    expect((await store.getCommands(['c3', 'c9', 'c1'])).map((c) => c.commandId).sort()).toEqual(['c1', 'c3']);
    expect(await store.getCommands([])).toEqual([]);
    // A batch updates what exists (a done command closes) and adds what is new, after the existing ones.
    await store.putCommands([command('c2', 'h1', { state: 'done' }), command('c5', 'h1')]);
    expect((await store.openCommandsOf(['h1'])).map((c) => c.commandId)).toEqual(['c3', 'c5']);
    expect((await store.getCommands(['c2']))[0]?.state).toBe('done');
    await store.putCommands([]);
  });

  it('keeps agents\' reports for other replicas in the order stored, per deployment or all, until each is deleted', async () => {
    const { store } = await fresh();
    const result = { commandId: 'c2', status: 'Succeeded', diagnostics: { errorCode: 'Success', scriptName: '', message: '', logTail: '' } };
    await store.addPendingReports([{ deploymentId: 'd-1', instanceName: 'h1', commandId: 'c1', receivedAt: 5 }]);
    await store.addPendingReports([
      { deploymentId: 'd-2', instanceName: 'h2', commandId: 'c2', receivedAt: 6, result },
      { deploymentId: 'd-1', instanceName: 'h1', commandId: 'c1', receivedAt: 7, result: { ...result, commandId: 'c1' } },
    ]);
    await store.addPendingReports([]);
    const all = await store.pendingReports();
    expect(all.map((r) => [r.deploymentId, r.commandId, r.receivedAt])).toEqual([['d-1', 'c1', 5], ['d-2', 'c2', 6], ['d-1', 'c1', 7]]);
    expect(all[0]!.result).toBeUndefined();
    expect(all[1]).toEqual({ seq: all[1]!.seq, deploymentId: 'd-2', instanceName: 'h2', commandId: 'c2', receivedAt: 6, result });
    expect(all[0]!.seq < all[1]!.seq && all[1]!.seq < all[2]!.seq).toBe(true);
    expect((await store.pendingReports('d-1')).map((r) => r.receivedAt)).toEqual([5, 7]);
    // A delete names the deployment too: a row of another deployment is left alone.
    await store.deletePendingReport('d-2', all[0]!.seq);
    expect(await store.pendingReports('d-1')).toHaveLength(2);
    await store.deletePendingReport('d-1', all[0]!.seq);
    expect((await store.pendingReports()).map((r) => r.receivedAt)).toEqual([6, 7]);
    expect(await store.pendingReports('d-9')).toEqual([]);
    // Several at once, each by its deployment and seq.
    await store.deletePendingReports([{ deploymentId: 'd-2', seq: all[1]!.seq }, { deploymentId: 'd-2', seq: all[2]!.seq }]);
    expect((await store.pendingReports()).map((r) => r.receivedAt)).toEqual([7]);
    await store.deletePendingReports([]);
  });

  it('keeps instance health per group, listed by instance name', async () => {
    const { store } = await fresh();
    await store.putHealth({ deploymentGroupId: 'g1', instanceName: 'h2', health: 'Healthy' });
    await store.putHealth({ deploymentGroupId: 'g1', instanceName: 'h1', health: 'Healthy' });
    await store.putHealth({ deploymentGroupId: 'g2', instanceName: 'h1', health: 'Healthy' });
    await store.putHealth({ deploymentGroupId: 'g1', instanceName: 'h1', health: 'Unhealthy', revisionKey: 'r' });
    expect(await store.getHealth('g1', 'h1')).toEqual({ deploymentGroupId: 'g1', instanceName: 'h1', health: 'Unhealthy', revisionKey: 'r' });
    expect((await store.listHealth('g1')).map((h) => h.instanceName)).toEqual(['h1', 'h2']);
    expect(await store.getHealth('g3', 'h1')).toBeUndefined();
  });

  it('keeps resource tags in the order they were added; a put replaces them all and an empty list removes them', async () => {
    const { store } = await fresh();
    await store.putResourceTags('r1', [{ Key: 'zeta', Value: '1' }, { Key: 'alpha', Value: '2' }, { Key: 'mid', Value: '' }]);
    await store.putResourceTags('r2', [{ Key: 'only', Value: 'x' }]);
    expect(await store.getResourceTags('r1')).toEqual([{ Key: 'zeta', Value: '1' }, { Key: 'alpha', Value: '2' }, { Key: 'mid', Value: '' }]);
    await store.putResourceTags('r1', [{ Key: 'alpha', Value: '3' }]);
    expect(await store.getResourceTags('r1')).toEqual([{ Key: 'alpha', Value: '3' }]);
    await store.putResourceTags('r1', []);
    expect(await store.getResourceTags('r1')).toEqual([]);
    expect(await store.getResourceTags('r2')).toEqual([{ Key: 'only', Value: 'x' }]);
  });

  it('raises changeCount for a committed write and not for a read', async () => {
    const { store } = await fresh();
    const before = await store.changeCount();
    await store.listApplications();
    await store.getApplication('a');
    expect(await store.changeCount()).toBe(before);
    await store.transaction(async (tx) => {
      await tx.putApplication(app('a'));
      await tx.putInstance(instance('h1'));
    });
    expect(await store.changeCount()).toBe(before + 2);
    await store.putApplication(app('a'));
    expect(await store.changeCount()).toBe(before + 3);
  });

  it('commits every write of a transaction together, returns its result, and keeps nothing of one that threw', async () => {
    const { store } = await fresh();
    await expect(store.transaction(async (tx) => {
      await tx.putApplication(app('a'));
      await tx.putResourceTags('id-a', [{ Key: 'k', Value: 'v' }]);
      return 'done';
    })).resolves.toBe('done');
    await expect(
      store.transaction(async (tx) => {
        await tx.putApplication(app('b'));
        await tx.putDeployment(deploymentRecord({ deploymentId: 'd-1' }));
        await tx.putTarget(newTarget('d-1', 'h1', 1));
        await tx.putResourceTags('id-a', []);
        await tx.deleteApplication('a');
        expect(await tx.getApplication('b')).toBeDefined(); // a transaction reads its own writes
        throw new Error('crash in the middle');
      }),
    ).rejects.toThrow('crash in the middle');
    expect((await store.listApplications()).map((a) => a.applicationName)).toEqual(['a']);
    expect(await store.getDeployment('d-1')).toBeUndefined();
    expect(await store.listTargets('d-1')).toEqual([]);
    expect(await store.getResourceTags('id-a')).toEqual([{ Key: 'k', Value: 'v' }]);
  });

  it('undoes only a nested transaction that threw, keeping the outer one\'s writes', async () => {
    const { store } = await fresh();
    await store.transaction(async (tx) => {
      await tx.putApplication(app('outer'));
      await expect(
        tx.transaction(async (inner) => {
          await inner.putApplication(app('inner'));
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await tx.transaction(async (inner) => inner.putInstance(instance('h1')));
    });
    expect((await store.listApplications()).map((a) => a.applicationName)).toEqual(['outer']);
    expect(await store.getInstance('h1')).toBeDefined();
  });

  it('refuses a call on the store itself from inside a transaction body, naming the handle to use', async () => {
    const { store } = await fresh();
    let refusal: unknown;
    await store.transaction(async (tx) => {
      await tx.putApplication(app('a'));
      refusal = await store.getApplication('a').catch((err: unknown) => err);
    });
    expect(refusal).toBeInstanceOf(OutsideTransactionError);
    expect((refusal as Error).message).toMatch(/tx\.getApplication/);
    expect(await store.getApplication('a')).toBeDefined();
  });

  it('keeps both effects when two coordinators\' transactions change the same row at once', async () => {
    const { store, replica } = await fresh();
    const other = await replica();
    await store.putInstance(instance('counter', { tags: [] }));
    // Each transaction reads the record, then (on its first run, where both can be open at once)
    // waits until the other has read it too, then writes it back with its own tag added: a lost
    // update unless the engine refuses the second and the store runs it again.
    let reads = 0;
    let runs = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const addTag = (s: AsyncStore, tag: string) =>
      s.transaction(async (tx) => {
        runs++;
        const current = (await tx.getInstance('counter'))!;
        if (options.concurrentTransactions && ++reads <= 2) {
          if (reads === 2) bothRead();
          await barrier;
        }
        await tx.putInstance({ ...current, tags: [...current.tags, { Key: tag, Value: '' }] });
      });
    await Promise.all([addTag(store, 'one'), addTag(other, 'two')]);
    expect((await store.getInstance('counter'))!.tags.map((t) => t.Key).sort()).toEqual(['one', 'two']);
    // Where both were open at once, one was refused and ran again; where they take turns, neither.
    expect(runs).toBe(options.concurrentTransactions ? 3 : 2);
  });

  it('refuses a transaction handle used after its transaction ended', async () => {
    const { store } = await fresh();
    const kept = await store.transaction(async (tx) => {
      await tx.putApplication(app('a'));
      return tx;
    });
    await expect(kept.putApplication(app('late'))).rejects.toBeInstanceOf(TransactionEndedError);
    await expect(kept.getApplication('a')).rejects.toThrow(/^tx\.getApplication was called after its transaction ended/);
    await expect(kept.transaction(async (tx) => tx.putApplication(app('late')))).rejects.toBeInstanceOf(TransactionEndedError);
    expect((await store.listApplications()).map((a) => a.applicationName)).toEqual(['a']);
  });

  it('keeps every increment of many racing transactions from two coordinators', async () => {
    const { store, replica } = await fresh();
    const other = await replica();
    await store.putInstance(instance('counter', { registerTime: 0 }));
    const bump = (s: AsyncStore) =>
      s.transaction(async (tx) => {
        const current = (await tx.getInstance('counter'))!;
        await tx.putInstance({ ...current, registerTime: current.registerTime + 1 });
      });
    await Promise.all([...Array.from({ length: 5 }, () => bump(store)), ...Array.from({ length: 5 }, () => bump(other))]);
    expect((await store.getInstance('counter'))!.registerTime).toBe(10);
  });
}
