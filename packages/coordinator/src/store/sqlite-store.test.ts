import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { DATABASE_FILE, openSqliteStore } from './sqlite-store.js';
import { migrate } from './migrate.js';
import { migrations } from './migrations/index.js';
import { newTarget } from '../deployment/instance-lifecycle.js';
import { deploymentRecord } from '../testing/record-builders.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fd-store-'));

describe('SQLite store', () => {
  it('keeps what was committed across a reopen, and nothing of a transaction that threw', () => {
    const dir = tmp();
    const store = openSqliteStore(dir);
    store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'InProgress' }));
    store.putTarget(newTarget('d-1', 'h2', 1));
    store.putTarget(newTarget('d-1', 'h1', 1));
    store.putCommand({ commandId: 'c1', deploymentId: 'd-1', instanceName: 'h1', lifecycleEvent: 'ApplicationStop', state: 'sent', createdAt: 1, deadlineAt: 2 });
    expect(() =>
      store.transaction(() => {
        store.putCommand({ commandId: 'c2', deploymentId: 'd-1', instanceName: 'h1', lifecycleEvent: 'DownloadBundle', state: 'pending', createdAt: 1, deadlineAt: 2 });
        throw new Error('crash in the middle');
      }),
    ).toThrow('crash');
    store.close();

    const again = openSqliteStore(dir);
    expect(again.activeDeployments().map((d) => d.deploymentId)).toEqual(['d-1']);
    expect(again.listTargets('d-1').map((t) => t.targetId)).toEqual(['h2', 'h1']); // in the order they were added
    expect(again.openCommands().map((c) => c.commandId)).toEqual(['c1']);
    again.putCommand({ ...again.getCommand('c1')!, state: 'done' });
    expect(again.openCommands('h1')).toEqual([]);
    again.close();
  });

  it('migrates a file from an older version and refuses one from a newer coordinator', () => {
    const dir = tmp();
    const db = new Database(path.join(dir, DATABASE_FILE));
    expect(migrate(db, migrations.slice(0, 1))).toEqual({ from: 0, to: 1 });
    expect(migrate(db, migrations)).toEqual({ from: 1, to: migrations.at(-1)!.version });
    db.pragma('user_version = 99');
    expect(() => migrate(db, migrations)).toThrow(/schema version 99, newer than this coordinator knows/);
    db.close();
  });

  it('indexes the instances of a file from before migration 11 by their tags, and registered ones by IAM ARN', () => {
    const dir = tmp();
    const db = new Database(path.join(dir, DATABASE_FILE));
    migrate(db, migrations.filter((m) => m.version < 11));
    const put = db.prepare('INSERT INTO instances (name, doc) VALUES (?, ?)');
    put.run('old-1', JSON.stringify({ instanceName: 'old-1', instanceArn: 'a1', iamUserArn: 'arn:aws:iam::1:user/u1', registerTime: 1, tags: [{ Key: 'role', Value: 'web' }] }));
    put.run('old-2', JSON.stringify({ instanceName: 'old-2', instanceArn: 'a2', iamUserArn: 'arn:aws:iam::1:user/u2', registerTime: 1, deregisterTime: 2, tags: [] }));
    db.close();

    const store = openSqliteStore(dir);
    expect(store.instancesTagged([{ Key: 'role', Value: 'web', Type: 'KEY_AND_VALUE' }]).map((i) => i.instanceName)).toEqual(['old-1']);
    expect(store.instancesTagged([{ Value: 'web', Type: 'VALUE_ONLY' }, { Key: 'role', Type: 'KEY_ONLY' }]).map((i) => i.instanceName)).toEqual(['old-1']);
    expect(store.registeredInstanceWithArn('iamUserArn', 'arn:aws:iam::1:user/u1')).toBe('old-1');
    expect(store.registeredInstanceWithArn('iamUserArn', 'arn:aws:iam::1:user/u2')).toBeUndefined(); // deregistered
    store.putInstance({ instanceName: 'new-1', instanceArn: 'a3', iamSessionArn: 'arn:aws:sts::1:assumed-role/r/s', registerTime: 3, tags: [] });
    expect(store.registeredInstanceWithArn('iamSessionArn', 'arn:aws:sts::1:assumed-role/r/s')).toBe('new-1');
    store.close();
  });

  it('counts the targets of a file from before migration 13 by the status in their records', () => {
    const dir = tmp();
    const db = new Database(path.join(dir, DATABASE_FILE));
    migrate(db, migrations.filter((m) => m.version < 13));
    const put = db.prepare('INSERT INTO deployment_targets (deployment_id, target_id, seq, doc) VALUES (?, ?, ?, ?)');
    put.run('d-1', 'h1', 1, JSON.stringify({ ...newTarget('d-1', 'h1', 1), status: 'Succeeded' }));
    put.run('d-1', 'h2', 2, JSON.stringify(newTarget('d-1', 'h2', 1)));
    db.close();

    const store = openSqliteStore(dir);
    expect(store.countTargets('d-1')).toEqual({ Succeeded: 1, Pending: 1 });
    expect(store.targetIdsWithStatus('d-1', ['Pending'])).toEqual(['h2']);
    store.close();
  });

  it('names the targets in given statuses from the status index alone (migration 14), without their rows', () => {
    const store = openSqliteStore(tmp());
    const plan = store.db.prepare("EXPLAIN QUERY PLAN SELECT target_id FROM deployment_targets WHERE deployment_id = ? AND status IN (?, ?)").all('d-1', 'InProgress', 'Pending') as { detail: string }[];
    expect(plan.map((p) => p.detail).join('; ')).toMatch(/USING COVERING INDEX deployment_targets_by_status/);
    store.close();
  });

  it('lists deployment ids by their columns, without reading a deployment\'s record', () => {
    const store = openSqliteStore(tmp());
    store.putDeployment(deploymentRecord({ deploymentId: 'd-1', applicationName: 'a', status: 'Succeeded' }));
    store.putDeployment(deploymentRecord({ deploymentId: 'd-2', applicationName: 'a', status: 'Failed' }));
    // The records emptied (valid JSON for the indexes over them): the ids still come from the columns,
    // so ListDeployments no longer reads and parses the whole history's records.
    store.db.prepare("UPDATE deployments SET doc = '{}'").run();
    expect(store.listDeploymentIds({})).toEqual(['d-2', 'd-1']);
    expect(store.listDeploymentIds({ applicationName: 'a', statuses: ['Failed'] })).toEqual(['d-2']);
    expect(store.listDeploymentIds({ applicationName: 'b' })).toEqual([]);
    store.close();
  });

  it('adds a deployment\'s targets in order, after any it has, and finds active deployments by group', () => {
    const store = openSqliteStore(tmp());
    store.putDeployment(deploymentRecord({ deploymentId: 'd-1', deploymentGroupId: 'g1', status: 'InProgress' }));
    store.putDeployment(deploymentRecord({ deploymentId: 'd-2', deploymentGroupId: 'g2', status: 'Succeeded' }));
    store.putTarget(newTarget('d-1', 'first', 1));
    const names = Array.from({ length: 600 }, (_, i) => `h${600 - i}`); // more than one INSERT's rows, not in name order
    const before = store.queryCount();
    store.addTargets(names.map((n) => newTarget('d-1', n, 1)));
    expect(store.queryCount() - before).toBe(4); // the deployment's last seq, then 250 + 250 + 100 rows
    expect(store.listTargets('d-1').map((t) => t.targetId)).toEqual(['first', ...names]);
    expect(store.activeDeploymentOfGroup('g1')?.deploymentId).toBe('d-1');
    expect(store.activeDeploymentOfGroup('g2')).toBeUndefined();
    expect(store.activeGroupIds()).toEqual(new Set(['g1']));
    store.close();
  });

  it('reads back a deployment it just wrote without parsing it again', () => {
    const store = openSqliteStore(tmp());
    const written = deploymentRecord({ deploymentId: 'd-1', description: 'fresh' });
    store.putDeployment(written);
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(store.getDeployment('d-1')).toBe(written);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    store.close();
  });

  it('reads back the committed deployment after a rolled-back write, and a row written before deployments had a rev', () => {
    const store = openSqliteStore(tmp());
    store.putDeployment(deploymentRecord({ deploymentId: 'd-1', description: 'committed' }));
    expect(store.getDeployment('d-1')?.description).toBe('committed');
    expect(() =>
      store.transaction(() => {
        store.putDeployment(deploymentRecord({ deploymentId: 'd-1', description: 'rolled back' }));
        expect(store.getDeployment('d-1')?.description).toBe('rolled back');
        throw new Error('crash in the middle');
      }),
    ).toThrow('crash');
    expect(store.getDeployment('d-1')?.description).toBe('committed');
    // Another writer (a row from before migration 011 has no rev): read from its document every time.
    store.db.prepare('UPDATE deployments SET rev = NULL, doc = ? WHERE id = ?').run(JSON.stringify(deploymentRecord({ deploymentId: 'd-1', description: 'old row' })), 'd-1');
    expect(store.getDeployment('d-1')?.description).toBe('old row');
    store.db.prepare('UPDATE deployments SET doc = ? WHERE id = ?').run(JSON.stringify(deploymentRecord({ deploymentId: 'd-1', description: 'changed old row' })), 'd-1');
    expect(store.getDeployment('d-1')?.description).toBe('changed old row');
    expect(store.getDeployment('d-missing')).toBeUndefined();
    store.close();
  });
});
