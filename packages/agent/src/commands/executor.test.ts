import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeploymentSpec } from '@fleetdeploy/shared';
import { executeEvent } from './executor.js';
import { hookEnvironment } from './hook-env.js';
import { defaultAgentConfig } from '../config/agent-config.js';
import type { AgentConfig } from '../config/agent-config.js';
import { createLayout } from '../layout.js';
import { tempDir, writeTree } from '../testing/fixtures.js';
import type { Logger } from '../log.js';

let work: string;
let config: AgentConfig;
let out: string;
let n = 0;

beforeEach(() => {
  work = tempDir('fd-exec-');
  config = { ...defaultAgentConfig, rootDir: path.join(work, 'root'), scriptKillGraceMs: 500 };
  out = path.join(work, 'out.log');
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

/** A folder revision whose every hook appends `<event> <tag> <deployment id>` to out.log. */
function revision(tag: string, opts: { appspecName?: string; hooks?: string[]; failIn?: string } = {}): string {
  const dir = path.join(work, `rev-${tag}-${++n}`);
  const hooks = opts.hooks ?? ['ApplicationStop', 'BeforeInstall', 'AfterInstall', 'ApplicationStart', 'ValidateService'];
  const spec = ['version: 0.0', 'os: linux', 'files:', '  - source: app', `    destination: ${work}/dest`, 'hooks:',
    ...hooks.flatMap((h) => [`  ${h}:`, `    - location: scripts/hook.sh`])].join('\n');
  writeTree(dir, {
    [opts.appspecName ?? 'appspec.yml']: `${spec}\n`,
    'app/index.html': tag,
    'scripts/hook.sh': `#!/bin/sh\necho "$LIFECYCLE_EVENT ${tag} $DEPLOYMENT_ID" >> ${out}\n${opts.failIn ? `[ "$LIFECYCLE_EVENT" = ${opts.failIn} ] && exit 9\n` : ''}exit 0\n`,
  });
  fs.chmodSync(path.join(dir, 'scripts/hook.sh'), 0o755);
  return dir;
}

function spec(location: string, id: string, extra: Partial<DeploymentSpec> = {}): DeploymentSpec {
  return {
    deploymentId: id, deploymentGroupId: 'g-1', deploymentGroupName: 'Group', applicationName: 'App',
    deploymentCreator: 'user', deploymentType: 'IN_PLACE', appSpecFilename: 'appspec.yml', fileExistsBehavior: 'DISALLOW',
    revision: { type: 'LocalDirectory', location }, ...extra,
  };
}

const EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];

async function deployAll(s: DeploymentSpec) {
  for (const e of EVENTS) {
    const r = await executeEvent(e, s, { config });
    if (r.status === 'Failed') return { event: e, r };
  }
  return undefined;
}

const outLines = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').trim().split('\n') : []);

describe('executeEvent', () => {
  it('treats ApplicationStop on a first deployment as a no-op (RS-01)', async () => {
    const r = await executeEvent('ApplicationStop', spec(revision('A'), 'd-1'), { config });
    expect(r).toMatchObject({ status: 'Succeeded', noop: true });
    expect(outLines()).toEqual([]);
  });

  it("runs ApplicationStop from the previous revision with the current deployment's id and log (RS-02)", async () => {
    await deployAll(spec(revision('A'), 'd-1'));
    fs.rmSync(out);
    await deployAll(spec(revision('B'), 'd-2'));
    expect(outLines()[0]).toBe('ApplicationStop A d-2');
    expect(outLines().slice(1)).toEqual(['BeforeInstall B d-2', 'AfterInstall B d-2', 'ApplicationStart B d-2', 'ValidateService B d-2']);
    const log = fs.readFileSync(createLayout(config.rootDir).scriptsLog(path.join(config.rootDir, 'g-1', 'd-2')), 'utf8');
    expect(log).toMatch(/LifecycleEvent - ApplicationStop/);
  });

  it('takes the previous revision from the install marker even when that deployment failed later (RS-04)', async () => {
    const failed = await deployAll(spec(revision('A', { failIn: 'ValidateService' }), 'd-1'));
    expect(failed?.event).toBe('ValidateService');
    fs.rmSync(out);
    await deployAll(spec(revision('B'), 'd-2'));
    expect(outLines()[0]).toBe('ApplicationStop A d-2');
  });

  it('fails ApplicationStop when the marked revision folder is gone (RS-05)', async () => {
    await deployAll(spec(revision('A'), 'd-1'));
    fs.rmSync(path.join(config.rootDir, 'g-1', 'd-1'), { recursive: true });
    const r = await executeEvent('ApplicationStop', spec(revision('B'), 'd-2'), { config });
    expect(r.status).toBe('Failed');
    expect(r.diagnostics.message).toMatch(/did not find an AppSpec file/);
    expect(r.diagnostics.errorCode).toBe('UnknownError');
  });

  it('lets hooks find appspec.yaml as Install does (RS-08, divergence: the AWS agent fails the hook)', async () => {
    const failed = await deployAll(spec(revision('Y', { appspecName: 'appspec.yaml' }), 'd-1'));
    expect(failed).toBeUndefined();
    expect(outLines()).toContain('AfterInstall Y d-1');
  });

  it('reports a failing script with its diagnostics', async () => {
    const failed = await deployAll(spec(revision('F', { failIn: 'AfterInstall' }), 'd-1'));
    expect(failed?.event).toBe('AfterInstall');
    expect(failed?.r.diagnostics).toMatchObject({ errorCode: 'ScriptFailed', scriptName: 'scripts/hook.sh' });
    expect(failed?.r.diagnostics.message).toMatch(/failed with exit code 9/);
  });

  it('re-running DownloadBundle leaves no stale file in the archive (DL-05)', async () => {
    const loc = revision('A');
    const s = spec(loc, 'd-1');
    await executeEvent('DownloadBundle', s, { config });
    const archive = path.join(config.rootDir, 'g-1', 'd-1', 'deployment-archive');
    fs.writeFileSync(path.join(archive, 'stale.txt'), 'x');
    await executeEvent('DownloadBundle', s, { config });
    expect(fs.existsSync(path.join(archive, 'stale.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(config.rootDir, 'deployment-instructions', 'g-1_most_recent_install'), 'utf8')).toBe(path.join(config.rootDir, 'g-1', 'd-1'));
  });

  it('keeps at most max_revisions deployment folders, never the last successful install', async () => {
    config = { ...config, maxRevisions: 2 };
    for (let i = 1; i <= 4; i++) await deployAll(spec(revision(`R${i}`), `d-${i}`));
    expect(fs.readdirSync(path.join(config.rootDir, 'g-1')).sort()).toEqual(['d-3', 'd-4']);
  });

  it('refuses hooks the deployment does not allow and custom events missing from the AppSpec (LC-07, LC-08)', async () => {
    const loc = revision('A', { hooks: ['Foo'] });
    const s = spec(loc, 'd-1', { allPossibleLifecycleEvents: [...EVENTS] });
    await executeEvent('DownloadBundle', s, { config });
    expect((await executeEvent('Install', s, { config })).diagnostics.message).toBe('appspec.yml file contains unknown lifecycle events: ["Foo"]');
    const s2 = spec(revision('B'), 'd-2', { allPossibleLifecycleEvents: [...EVENTS, 'CustomEvent'] });
    await executeEvent('DownloadBundle', s2, { config });
    expect((await executeEvent('Install', s2, { config })).diagnostics.message).toMatch(/not a default one and doesn't exist in your appspec.yml file: CustomEvent/);
    // OnFailure is never a deployment's event, so it is never among them, and is allowed all the same
    const s3 = spec(revision('C', { hooks: ['AfterInstall', 'OnFailure'] }), 'd-3', { allPossibleLifecycleEvents: [...EVENTS] });
    await executeEvent('DownloadBundle', s3, { config });
    expect((await executeEvent('Install', s3, { config })).status).toBe('Succeeded');
  });

  it('says a remote revision needs a coordinator when no fetcher is given', async () => {
    const r = await executeEvent('DownloadBundle', spec('', 'd-1', { revision: { type: 'S3', bucket: 'b', key: 'k.zip', bundleType: 'zip' } }), { config });
    expect(r.diagnostics.message).toMatch(/S3 revisions need a coordinator/);
  });

  it('turns an id that could leave the root into a failed result, not a crash', async () => {
    const r = await executeEvent('DownloadBundle', spec(revision('A'), '../escape'), { config });
    expect(r.status).toBe('Failed');
    expect(r.diagnostics.message).toMatch(/invalid deployment id/);
  });
});

describe('hookEnvironment', () => {
  it('sets S3 bundle variables it knows and leaves the others unset (HK-11)', () => {
    const env = hookEnvironment('AfterInstall', spec('', 'arn:aws:codedeploy:us-east-1:111111111111:deployment/d-ABCDEFGHI', { revision: { type: 'S3', bucket: 'b', key: 'k.zip', bundleType: 'zip' } }));
    expect(env).toEqual({ LIFECYCLE_EVENT: 'AfterInstall', DEPLOYMENT_ID: 'd-ABCDEFGHI', APPLICATION_NAME: 'App', DEPLOYMENT_GROUP_NAME: 'Group', DEPLOYMENT_GROUP_ID: 'g-1', BUNDLE_BUCKET: 'b', BUNDLE_KEY: 'k.zip' });
    expect('BUNDLE_VERSION' in env).toBe(false);
  });
  it('sets BUNDLE_COMMIT for GitHub and nothing for local revisions', () => {
    expect(hookEnvironment('X', spec('', 'd-1', { revision: { type: 'GitHub', repository: 'a/b', commitId: 'abc', bundleType: 'tar' } })).BUNDLE_COMMIT).toBe('abc');
    expect(Object.keys(hookEnvironment('X', spec('/r', 'd-1'))).filter((k) => k.startsWith('BUNDLE_'))).toEqual([]);
  });
  it('sets FLEETDEPLOY_DESTINATION_ROOT to the destination_root, and removes an inherited one without it', () => {
    expect(hookEnvironment('X', spec('/r', 'd-1'), '/sim/web-1').FLEETDEPLOY_DESTINATION_ROOT).toBe('/sim/web-1');
    const env = hookEnvironment('X', spec('/r', 'd-1'));
    expect('FLEETDEPLOY_DESTINATION_ROOT' in env && env.FLEETDEPLOY_DESTINATION_ROOT === undefined).toBe(true);
  });
});

describe('executeEvent logging', () => {
  function recorder() {
    const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
    const make = (bound: object): Logger => ({
      debug: (f, m) => lines.push({ level: 'debug', fields: { ...bound, ...f }, message: m }),
      info: (f, m) => lines.push({ level: 'info', fields: { ...bound, ...f }, message: m }),
      warn: (f, m) => lines.push({ level: 'warn', fields: { ...bound, ...f }, message: m }),
      error: (f, m) => lines.push({ level: 'error', fields: { ...bound, ...f }, message: m }),
      child: (b) => make({ ...bound, ...b }),
    });
    return { lines, log: make({}) };
  }

  it('logs a script failure as a warning with its error code, bound to the deployment and event', async () => {
    const { lines, log } = recorder();
    const s = spec(revision('F', { failIn: 'BeforeInstall' }), 'd-1');
    await executeEvent('DownloadBundle', s, { config, log });
    await executeEvent('BeforeInstall', s, { config, log, commandId: 'c-7' });
    expect(lines.find((l) => l.message === 'event succeeded')?.fields).toMatchObject({ deploymentId: 'd-1', event: 'DownloadBundle', noop: false });
    expect(lines.find((l) => l.level === 'warn')).toMatchObject({ message: 'event failed', fields: { deploymentId: 'd-1', event: 'BeforeInstall', commandId: 'c-7', errorCode: 'ScriptFailed', scriptName: 'scripts/hook.sh' } });
  });

  it('logs an unexpected error with the error itself, for its stack', async () => {
    const { lines, log } = recorder();
    fs.writeFileSync(path.join(work, 'not-a-folder'), '');
    const r = await executeEvent('DownloadBundle', spec(revision('A'), 'd-1'), { config: { ...config, rootDir: path.join(work, 'not-a-folder') }, log });
    expect(r.diagnostics).toMatchObject({ errorCode: 'UnknownError', message: expect.stringMatching(/ENOTDIR/) });
    const line = lines.find((l) => l.level === 'error');
    expect(line?.message).toBe('event failed unexpectedly');
    expect(line?.fields.err).toBeInstanceOf(Error);
  });
});

describe('the OnFailure hook', () => {
  /** A revision whose AfterInstall fails (exit 9) unless told otherwise, and whose OnFailure records what it saw. */
  function failing(tag: string, opts: { onFailureExit?: number; failIn?: string } = {}): string {
    const dir = path.join(work, `rev-${tag}-${++n}`);
    writeTree(dir, {
      'appspec.yml': ['version: 0.0', 'os: linux', 'hooks:', '  AfterInstall:', '    - location: scripts/hook.sh', '  OnFailure:', '    - location: scripts/cleanup.sh', ''].join('\n'),
      'scripts/hook.sh': `#!/bin/sh\n[ "$LIFECYCLE_EVENT" = "${opts.failIn ?? 'AfterInstall'}" ] && { echo broken >&2; exit 9; }\nexit 0\n`,
      'scripts/cleanup.sh': `#!/bin/sh\necho "$LIFECYCLE_EVENT ${tag} failed=$FLEETDEPLOY_FAILED_EVENT code=$FLEETDEPLOY_FAILED_ERROR_CODE $DEPLOYMENT_ID" >> ${out}\nexit ${opts.onFailureExit ?? 0}\n`,
    });
    fs.chmodSync(path.join(dir, 'scripts/hook.sh'), 0o755);
    fs.chmodSync(path.join(dir, 'scripts/cleanup.sh'), 0o755);
    return dir;
  }

  it('runs after a failed event, from the revision that failed, and reports beside the failure it never replaces', async () => {
    const failed = await deployAll(spec(failing('A'), 'd-1'));
    expect(failed?.event).toBe('AfterInstall');
    expect(failed?.r).toMatchObject({ status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'scripts/hook.sh' }, onFailure: { status: 'Succeeded' } });
    expect(failed!.r.onFailure!.endedAtMs).toBeGreaterThanOrEqual(failed!.r.onFailure!.startedAtMs);
    expect(outLines()).toEqual(['OnFailure A failed=AfterInstall code=ScriptFailed d-1']);
  });

  it('reports a failing OnFailure with its own diagnostics, and the event still fails with its own', async () => {
    const failed = await deployAll(spec(failing('A', { onFailureExit: 4 }), 'd-1'));
    expect(failed?.r.diagnostics).toMatchObject({ errorCode: 'ScriptFailed', scriptName: 'scripts/hook.sh' });
    expect(failed?.r.onFailure).toMatchObject({ status: 'Failed', diagnostics: { errorCode: 'ScriptFailed', scriptName: 'scripts/cleanup.sh' } });
  });

  it('after DownloadBundle fails, runs the last successful install\'s OnFailure; with none, nothing runs', async () => {
    const missing = spec(path.join(work, 'no-such-revision'), 'd-0');
    const first = await executeEvent('DownloadBundle', missing, { config });
    expect(first.status).toBe('Failed');
    expect(first.onFailure).toBeUndefined(); // the group's first deployment here: no revision to take it from
    expect(await deployAll(spec(failing('A', { failIn: 'none' }), 'd-1'))).toBeUndefined();
    const later = await executeEvent('DownloadBundle', spec(path.join(work, 'no-such-revision'), 'd-2'), { config });
    expect(later).toMatchObject({ status: 'Failed', onFailure: { status: 'Succeeded' } });
    expect(outLines()).toEqual(['OnFailure A failed=DownloadBundle code=UnknownError d-2']);
  });

  it('does not run after a succeeded event, nor after a cancelled one', async () => {
    expect(await deployAll(spec(failing('A', { failIn: 'none' }), 'd-1'))).toBeUndefined();
    const controller = new AbortController();
    const slow = spec(failing('B', { failIn: 'none' }), 'd-2');
    for (const e of ['DownloadBundle', 'Install']) expect((await executeEvent(e, slow, { config })).status).toBe('Succeeded');
    controller.abort();
    const cancelled = await executeEvent('AfterInstall', slow, { config, signal: controller.signal });
    expect(cancelled.status).toBe('Failed');
    expect(cancelled.onFailure).toBeUndefined();
    expect(outLines()).toEqual([]);
  });
});
