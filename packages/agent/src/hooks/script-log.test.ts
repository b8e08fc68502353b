import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScriptLog } from './script-log.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fd-scriptlog-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// 2024-03-05 07:08:09.045 local time: single-digit fields show the zero padding.
const fixed = (): Date => new Date(2024, 2, 5, 7, 8, 9, 45);

describe('ScriptLog', () => {
  it('writes scripts.log lines as `YYYY-MM-DD HH:MM:SS <message>` in local time', async () => {
    const log = new ScriptLog(join(dir, 'root'), 'd-ABCDEF123', null, fixed);
    log.startEvent('AfterInstall');
    log.script('scripts/s1.sh');
    log.output('stdout', 'hello\n');
    log.output('stderr', 'oops\n');
    await log.close();
    expect(await readFile(join(dir, 'root', 'logs', 'scripts.log'), 'utf8')).toBe(
      '2024-03-05 07:08:09 LifecycleEvent - AfterInstall\n' +
        '2024-03-05 07:08:09 Script - scripts/s1.sh\n' +
        '2024-03-05 07:08:09 [stdout]hello\n' +
        '2024-03-05 07:08:09 [stderr]oops\n',
    );
  });

  it('mirrors stripped messages to the deployments log as `[YYYY-MM-DD HH:MM:SS.mmm] [<id>]<message>`', async () => {
    const deploymentsLog = join(dir, 'deployment-logs', 'codedeploy-agent-deployments.log');
    const log = new ScriptLog(join(dir, 'root'), 'd-ABCDEF123', deploymentsLog, fixed);
    log.startEvent('ApplicationStart');
    log.output('stdout', '  padded\t\r\n');
    await log.close();
    expect(await readFile(deploymentsLog, 'utf8')).toBe(
      '[2024-03-05 07:08:09.045] [d-ABCDEF123]LifecycleEvent - ApplicationStart\n' +
        '[2024-03-05 07:08:09.045] [d-ABCDEF123][stdout]  padded\n',
    );
  });

  it('creates nothing until the first message', async () => {
    const deploymentsLog = join(dir, 'deployment-logs', 'codedeploy-agent-deployments.log');
    const log = new ScriptLog(join(dir, 'root'), 'd-X', deploymentsLog, fixed);
    await log.flush();
    await log.close();
    await expect(access(join(dir, 'root'))).rejects.toThrow();
    await expect(access(join(dir, 'deployment-logs'))).rejects.toThrow();
  });

  it('appends to an existing scripts.log and reopens after close', async () => {
    const root = join(dir, 'root');
    const first = new ScriptLog(root, 'd-X', null, fixed);
    first.startEvent('BeforeInstall');
    await first.close();
    first.startEvent('AfterInstall');
    await first.close();
    const second = new ScriptLog(root, 'd-X', null, fixed);
    second.startEvent('ApplicationStart');
    await second.close();
    const lines = (await readFile(first.scriptsLogPath, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => l.slice(20))).toEqual([
      'LifecycleEvent - BeforeInstall',
      'LifecycleEvent - AfterInstall',
      'LifecycleEvent - ApplicationStart',
    ]);
  });

  it('starts a fresh diagnostics tail for every event, as the agent keeps one per event', () => {
    const log = new ScriptLog(join(dir, 'root'), 'd-X', null, fixed);
    log.startEvent('BeforeInstall');
    log.output('stdout', 'old\n');
    log.startEvent('AfterInstall');
    log.output('stdout', 'new\n');
    expect(log.logTail()).toBe('LifecycleEvent - AfterInstall\n[stdout]new\n');
    return log.close();
  });

  it('reports a write failure on flush instead of throwing from the write', async () => {
    // The deployment root is a file, so the logs directory cannot be created.
    const blocker = join(dir, 'blocker');
    await import('node:fs/promises').then((fs) => fs.writeFile(blocker, ''));
    const log = new ScriptLog(blocker, 'd-X', null, fixed);
    expect(() => log.startEvent('AfterInstall')).not.toThrow();
    await expect(log.flush()).rejects.toThrow();
    await expect(log.close()).rejects.toThrow();
  });
});
