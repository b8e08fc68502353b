import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite-store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { asyncSqliteStore } from '../store/async-store.js';
import type { AsyncStore } from '../store/async-store.js';
import { deploymentRecord } from '../testing/record-builders.js';
import { cachingDeployments } from './cached-deployments.js';

describe('cachingDeployments', () => {
  let dir: string;
  let store: SqliteStore;
  let reads: number;
  let db: AsyncStore;
  /** The transaction's handle, its reads of deployments counted. */
  const counting = (tx: AsyncStore): AsyncStore => ({ ...tx, getDeployment: (id) => (reads++, tx.getDeployment(id)) });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-cached-deployments-'));
    store = openSqliteStore(path.join(dir, 'fleetdeploy.db'));
    db = asyncSqliteStore(store);
    reads = 0;
    store.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'InProgress' }));
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads a deployment once per transaction, and answers later reads with what was written through it', async () => {
    await db.transaction(async (tx) => {
      const cached = cachingDeployments(counting(tx));
      expect((await cached.getDeployment('d-1'))?.status).toBe('InProgress');
      await cached.getDeployment('d-1');
      expect(await cached.getDeployment('d-9')).toBeUndefined();
      await cached.getDeployment('d-9');
      expect(reads).toBe(2);
      await cached.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Succeeded' }));
      expect((await cached.getDeployment('d-1'))?.status).toBe('Succeeded');
      expect(reads).toBe(2);
    });
    expect(store.getDeployment('d-1')?.status).toBe('Succeeded');
  });

  it('drops its copies when a nested transaction fails: the write it made is undone, and read again', async () => {
    await db.transaction(async (tx) => {
      const cached = cachingDeployments(counting(tx));
      await cached.getDeployment('d-1');
      await expect(
        cached.transaction(async (inner) => {
          await inner.putDeployment(deploymentRecord({ deploymentId: 'd-1', status: 'Failed' }));
          expect((await inner.getDeployment('d-1'))?.status).toBe('Failed');
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect((await cached.getDeployment('d-1'))?.status).toBe('InProgress');
      expect(reads).toBe(2);
    });
  });
});
