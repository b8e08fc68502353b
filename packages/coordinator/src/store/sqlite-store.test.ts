import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
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
});
