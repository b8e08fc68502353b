import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { beginCommand, endCommand, MARKER_MAX_AGE_MS, recoverInterrupted } from './journal.js';
import { createLayout } from '../layout.js';
import type { Layout } from '../layout.js';
import { tempDir } from '../testing/fixtures.js';

let work: string;
let layout: Layout;
beforeEach(() => {
  work = tempDir('fd-journal-');
  layout = createLayout(work);
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

describe('crash markers', () => {
  it('finds nothing after a command that ended', () => {
    beginCommand(layout, 'd-1', 'cmd-1');
    endCommand(layout, 'd-1');
    expect(recoverInterrupted(layout, Date.now())).toBeUndefined();
  });

  it('fails the newest interrupted command once, after an agent restart (PR-05)', () => {
    beginCommand(layout, 'd-1', 'cmd-old');
    fs.utimesSync(path.join(layout.ongoingDeploymentDir, 'd-1'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    beginCommand(layout, 'd-2', 'cmd-new');
    expect(recoverInterrupted(layout, Date.now())).toEqual({
      deploymentId: 'd-2',
      commandId: 'cmd-new',
      diagnostics: { errorCode: 'FailedAfterRestart', scriptName: '', message: 'Failed: Failing in-progress lifecycle event after an agent restart.', logTail: '' },
    });
    expect(fs.existsSync(layout.ongoingDeploymentDir)).toBe(false);
    expect(recoverInterrupted(layout, Date.now())).toBeUndefined();
  });

  it('drops markers older than a day without reporting them (PR-06)', () => {
    beginCommand(layout, 'd-1', 'cmd-1');
    expect(recoverInterrupted(layout, Date.now() + MARKER_MAX_AGE_MS + 1000)).toBeUndefined();
    expect(fs.existsSync(layout.ongoingDeploymentDir)).toBe(false);
  });

  it('ignores a marker whose write was cut short (its command never began)', () => {
    fs.mkdirSync(layout.ongoingDeploymentDir, { recursive: true });
    fs.writeFileSync(path.join(layout.ongoingDeploymentDir, 'd-1.tmp-999'), 'cmd-hal');
    expect(recoverInterrupted(layout, Date.now())).toBeUndefined();
    expect(fs.existsSync(layout.ongoingDeploymentDir)).toBe(false);
  });
});
