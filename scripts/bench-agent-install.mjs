#!/usr/bin/env node
// Benchmark of the agent's install path (DESIGN.md budgets):
//   1. a 2,000-file, ~50 MB tgz installed by `fleetdeploy-agent local`, against `tar -xzf` followed by
//      `cp -a` of the same tree (the work the AWS agent's unpack-then-copy does), printed as a ratio
//      (target ≤ 1.5) with the agent's peak RSS (target ≤ 150 MB); then the same files as a zip (made
//      by Info-ZIP's `zip`, as `aws deploy push` bundles are zips) against `unzip -q` + `cp -a`
//      (target ≤ 1.3). Run twice: on the disk (/tmp), and on tmpfs (/dev/shm) where file creation is
//      cheap and the comparison is of CPU work alone. With CODEDEPLOY_AGENT_DIR set to a checkout of
//      the AWS agent (aws-codedeploy-agent, its gems installed), its `codedeploy-local` is run through
//      `ruby` on the same bundles as a third column, in the same interleaved rounds;
//   2. the agent's peak RSS installing a ~500 MB tgz (target ≤ 150 MB);
//   3. `fleetdeploy-agent local` wall time on conformance case 01 (target < 0.4 s, Node start included).
// usage: node scripts/bench-agent-install.mjs [--skip-big] [--types tgz,zip] [--runs N] [--cli <fleetdeploy-agent.js of another build>]
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
// --cli <file> times another build of the command (an earlier commit's, say) under the same conditions.
const cliArg = process.argv.indexOf('--cli');
const cli = cliArg > 0 ? path.resolve(process.argv[cliArg + 1]) : path.join(repo, 'packages/agent/bin/fleetdeploy-agent.js');
const probe = path.join(import.meta.dirname, 'lib/rss-probe.mjs');
const skipBig = process.argv.includes('--skip-big');
const typesArg = process.argv.indexOf('--types');
const types = typesArg > 0 ? process.argv[typesArg + 1].split(',') : ['tgz', 'zip'];
const awsAgentDir = process.env.CODEDEPLOY_AGENT_DIR ? path.resolve(process.env.CODEDEPLOY_AGENT_DIR) : undefined;
// Pairs per file system. This VM's speed drifts by half from minute to minute: with 9 pairs, the ratio
// of the medians and the median of the pairs of one disk run once differed by 0.45 (1.88 and 1.43).
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const made = [];

/** Writes `count` files of about `avgBytes` each (base64 of random bytes: gzip shrinks it by about a quarter). */
function makeRevision(dir, dest, count, avgBytes) {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'appspec.yml'), `version: 0.0\nos: linux\nfiles:\n  - source: data\n    destination: ${dest}\n`);
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, 'data', `d${String(i % 40).padStart(2, '0')}`);
    fs.mkdirSync(sub, { recursive: true });
    const size = Math.max(1, Math.round(avgBytes * (0.5 + ((i * 7919) % 1000) / 1000)));
    fs.writeFileSync(path.join(sub, `f${i}.dat`), crypto.randomBytes(Math.ceil((size * 3) / 4)).toString('base64').slice(0, size));
  }
}

function timeIt(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** childCpuMs is the CPU time (user + system) of every child this process has waited for, from /proc. */
function childCpuMs() {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // cutime + cstime, in USER_HZ (100)
}

/** timeWithCpu times `fn` by the wall clock and by the CPU its child processes used. */
function timeWithCpu(fn) {
  const cpu0 = childCpuMs();
  const ms = timeIt(fn);
  return { ms, cpuMs: childCpuMs() - cpu0 };
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');

function agentInstall(work, bundle, name, type = 'tgz') {
  const root = path.join(work, `${name}-root`);
  const conf = path.join(work, `${name}.yml`);
  const rssFile = path.join(work, `${name}.rss`);
  fs.writeFileSync(conf, `root_dir: ${root}\nenable_deployments_log: false\n`);
  const { ms, cpuMs } = timeWithCpu(() => {
    const r = spawnSync(process.execPath, ['--import', probe, cli, 'local', '--bundle-location', bundle, '--type', type, '--agent-configuration-file', conf], { encoding: 'utf8', env: { ...process.env, FD_RSS_FILE: rssFile } });
    if (r.status !== 0) throw new Error(`agent failed:\n${r.stdout}\n${r.stderr}`);
  });
  return { ms, cpuMs, rssMb: Number(fs.readFileSync(rssFile, 'utf8')) / 1024 };
}

/**
 * awsAgentInstall runs the AWS agent's `codedeploy-local` from CODEDEPLOY_AGENT_DIR on the bundle,
 * with its own lib folder on Ruby's load path, and an agent configuration of its Ruby-symbol keys.
 */
function awsAgentInstall(work, bundle, type) {
  const w = path.join(work, 'aws');
  fs.mkdirSync(w, { recursive: true });
  const conf = path.join(w, 'agent.yml');
  fs.writeFileSync(conf, `---\n:log_dir: '${w}/log'\n:pid_dir: '${w}/pid'\n:program_name: codedeploy-agent\n:root_dir: '${w}/root'\n:verbose: false\n:max_revisions: 5\n`);
  const args = ['-I', path.join(awsAgentDir, 'lib'), path.join(awsAgentDir, 'bin/codedeploy-local'), '--bundle-location', bundle, '--type', type, '--agent-configuration-file', conf];
  const timed = timeWithCpu(() => {
    const r = spawnSync('ruby', args, { cwd: awsAgentDir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`AWS agent failed (ruby ${args.join(' ')}):\n${r.stdout}\n${r.stderr}${r.error ? `\n${r.error.message}` : ''}`);
  });
  return { ...timed, root: path.join(w, 'root') };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const reset = (...dirs) => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
const workIn = (parent) => {
  const dir = fs.mkdtempSync(path.join(parent, 'fd-bench-'));
  made.push(dir);
  return dir;
};

/**
 * unjournaledExt4 tells whether `dir` sits on ext4 without a journal, as this VM's root does. There,
 * creating a file skips every inode of its block group freed in the last 60 s (6 min while the inode
 * table block is unwritten), at one buffer-cache lookup each: `recently_deleted()` in the kernel's
 * fs/ext4/ialloc.c. `perf` put half of `tar -xzf` + `cp -a`'s time in that scan when each run followed
 * the deletion of the previous run's 4,000 files, and the side that had just deleted its own tree paid
 * the most. The benchmark then measured its own clean-up instead of the installs.
 */
function unjournaledExt4(dir) {
  const r = spawnSync('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '-T', dir], { encoding: 'utf8' });
  const [type, source] = (r.stdout ?? '').trim().split(/\s+/);
  if (r.status !== 0 || type !== 'ext4' || !source?.startsWith('/dev/')) return false;
  const journal = path.join('/sys/fs/ext4', path.basename(fs.realpathSync(source)), 'journal_task');
  return fs.existsSync(journal) && fs.readFileSync(journal, 'utf8').trim() === '<none>';
}

/**
 * prepare makes the 2,000-file revision in a new work folder on one file system. On ext4 without a
 * journal nothing is deleted between runs: each run's output is moved aside (a rename frees no inode)
 * and removed at exit (see unjournaledExt4), and the benchmark first waits out the inodes freed
 * before it. Elsewhere each output is deleted after its run: with all 3 GB of trees kept, the agent's
 * tmpfs median was 1.24-1.44 s in four runs, against 0.69-0.93 s in four runs that deleted (likely
 * each run's files landing in memory the VM had not touched for a while).
 */
function prepare(parent, label) {
  const work = workIn(parent);
  const src = path.join(work, 'rev50');
  const destAgent = path.join(work, 'dest-agent');
  const done = path.join(work, 'done');
  fs.mkdirSync(done);
  makeRevision(src, destAgent, 2000, 25_000);
  const raw = Number(execFileSync('du', ['-sb', path.join(src, 'data')], { encoding: 'utf8' }).split('\t')[0]);
  console.log(`\n${label}: 2000 files, ${(raw / 1e6).toFixed(1)} MB unpacked`);
  const keepOutputs = unjournaledExt4(work);
  if (keepOutputs) {
    console.log('  ext4 without a journal: waiting 60 s for the inodes freed before this benchmark to stop slowing file creation');
    execFileSync('sync');
    execFileSync('sleep', ['60']);
  }
  let installed = 0;
  const putAway = (...dirs) => dirs.forEach((d) => (keepOutputs ? fs.renameSync(d, path.join(done, String(installed++))) : reset(d)));
  return { work, src, destAgent, putAway };
}

/** BUNDLES says how each bundle type is made from the revision and unpacked by the baseline. */
const BUNDLES = {
  tgz: { make: (src, bundle) => execFileSync('tar', ['-czf', bundle, '-C', src, '.']), unpack: (bundle, x) => execFileSync('tar', ['-xzf', bundle, '-C', x]), baseline: 'tar -xzf + cp -a', tool: 'tar' },
  zip: { make: (src, bundle) => execFileSync('zip', ['-qr', bundle, '.'], { cwd: src }), unpack: (bundle, x) => execFileSync('unzip', ['-q', bundle, '-d', x]), baseline: 'unzip -q + cp -a', tool: 'unzip' },
};

/**
 * compare times the agent against the baseline (unpack with tar or unzip, then cp -a) on one file
 * system for one bundle type. One warm-up round, then timed rounds, each run side by side and in
 * rotating order: this machine's disk speed drifts threefold from minute to minute, so each agent run
 * is compared with the baseline run right next to it. CPU time and the load average are printed too,
 * since other work on the machine moves the wall clock most.
 */
function compare(ctx, type) {
  const { work, src, destAgent, putAway } = ctx;
  const spec = BUNDLES[type];
  const bundle = path.join(work, `rev50.${type}`);
  spec.make(src, bundle);
  console.log(`  ${type} bundle: ${(fs.statSync(bundle).size / 1e6).toFixed(1)} MB`);
  const x = path.join(work, 'x');
  const destCp = path.join(work, 'dest-cp');
  const agentRoot = path.join(work, 'a50-root');
  const checkInstalled = (who) => {
    const files = Number(execFileSync('sh', ['-c', `find '${destAgent}' -type f | wc -l`], { encoding: 'utf8' }));
    if (files !== 2000) throw new Error(`${who} installed ${files} files, expected 2000`);
  };
  const sides = {
    base: () => {
      fs.mkdirSync(x);
      execFileSync('sync');
      const timed = timeWithCpu(() => {
        spec.unpack(bundle, x);
        execFileSync('cp', ['-a', path.join(x, 'data'), destCp]);
      });
      putAway(x, destCp);
      return timed;
    },
    agent: () => {
      execFileSync('sync');
      const timed = agentInstall(work, bundle, 'a50', type);
      checkInstalled('the agent');
      putAway(agentRoot, destAgent);
      return timed;
    },
  };
  if (awsAgentDir !== undefined) {
    sides.aws = () => {
      execFileSync('sync');
      const timed = awsAgentInstall(work, bundle, type);
      checkInstalled('the AWS agent');
      putAway(timed.root, destAgent);
      return timed;
    };
  }
  const names = Object.keys(sides);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  const loadBefore = loadAverage();
  for (let run = -1; run < RUNS; run++) {
    // Each round rotates which side goes first, so none always runs on another's leftovers (dirty
    // pages being written back, a warmer CPU cache).
    const shift = (run + names.length) % names.length;
    for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
      const timed = sides[name]();
      if (run >= 0) times[name].push(timed);
    }
  }
  const base = times.base;
  const med = (name, key = 'ms') => median(times[name].map((t) => t[key]));
  const list = (name) => times[name].map((t) => t.ms.toFixed(0)).join(', ');
  const pairRatio = (name) => median(times[name].map((t, i) => t.ms / base[i].ms));
  const cpuRatio = (name) => med(name, 'cpuMs') / med('base', 'cpuMs');
  const target = type === 'zip' ? 1.3 : 1.5;
  const pad = (text) => text.padEnd(27);
  console.log(`  ${pad(`${spec.baseline}:`)}${med('base').toFixed(0)} ms (median of ${RUNS}: ${list('base')})`);
  console.log(`  ${pad('fleetdeploy-agent local:')}${med('agent').toFixed(0)} ms (median of ${RUNS}: ${list('agent')}), Node start included`);
  if (times.aws) console.log(`  ${pad('AWS agent codedeploy-local:')}${med('aws').toFixed(0)} ms (median of ${RUNS}: ${list('aws')}), Ruby start included`);
  console.log(`  ${pad('ratio agent / baseline:')}${(med('agent') / med('base')).toFixed(2)} of the medians, ${pairRatio('agent').toFixed(2)} median of the ${RUNS} side-by-side pairs   (target ≤ ${target})`);
  if (times.aws) {
    console.log(`  ${pad('ratio AWS agent / baseline:')}${(med('aws') / med('base')).toFixed(2)} of the medians, ${pairRatio('aws').toFixed(2)} median of the pairs`);
    const faster = median(times.agent.map((t, i) => t.ms / times.aws[i].ms));
    console.log(`  ${pad('ratio agent / AWS agent:')}${(med('agent') / med('aws')).toFixed(2)} of the medians, ${faster.toFixed(2)} median of the rounds   (target < 1)`);
  }
  const awsCpu = times.aws ? `, AWS agent ${med('aws', 'cpuMs').toFixed(0)} ms (ratio ${cpuRatio('aws').toFixed(2)})` : '';
  console.log(`  ${pad('CPU time (user + system):')}baseline ${med('base', 'cpuMs').toFixed(0)} ms, agent ${med('agent', 'cpuMs').toFixed(0)} ms, ratio ${cpuRatio('agent').toFixed(2)}${awsCpu} (medians; less sensitive to other load than the wall clock)`);
  console.log(`  ${pad('agent peak RSS:')}${Math.max(...times.agent.map((a) => a.rssMb)).toFixed(0)} MB   (target ≤ 150)`);
  console.log(`  load average (1, 5, 15 min) before: ${loadBefore}, after: ${loadAverage()}   (${os.cpus().length} CPUs; above that, other work shares the machine)`);
}

/** hasTool tells whether a command is on the PATH. */
const hasTool = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** compareAll runs every requested bundle type on one file system. */
function compareAll(parent, label) {
  const ctx = prepare(parent, label);
  for (const type of types) {
    if (type === 'zip' && !(hasTool('zip') && hasTool('unzip'))) {
      console.log('  zip rows skipped: they need Info-ZIP zip and unzip (Debian packages zip, unzip)');
      continue;
    }
    compare(ctx, type);
  }
}

if (awsAgentDir !== undefined) console.log(`AWS agent column: ruby ${path.join(awsAgentDir, 'bin/codedeploy-local')}`);
else console.log('AWS agent column: not run (set CODEDEPLOY_AGENT_DIR to a checkout of aws-codedeploy-agent, with ruby and its gems installed)');

try {
  compareAll(os.tmpdir(), `disk (${os.tmpdir()})`); // any trees it kept go at exit, once nothing is timed on the disk
  if (fs.existsSync('/dev/shm')) compareAll('/dev/shm', 'tmpfs (/dev/shm)');

  const work = workIn(os.tmpdir());
  if (!skipBig) {
    const big = path.join(work, 'rev500');
    makeRevision(big, path.join(work, 'dest-big'), 200, 2_500_000);
    const bigBundle = path.join(work, 'rev500.tgz');
    execFileSync('tar', ['-I', 'gzip -1', '-cf', bigBundle, '-C', big, '.']);
    reset(big);
    const r = agentInstall(work, bigBundle, 'a500');
    console.log(`\nagent peak RSS, 500 MB:      ${r.rssMb.toFixed(0)} MB   (target ≤ 150; install took ${(r.ms / 1000).toFixed(1)} s, ${(fs.statSync(bigBundle).size / 1e6).toFixed(0)} MB tgz)`);
  }

  const caseDir = path.join(repo, 'test/fixtures/conformance/cases/01-basic/rev');
  const times = [];
  for (let run = 0; run < 5; run++) {
    const w = path.join(work, `c01-${run}`);
    fs.cpSync(caseDir, path.join(w, 'rev'), { recursive: true });
    for (const f of execFileSync('grep', ['-rl', '@', path.join(w, 'rev')], { encoding: 'utf8' }).trim().split('\n')) {
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replaceAll('@DEST@', path.join(w, 'dest')).replaceAll('@LOG@', path.join(w, 'hooks.log')));
    }
    fs.writeFileSync(path.join(w, 'agent.yml'), `:root_dir: '${w}/root'\n`);
    times.push(timeIt(() => {
      const r = spawnSync(process.execPath, [cli, 'local', '--bundle-location', path.join(w, 'rev'), '--type', 'directory', '--deployment-group', 'g-conformance', '--agent-configuration-file', path.join(w, 'agent.yml')], { cwd: w, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`case 01 failed:\n${r.stdout}\n${r.stderr}`);
    }));
  }
  console.log(`conformance case 01 wall:    ${median(times).toFixed(0)} ms median of 5 (${times.map((t) => t.toFixed(0)).join(', ')})   (target < 400)`);
} finally {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
}
