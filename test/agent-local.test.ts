/**
 * `fleetdeploy-agent local` as a user runs it: a real process, real bundles, real scripts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create as createTar } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT_CLI } from './harness/conformance-runner.js';
import { itWithTools } from './harness/system-tools.js';

let work: string;
let conf: string;

beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-local-'));
  conf = path.join(work, 'agent.yml');
  fs.writeFileSync(conf, `:root_dir: '${work}/root'\n`);
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

function bundle(files: Record<string, string>, name = 'rev'): string {
  const dir = path.join(work, name);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content, { mode: rel.endsWith('.sh') ? 0o755 : 0o644 });
  }
  return dir;
}

function local(...args: string[]) {
  const r = spawnSync(process.execPath, [AGENT_CLI, 'local', '--agent-configuration-file', conf, ...args], { cwd: work, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const appspec = (hooks: string) => `version: 0.0\nos: linux\nfiles:\n  - source: app\n    destination: DEST\n${hooks}`;

describe('fleetdeploy-agent local', () => {
  it('deploys a folder bundle, prints the deployment folder and script log, and exits 0', () => {
    const rev = bundle({ 'appspec.yml': appspec('hooks:\n  AfterInstall:\n    - location: s.sh\n').replace('DEST', `${work}/dest`), 'app/a.txt': 'A', 's.sh': '#!/bin/sh\necho hi\n' });
    const r = local('--bundle-location', rev, '--deployment-group', 'g1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`Starting to execute deployment from within folder ${work}/root/g1/d-[A-Z0-9]{9}-local`));
    expect(r.out).toMatch(/AppSpec file valid. Local deployment successful/);
    const logPath = /See the deployment log at (\S+) for more details/.exec(r.out)?.[1];
    expect(fs.readFileSync(logPath!, 'utf8')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[stdout\]hi$/m);
    expect(fs.readFileSync(`${work}/dest/a.txt`, 'utf8')).toBe('A');
  });

  itWithTools(['zip'], 'deploys tgz, tar and zip bundles', () => {
    const rev = bundle({ 'appspec.yml': appspec('').replace('DEST', `${work}/dest`), 'app/a.txt': 'A' });
    execFileSync('tar', ['-czf', `${work}/b.tgz`, '-C', rev, '.']);
    execFileSync('tar', ['-cf', `${work}/b.tar`, '-C', rev, '.']);
    execFileSync('zip', ['-qr', `${work}/b.zip`, '.'], { cwd: rev });
    for (const [file, type] of [['b.tgz', 'tgz'], ['b.tar', 'tar'], ['b.zip', 'zip']]) {
      const r = local('--bundle-location', `${work}/${file}`, '--type', type!);
      expect(r.code, r.out + r.err).toBe(0);
    }
  });

  itWithTools(['zip'], 'runs a tgz or zip of short paths without loading node:crypto or perf_hooks, which cost a short run at start', () => {
    const rev = bundle({ 'appspec.yml': appspec('').replace('DEST', `${work}/dest`), 'app/a.txt': 'A' });
    execFileSync('tar', ['-czf', `${work}/b.tgz`, '-C', rev, '.']);
    execFileSync('zip', ['-qr', `${work}/b.zip`, '.'], { cwd: rev });
    fs.writeFileSync(path.join(rev, 'app', `${'long'.repeat(20)}.txt`), 'L');
    execFileSync('tar', ['-czf', `${work}/long.tgz`, '-C', rev, '.']);
    const modulesLoaded = (file: string, type: string, name = type): string[] => {
      const probe = path.join(work, 'probe.mjs');
      const list = path.join(work, `${name}-modules.txt`);
      fs.writeFileSync(probe, `import fs from 'node:fs';\nprocess.on('exit', () => fs.writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
      const r = spawnSync(process.execPath, ['--import', probe, AGENT_CLI, 'local', '--agent-configuration-file', conf, '--bundle-location', file, '--type', type], { cwd: work, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      return fs.readFileSync(list, 'utf8').split('\n');
    };
    const tgz = modulesLoaded(`${work}/b.tgz`, 'tgz');
    expect(tgz).toContain('NativeModule zlib');
    expect(tgz).not.toContain('NativeModule crypto');
    expect(tgz).not.toContain('NativeModule perf_hooks');
    // A zip's central directory is read once, so it needs no fingerprint either.
    const zip = modulesLoaded(`${work}/b.zip`, 'zip');
    expect(zip).toContain('NativeModule zlib');
    expect(zip).not.toContain('NativeModule crypto');
    // A long path is keyed by its digest, so there the lazily loaded module does load.
    expect(modulesLoaded(`${work}/long.tgz`, 'tgz', 'long')).toContain('NativeModule crypto');
  });

  it('on a failing script: exit 1 and one paragraph with the event, script, exit code and output tail', () => {
    const rev = bundle({ 'appspec.yml': appspec('hooks:\n  ValidateService:\n    - location: check.sh\n').replace('DEST', `${work}/dest`), 'app/a.txt': 'A', 'check.sh': '#!/bin/sh\necho probing\necho "no answer on port 8080" >&2\nexit 4\n' });
    const r = local('--bundle-location', rev);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Your local deployment failed in ValidateService \(ScriptFailed\): Script at specified location: check.sh failed with exit code 4/);
    expect(r.out).toMatch(/\[stderr\]no answer on port 8080/);
    expect(r.out).toMatch(/See the deployment log at .*scripts.log/);
    expect(r.err).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('keeps max_revisions deployment folders, scripts.log included, while the deployments log gets every run', () => {
    fs.writeFileSync(conf, `:root_dir: '${work}/root'\n:max_revisions: 2\n`);
    const rev = bundle({ 'appspec.yml': appspec('hooks:\n  AfterInstall:\n    - location: s.sh\n').replace('DEST', `${work}/dest`), 'app/a.txt': 'A', 's.sh': '#!/bin/sh\necho run\n' });
    const logs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = local('--bundle-location', rev, '--deployment-group', 'g-keep');
      expect(r.code, r.out + r.err).toBe(0);
      logs.push(/See the deployment log at (\S+) for more details/.exec(r.out)![1]!);
    }
    // the two oldest went whole: bundle, archive and their scripts.log
    expect(logs.map((l) => fs.existsSync(l))).toEqual([false, false, true, true]);
    expect(fs.readdirSync(`${work}/root/g-keep`).sort()).toEqual(logs.slice(2).map((l) => path.basename(path.dirname(path.dirname(l)))).sort());
    const deployments = fs.readFileSync(`${work}/root/deployment-logs/codedeploy-agent-deployments.log`, 'utf8');
    expect(deployments.match(/\[stdout\]run$/gm)).toHaveLength(4);
  });

  it('prints ERROR: and exits 1 without a stack trace for bad options', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--type', 'rar'], /^ERROR: rar is not a valid type. Must be one of tgz,tar,zip,directory$/m],
      [['--bundle-location', `${work}/none`], /ERROR: location .*none is specified as a file or directory which does not exist/],
      [['--bundle-location', 'http://example.com/b.zip', '--type', 'zip'], /cannot be http/],
      [['--deployment-group', '../elsewhere', '--bundle-location', bundle({ 'appspec.yml': 'version: 0.0\nos: linux\n' }, 'g')], /ERROR: invalid deployment group id "..\/elsewhere"/],
      [['--events', 'ApplicationStart,DownloadBundle', '--bundle-location', bundle({ 'appspec.yml': 'version: 0.0\nos: linux\n' })], /The only events that can be specified before DownloadBundle/],
    ];
    for (const [args, message] of cases) {
      const r = local(...args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('names a configuration file that does not exist', () => {
    const r = spawnSync(process.execPath, [AGENT_CLI, 'local', '--agent-configuration-file', `${work}/nope.yml`], { cwd: work, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`ERROR: configuration file ${work}/nope.yml does not exist or is not readable`);
  });

  it('reports an invalid AppSpec with its field path', () => {
    const rev = bundle({ 'appspec.yml': 'version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - timeout: 30\n' });
    const r = local('--bundle-location', rev);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/failed in BeforeInstall \(UnknownError\): appspec: hooks\.AfterInstall\[0\]\.location: missing/);
  });

  it('runs custom events listed with --events (LC-06)', () => {
    const rev = bundle({ 'appspec.yml': appspec('hooks:\n  CustomEvent:\n    - location: c.sh\n').replace('DEST', `${work}/dest`), 'app/a.txt': 'A', 'c.sh': `#!/bin/sh\necho "$LIFECYCLE_EVENT" > ${work}/custom.txt\n` });
    const r = local('--bundle-location', rev, '--events', 'ApplicationStart,CustomEvent');
    expect(r.code, r.out).toBe(0);
    expect(fs.readFileSync(`${work}/custom.txt`, 'utf8')).toBe('CustomEvent\n');
  });
});

describe('fleetdeploy-agent local with destination_root', () => {
  const where = '#!/bin/sh\necho "${FLEETDEPLOY_DESTINATION_ROOT-unset}" > "$OUT"\n';

  it('gives hook scripts FLEETDEPLOY_DESTINATION_ROOT when the configuration sets destination_root', () => {
    const files = path.join(work, 'files');
    fs.appendFileSync(conf, `destination_root: ${files}\n`);
    const rev = bundle({ 'appspec.yml': appspec('hooks:\n  AfterInstall:\n    - location: where.sh\n').replace('DEST', '/srv/app'), 'app/a.txt': 'A', 'where.sh': where });
    const r = spawnSync(process.execPath, [AGENT_CLI, 'local', '--agent-configuration-file', conf, '--bundle-location', rev], { cwd: work, encoding: 'utf8', env: { ...process.env, OUT: `${work}/seen` } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(fs.readFileSync(`${files}/srv/app/a.txt`, 'utf8')).toBe('A');
    expect(fs.readFileSync(`${work}/seen`, 'utf8')).toBe(`${files}\n`);
  });

  it('leaves it unset without destination_root, even when the agent was started with it', () => {
    const rev = bundle({ 'appspec.yml': appspec('hooks:\n  AfterInstall:\n    - location: where.sh\n').replace('DEST', `${work}/dest`), 'app/a.txt': 'A', 'where.sh': where });
    const r = spawnSync(process.execPath, [AGENT_CLI, 'local', '--agent-configuration-file', conf, '--bundle-location', rev], { cwd: work, encoding: 'utf8', env: { ...process.env, OUT: `${work}/seen`, FLEETDEPLOY_DESTINATION_ROOT: '/stale' } });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(fs.readFileSync(`${work}/seen`, 'utf8')).toBe('unset\n');
  });
});

describe('fleetdeploy-agent local with destination_root and symbolic links in the bundle', () => {
  // app/sub/l -> ../../x stays inside the bundle (it names x at its top); the AppSpec installs app/sub
  // at DEST, so at /a the link sits one level below the root and its two steps up leave the root.
  function linkBundle(destination: string): string {
    const spec = `version: 0.0\nos: linux\nfiles:\n  - source: app/sub\n    destination: ${destination}\n`;
    const rev = bundle({ 'appspec.yml': spec, 'x': 'X', 'app/sub/f.txt': 'F' }, `rev-${destination.replaceAll('/', '_')}`);
    fs.symlinkSync('../../x', path.join(rev, 'app/sub/l'));
    return rev;
  }
  const packTgz = (rev: string): string => {
    const file = `${rev}.tgz`;
    createTar({ gzip: true, file, cwd: rev, sync: true, portable: true }, ['.']);
    return file;
  };
  const packZip = (rev: string): string => {
    // -y stores the link as a link instead of the file it points to.
    execFileSync('zip', ['-qry', `${rev}.zip`, '.'], { cwd: rev });
    return `${rev}.zip`;
  };

  itWithTools(['zip'], 'refuses a tgz or zip whose link would climb out of the root once installed, exits 1 and installs nothing', () => {
    const files = path.join(work, 'files');
    fs.appendFileSync(conf, `destination_root: ${files}\n`);
    const rev = linkBundle('/a');
    for (const [file, type] of [[packTgz(rev), 'tgz'], [packZip(rev), 'zip']] as const) {
      const r = local('--bundle-location', file, '--type', type);
      expect(r.code, r.out + r.err).toBe(1);
      expect(r.out).toContain(
        `Your local deployment failed in Install (UnknownError): the bundle's symbolic link app/sub/l -> ../../x would be installed at ${files}/a/l, from where it leads outside destination_root ${files}: its target climbs above the root`,
      );
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(files), `nothing is installed from the ${type}`).toBe(false);
    }
  });

  itWithTools(['zip'], 'installs the same link from a tgz, then a zip replacing it, where it stays inside the root', () => {
    const files = path.join(work, 'files');
    fs.appendFileSync(conf, `destination_root: ${files}\n`);
    const rev = linkBundle('/srv/a');
    for (const [file, type] of [[packTgz(rev), 'tgz'], [packZip(rev), 'zip']] as const) {
      const r = local('--bundle-location', file, '--type', type);
      expect(r.code, r.out + r.err).toBe(0);
      expect(fs.readlinkSync(`${files}/srv/a/l`)).toBe('../../x');
      expect(fs.readFileSync(`${files}/srv/a/f.txt`, 'utf8')).toBe('F');
    }
  });
});

describe('fleetdeploy-agent local --ignore-application-stop-failures', () => {
  it("carries on past a previous revision's failing ApplicationStop only when asked (RS-03)", () => {
    const spec = appspec('hooks:\n  ApplicationStop:\n    - location: stop.sh\n').replace('DEST', `${work}/dest`);
    const rev1 = bundle({ 'appspec.yml': spec, 'app/a.txt': '1', 'stop.sh': '#!/bin/sh\necho cannot stop >&2\nexit 1\n' }, 'rev1');
    const rev2 = bundle({ 'appspec.yml': spec, 'app/a.txt': '2', 'stop.sh': '#!/bin/sh\nexit 0\n' }, 'rev2');
    expect(local('--bundle-location', rev1).code).toBe(0);
    const refused = local('--bundle-location', rev2);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/failed in ApplicationStop \(ScriptFailed\)/);
    const ignored = local('--bundle-location', rev2, '--ignore-application-stop-failures');
    expect(ignored.code, ignored.out).toBe(0);
    expect(ignored.out).toMatch(/ApplicationStop\s+failed, ignored/);
    expect(fs.readFileSync(`${work}/dest/a.txt`, 'utf8')).toBe('2');
  });
});

describe('fleetdeploy-agent local --verbose', () => {
  it('logs each event as a JSON line on standard error', () => {
    const rev = bundle({ 'appspec.yml': appspec('').replace('DEST', `${work}/dest`), 'app/a.txt': 'A' });
    const r = local('--bundle-location', rev, '--verbose');
    expect(r.code).toBe(0);
    const events = r.err.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; event: string });
    expect(events.filter((e) => e.msg === 'event succeeded').map((e) => e.event)).toContain('Install');
  });
});

describe('fleetdeploy-agent local with a root_dir it cannot write', () => {
  it('says which root_dir and how to change it, before any event runs', () => {
    fs.writeFileSync(`${work}/a-file`, '');
    fs.writeFileSync(conf, `:root_dir: '${work}/a-file/root'\n`);
    const rev = bundle({ 'appspec.yml': 'version: 0.0\nos: linux\n' });
    const r = local('--bundle-location', rev);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`ERROR: cannot write to the agent's root_dir ${work}/a-file/root (set in ${conf}): ENOTDIR. Run as root, or give --agent-configuration-file a file whose root_dir you can write`);
    expect(r.out).not.toContain('Starting to execute');
  });
});
