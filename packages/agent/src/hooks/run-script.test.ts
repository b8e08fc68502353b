import { access, constants, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDeployError } from '@fleetdeploy/shared';
import type { DeployError, HookScript } from '@fleetdeploy/shared';
import { runCommand } from '../process/spawn.js';
import { runScript } from './run-script.js';
import type { RunScriptOptions } from './run-script.js';
import { isRunning, killQuietly, makeSandbox, readPid } from './test-support.js';
import type { Sandbox } from './test-support.js';

let box: Sandbox;
const leftovers: number[] = [];

beforeEach(async () => {
  box = await makeSandbox();
});
afterEach(async () => {
  for (const pid of leftovers.splice(0)) killQuietly(pid);
  await box.cleanup();
});

function run(script: HookScript, extra: Partial<RunScriptOptions> = {}): Promise<void> {
  return runScript({ archiveDir: box.archiveDir, script, env: {}, log: box.log, killGraceMs: 300, ...extra });
}

async function failure(p: Promise<void>): Promise<DeployError> {
  try {
    await p;
  } catch (err) {
    if (isDeployError(err)) return err;
    throw err;
  }
  throw new Error('expected the script to fail');
}

async function logged(): Promise<string> {
  await box.log.flush();
  return box.scriptsLog();
}

describe('runScript', () => {
  it('HK-01: exit 0 succeeds and logs the script and its output', async () => {
    await box.script('ok.sh', '#!/bin/sh\necho hello\n');
    await run({ location: 'ok.sh', timeout: 5 });
    const text = await logged();
    expect(text).toMatch(/ Script - ok\.sh\n.* \[stdout\]hello\n$/);
  });

  it('HK-02: exit 3 fails with ScriptFailed, the message and the log tail', async () => {
    await box.script('fail.sh', '#!/bin/sh\necho about to fail\nexit 3\n');
    const err = await failure(run({ location: 'fail.sh', timeout: 5 }));
    expect(err.code).toBe('ScriptFailed');
    expect(err.message).toBe('Script at specified location: fail.sh failed with exit code 3');
    expect(err.scriptName).toBe('fail.sh');
    expect(err.logTail).toBe('Script - fail.sh\n[stdout]about to fail\n');
  });

  it('HK-04: a missing script is ScriptMissing with the absolute path, before anything is logged', async () => {
    const err = await failure(run({ location: 'scripts/nope.sh', timeout: 5 }));
    expect(err.code).toBe('ScriptMissing');
    expect(err.message).toBe(`Script does not exist at specified location: ${join(box.archiveDir, 'scripts/nope.sh')}`);
    expect(err.scriptName).toBe('scripts/nope.sh');
    await box.log.flush();
    await expect(access(box.log.scriptsLogPath)).rejects.toThrow();
  });

  it('HK-05: a 0644 script is made executable (u+x,g+x,o+x) and runs', async () => {
    const path = await box.script('plain.sh', '#!/bin/sh\necho ran\n', 0o644);
    await run({ location: 'plain.sh', timeout: 5 });
    expect((await stat(path)).mode & 0o7777).toBe(0o755);
    expect(await logged()).toContain('[stdout]ran\n');
  });

  it('ScriptNotExecutable when chmod fails (an immutable file: chmod is refused even to root)', async (ctx) => {
    const path = await box.script('locked.sh', '#!/bin/sh\necho never\n', 0o644);
    const locked = await runCommand('chattr', ['+i', path]);
    if (locked.code !== 0) ctx.skip(`chattr +i unsupported here: ${locked.stderr || locked.spawnError?.message}`);
    try {
      const err = await failure(run({ location: 'locked.sh', timeout: 5 }));
      expect(err.code).toBe('ScriptNotExecutable');
      expect(err.message).toBe('Unable to set script at specified location: locked.sh as executable');
      expect(err.scriptName).toBe('locked.sh');
    } finally {
      await runCommand('chattr', ['-i', path]);
    }
  });

  it('HK-06: an executable script without a shebang runs through /bin/sh', async () => {
    await box.script('noshebang.sh', 'echo "via sh: $0"\n[ -n "$BASH_VERSION" ] && echo bash || echo posix\n');
    await run({ location: 'noshebang.sh', timeout: 5 });
    const text = await logged();
    expect(text).toContain(`[stdout]via sh: ${join(box.archiveDir, 'noshebang.sh')}\n`);
  });

  it('HK-07: a timeout stops the whole two-level process tree with SIGTERM, without waiting for the grace', async () => {
    const pids = box.root;
    await box.script(
      'tree.sh',
      `#!/bin/sh
echo started
sh -c 'sleep 100 & echo $! > "${pids}/grandchild"; wait' &
echo $! > "${pids}/child"
wait
`,
    );
    const started = Date.now();
    const err = await failure(run({ location: 'tree.sh', timeout: 1 }, { killGraceMs: 5000 }));
    const elapsed = Date.now() - started;
    expect(err.code).toBe('ScriptTimedOut');
    expect(err.message).toBe('Script at specified location: tree.sh failed to complete in 1 seconds');
    expect(err.logTail).toContain('[stdout]started\n');
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
    const child = await readPid(join(pids, 'child'));
    const grandchild = await readPid(join(pids, 'grandchild'));
    leftovers.push(child, grandchild);
    expect(await isRunning(child)).toBe(false);
    expect(await isRunning(grandchild)).toBe(false);
  });

  it('divergence: SIGKILL escalation after the grace for a process group that ignores SIGTERM (agent: SIGTERM only)', async () => {
    const pids = box.root;
    await box.script(
      'stubborn.sh',
      `#!/bin/sh
trap '' TERM
echo $$ > "${pids}/main"
sleep 100 &
echo $! > "${pids}/sleeper"
wait
`,
    );
    const started = Date.now();
    const err = await failure(run({ location: 'stubborn.sh', timeout: 1 }, { killGraceMs: 400 }));
    const elapsed = Date.now() - started;
    expect(err.code).toBe('ScriptTimedOut');
    expect(elapsed).toBeGreaterThanOrEqual(1350);
    expect(elapsed).toBeLessThan(4000);
    const main = await readPid(join(pids, 'main'));
    const sleeper = await readPid(join(pids, 'sleeper'));
    leftovers.push(main, sleeper);
    expect(await isRunning(main)).toBe(false);
    expect(await isRunning(sleeper)).toBe(false);
  });

  it('HK-08: a background child holding STDOUT open fails with OutputsLeftOpen at the deadline', async () => {
    const pids = box.root;
    await box.script('leak.sh', `#!/bin/sh\nsleep 100 &\necho $! > "${pids}/bg"\necho done\n`);
    const started = Date.now();
    const err = await failure(run({ location: 'leak.sh', timeout: 2 }));
    const elapsed = Date.now() - started;
    leftovers.push(await readPid(join(pids, 'bg')));
    expect(err.code).toBe('OutputsLeftOpen');
    expect(err.message).toBe('Script at specified location: leak.sh failed to close STDOUT');
    expect(err.logTail).toContain('[stdout]done\n');
    expect(elapsed).toBeGreaterThanOrEqual(1950);
    expect(elapsed).toBeLessThan(3500);
  });

  it('OutputsLeftOpen names STDERR when only stderr is held open', async () => {
    const pids = box.root;
    await box.script('leak-err.sh', `#!/bin/sh\nsleep 100 >/dev/null &\necho $! > "${pids}/bg"\n`);
    const err = await failure(run({ location: 'leak-err.sh', timeout: 1 }));
    leftovers.push(await readPid(join(pids, 'bg')));
    expect(err.code).toBe('OutputsLeftOpen');
    expect(err.message).toBe('Script at specified location: leak-err.sh failed to close STDERR');
  });

  it('HK-09: a background child with its streams redirected does not hold the script', async () => {
    const pids = box.root;
    await box.script('daemon.sh', `#!/bin/sh\nsleep 100 > /dev/null 2>&1 < /dev/null &\necho $! > "${pids}/bg"\n`);
    const started = Date.now();
    await run({ location: 'daemon.sh', timeout: 2 });
    leftovers.push(await readPid(join(pids, 'bg')));
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('HK-10: a script killed by a signal fails with an empty exit code', async () => {
    await box.script('killed.sh', '#!/bin/sh\nkill -9 $$\n');
    const err = await failure(run({ location: 'killed.sh', timeout: 5 }));
    expect(err.code).toBe('ScriptFailed');
    expect(err.message).toBe('Script at specified location: killed.sh failed with exit code ');
  });

  it('HK-11: the script sees the agent environment plus the given variables; the cwd is inherited', async () => {
    await box.script(
      'env.sh',
      '#!/bin/sh\necho "event=$LIFECYCLE_EVENT id=$DEPLOYMENT_ID app=$APPLICATION_NAME"\necho "path=${PATH:+set}"\npwd\n',
    );
    const env = { LIFECYCLE_EVENT: 'AfterInstall', DEPLOYMENT_ID: 'd-ABC', APPLICATION_NAME: 'app' };
    await run({ location: 'env.sh', timeout: 5 }, { env });
    const text = await logged();
    expect(text).toContain('[stdout]event=AfterInstall id=d-ABC app=app\n');
    expect(text).toContain('[stdout]path=set\n');
    expect(text).toContain(`[stdout]${process.cwd()}\n`);
  });

  it('captures stdout and stderr, and a last line without a newline', async () => {
    await box.script('both.sh', '#!/bin/sh\necho out\necho err >&2\nsleep 0.1\nprintf tail\n');
    await run({ location: 'both.sh', timeout: 5 });
    const text = await logged();
    expect(text).toContain(' [stdout]out\n');
    expect(text).toContain(' [stderr]err\n');
    expect(text.endsWith(' [stdout]tail')).toBe(true);
  });

  it('HK-03: runas runs the script through su and names the user in the failure', async () => {
    await box.script('as-root.sh', '#!/bin/sh\necho "uid=$(id -u)"\nexit 1\n');
    const err = await failure(run({ location: 'as-root.sh', timeout: 5, runas: 'root' }));
    expect(err.code).toBe('ScriptFailed');
    expect(err.message).toBe('Script at specified location: as-root.sh run as user root failed with exit code 1');
    expect(err.logTail).toContain('[stdout]uid=0\n');
  });

  it('runas succeeds when the script exits 0', async () => {
    await box.script('as-root-ok.sh', '#!/bin/sh\necho fine\n');
    await run({ location: 'as-root-ok.sh', timeout: 5, runas: 'root' });
    expect(await logged()).toContain('[stdout]fine\n');
  });

  it('a program that cannot be started is ScriptFailed with the error class and message', async () => {
    await box.script('unreachable.sh', '#!/bin/sh\nexit 0\n');
    // With PATH emptied, `su` itself cannot be found: the agent's "su missing" case.
    const err = await failure(run({ location: 'unreachable.sh', timeout: 5, runas: 'root' }, { env: { PATH: '/nonexistent' } }));
    expect(err.code).toBe('ScriptFailed');
    expect(err.message).toBe(
      'Script at specified location: unreachable.sh run as user root failed with error Errno::ENOENT with message No such file or directory - su',
    );
  });

  it('cancellation stops the process group and fails with UnknownError', async () => {
    const pids = box.root;
    await box.script('long.sh', `#!/bin/sh\nsleep 100 &\necho $! > "${pids}/bg"\nwait\n`);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const err = await failure(run({ location: 'long.sh', timeout: 30 }, { signal: controller.signal }));
    expect(err.code).toBe('UnknownError');
    expect(err.message).toMatch(/^cancelled/);
    expect(err.scriptName).toBe('long.sh');
    expect(Date.now() - started).toBeLessThan(2000);
    const bg = await readPid(join(pids, 'bg'));
    leftovers.push(bg);
    expect(await isRunning(bg)).toBe(false);
  });

  it('an already aborted signal runs nothing', async () => {
    await box.script('never.sh', `#!/bin/sh\ntouch "${box.root}/ran"\n`);
    const err = await failure(run({ location: 'never.sh', timeout: 5 }, { signal: AbortSignal.abort() }));
    expect(err.code).toBe('UnknownError');
    await expect(access(join(box.root, 'ran'), constants.F_OK)).rejects.toThrow();
  });

  it('HK-13: 100 lines of 100 characters then failure keep the last 18 entries (1962 characters) as the tail', async () => {
    await box.script('chatty.sh', '#!/bin/sh\nfor i in $(seq 0 99); do printf "%02d%098d\\n" $i 0; done\nexit 1\n');
    const err = await failure(run({ location: 'chatty.sh', timeout: 10 }));
    const expected = Array.from({ length: 18 }, (_, k) => `[stdout]${String(82 + k).padStart(2, '0')}${'0'.repeat(98)}\n`);
    expect(err.logTail).toBe(expected.join(''));
    expect(err.logTail).toHaveLength(1962);
  });

  it('divergence: HK-14 one 3000-character line keeps its last 2047 characters as the tail (agent: empty); scripts.log has the whole line', async () => {
    await box.script('wide.sh', '#!/bin/sh\nprintf "%03000d\\n" 7\nexit 1\n');
    const err = await failure(run({ location: 'wide.sh', timeout: 10 }));
    const entry = `[stdout]${'0'.repeat(2999)}7\n`;
    expect(err.logTail).toBe(entry.slice(-2047));
    expect(await logged()).toContain(entry);
  });

  it('reads a large output without losing lines', async () => {
    await box.script('big.sh', '#!/bin/sh\nseq 1 20000\n');
    await run({ location: 'big.sh', timeout: 10 });
    const lines = (await logged()).split('\n').filter((l) => l.includes('[stdout]'));
    expect(lines).toHaveLength(20000);
    expect(lines[19999]).toMatch(/\[stdout\]20000$/);
  });
});

describe('runScript with unusual paths', () => {
  it('divergence: a location with a space runs, also via runas (agent: splits the unquoted path)', async () => {
    await box.script('my scripts/go.sh', '#!/bin/sh\necho spaced\n');
    await run({ location: 'my scripts/go.sh', timeout: 5 });
    await run({ location: 'my scripts/go.sh', timeout: 5, runas: 'root' });
    expect((await logged()).match(/\[stdout\]spaced\n/g)).toHaveLength(2);
  });
});
