/**
 * An agent killed with SIGKILL in the middle of a hook: after the restart the event is reported as
 * FailedAfterRestart, exactly once, and never run again.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from './harness/eventually.js';

const dist = path.resolve(import.meta.dirname, '../packages/agent/dist');
let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-restart-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

describe('an agent restarted mid-event', () => {
  it('reports the interrupted event as FailedAfterRestart once and does not run it again', async () => {
    const rev = path.join(work, 'rev');
    fs.mkdirSync(path.join(rev, 'scripts'), { recursive: true });
    fs.writeFileSync(path.join(rev, 'appspec.yml'), 'version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: scripts/slow.sh\n');
    fs.writeFileSync(path.join(rev, 'scripts/slow.sh'), `#!/bin/sh\necho $$ >> ${work}/runs\nexec sleep 30\n`, { mode: 0o755 });
    const driver = path.join(work, 'driver.mjs');
    fs.writeFileSync(driver, `
      import { executeEvent } from '${dist}/commands/executor.js';
      import { defaultAgentConfig } from '${dist}/config/agent-config.js';
      const config = { ...defaultAgentConfig, rootDir: '${work}/root' };
      const spec = { deploymentId: 'd-RESTART01', deploymentGroupId: 'g-1', deploymentGroupName: 'G', applicationName: 'A',
        deploymentCreator: 'user', deploymentType: 'IN_PLACE', appSpecFilename: 'appspec.yml', fileExistsBehavior: 'DISALLOW',
        revision: { type: 'LocalDirectory', location: '${rev}' } };
      for (const e of ['DownloadBundle', 'Install']) await executeEvent(e, spec, { config });
      await executeEvent('AfterInstall', spec, { config, commandId: 'cmd-after-install' });
    `);
    const agent = spawn(process.execPath, [driver], { stdio: 'ignore' });
    const scriptPid = await eventually(() => Number(fs.readFileSync(`${work}/runs`, 'utf8').trim()), 10_000);
    agent.kill('SIGKILL');
    await new Promise((r) => agent.once('exit', r));
    process.kill(-scriptPid, 'SIGKILL'); // the orphaned script's group, as a host reboot would end it

    const { recoverInterrupted } = await import(`${dist}/state/journal.js`);
    const { createLayout } = await import(`${dist}/layout.js`);
    const layout = createLayout(`${work}/root`);
    const first = recoverInterrupted(layout, Date.now());
    expect(first).toMatchObject({ deploymentId: 'd-RESTART01', commandId: 'cmd-after-install', diagnostics: { errorCode: 'FailedAfterRestart' } });
    expect(recoverInterrupted(layout, Date.now())).toBeUndefined();
    expect(fs.readFileSync(`${work}/runs`, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
