import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDeployError } from '@fleetdeploy/shared';
import { runHookScripts } from './run-hook.js';
import { TIMESTAMP, makeSandbox } from './test-support.js';
import type { Sandbox } from './test-support.js';

let box: Sandbox;
beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(() => box.cleanup());

const env = { LIFECYCLE_EVENT: 'AfterInstall', DEPLOYMENT_ID: 'd-TEST12345' };

describe('runHookScripts', () => {
  it('HK-12: scripts.log holds the event, each script and its output in order, every line time-stamped', async () => {
    await box.script('s1.sh', '#!/bin/sh\necho one\n');
    await box.script('s2.sh', '#!/bin/sh\necho two >&2\n');
    await runHookScripts({
      event: 'AfterInstall',
      scripts: [
        { location: 's1.sh', timeout: 5 },
        { location: 's2.sh', timeout: 5 },
      ],
      archiveDir: box.archiveDir,
      env,
      log: box.log,
    });
    const lines = (await box.scriptsLog()).split('\n').filter((l) => l !== '');
    for (const l of lines) expect(l).toMatch(TIMESTAMP);
    expect(lines.map((l) => l.replace(TIMESTAMP, ''))).toEqual([
      'LifecycleEvent - AfterInstall',
      'Script - s1.sh',
      '[stdout]one',
      'Script - s2.sh',
      '[stderr]two',
    ]);
  });

  it('HK-02: stops at the first failing script and rethrows its error', async () => {
    await box.script('s1.sh', '#!/bin/sh\nexit 3\n');
    await box.script('s2.sh', `#!/bin/sh\ntouch "${box.root}/s2-ran"\n`);
    const err = await runHookScripts({
      event: 'ApplicationStart',
      scripts: [
        { location: 's1.sh', timeout: 5 },
        { location: 's2.sh', timeout: 5 },
      ],
      archiveDir: box.archiveDir,
      env,
      log: box.log,
    }).catch((e: unknown) => e);
    expect(isDeployError(err) && err.toDiagnostics()).toEqual({
      errorCode: 'ScriptFailed',
      scriptName: 's1.sh',
      message: 'Script at specified location: s1.sh failed with exit code 3',
      logTail: 'LifecycleEvent - ApplicationStart\nScript - s1.sh\n',
    });
    await expect(access(join(box.root, 's2-ran'))).rejects.toThrow();
    expect(await box.scriptsLog()).not.toContain('Script - s2.sh');
  });

  it('HK-15: an event without scripts runs nothing and creates no scripts.log', async () => {
    await runHookScripts({ event: 'BeforeInstall', scripts: [], archiveDir: box.archiveDir, env, log: box.log });
    await expect(access(join(box.root, 'logs'))).rejects.toThrow();
  });

  it('leaves scripts.log complete on disk when it returns', async () => {
    await box.script('s.sh', '#!/bin/sh\nseq 1 5000\n');
    await runHookScripts({ event: 'ValidateService', scripts: [{ location: 's.sh', timeout: 5 }], archiveDir: box.archiveDir, env, log: box.log });
    const text = await readFile(join(box.root, 'logs', 'scripts.log'), 'utf8');
    expect(text.endsWith(' [stdout]5000\n')).toBe(true);
  });
});
