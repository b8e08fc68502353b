#!/usr/bin/env node
// Soak benchmark: one real `fleetdeploy-agent run --config` process against a real coordinator,
// 200 successive OneAtATime deployments to its one instance, alternating two revisions so that the
// installed files are replaced each time. Prints the agent's VmRSS after the 10th and the 200th
// deployment and the growth in % (target within 15%), plus a few points in between. Each figure is the
// median of 5 samples over a second, taken after the agent's cleanup, because VmRSS moves with GC timing.
// Run `npm run build` first. usage: node scripts/bench-soak.mjs [--deployments 200]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  AGENT_BIN,
  clients,
  createApp,
  createGroup,
  deploy,
  explain,
  fmt,
  main,
  meets,
  procCpuSeconds,
  procMem,
  registerInstances,
  sleep,
  spawnGroup,
  startCoordinator,
  tempDir,
  upload,
  waitFinished,
} from './lib/fleet-bench.mjs';

const { values } = parseArgs({ options: { deployments: { type: 'string', default: '200' } } });
const COUNT = Number(values.deployments);
const NAME = 'soak-1';
const MARKS = new Set([1, 10, 25, 50, 100, 150, COUNT]);

main(async () => {
  const work = tempDir('fd-bench-soak-');
  const coord = await startCoordinator({ dataDir: path.join(work, 'data') });
  const { cd, s3 } = clients(coord.apiUrl, coord.dataDir);
  await registerInstances(coord.apiUrl, coord.dataDir, [NAME], () => [{ Key: 'env', Value: 'soak' }]);
  await createApp(cd, s3);
  await createGroup(cd, 'soak', 'CodeDeployDefault.OneAtATime', [['env', 'soak']]);
  // Two revisions of a small bundle: 20 files, each revision with different contents.
  const bundle = (v) => {
    const files = { 'appspec.yml': 'version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/soak\n' };
    for (let i = 0; i < 20; i++) files[`site/page-${i}.html`] = `<h1>${v} page ${i}</h1>\n${'x'.repeat(2000 + i * 100)}\n`;
    return files;
  };
  await upload(s3, 'a.zip', bundle('a'));
  await upload(s3, 'b.zip', bundle('b'));

  const home = path.join(work, 'agent');
  fs.mkdirSync(path.join(home, 'root'), { recursive: true });
  fs.mkdirSync(path.join(home, 'files'), { recursive: true });
  const configFile = path.join(home, 'agent.yml');
  fs.writeFileSync(
    configFile,
    [`root_dir: ${path.join(home, 'root')}`, `log_dir: ${path.join(home, 'logs')}`, `coordinator: ${coord.agentAddress}`, `instance_name: ${NAME}`, `destination_root: ${path.join(home, 'files')}`, 'plaintext: true', ''].join('\n'),
  );
  // BENCH_AGENT_NODE_ARGS (e.g. "--heapsnapshot-signal=SIGUSR2") are passed to node for the agent.
  const agentNodeArgs = (process.env.BENCH_AGENT_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  // As an operator runs it: the installed command itself (its shebang carries the agent's Node flags),
  // unless BENCH_AGENT_NODE_ARGS asks for a node command line of its own.
  const command = agentNodeArgs.length > 0 ? [process.execPath, [...agentNodeArgs, AGENT_BIN, 'run', '--config', configFile]] : [AGENT_BIN, ['run', '--config', configFile]];
  const agent = spawnGroup(command[0], command[1], { cwd: process.env.BENCH_AGENT_CWD ?? work });
  let agentLog = '';
  const keep = (c) => (agentLog = (agentLog + c).slice(-20_000));
  agent.stdout.setEncoding('utf8').on('data', keep);
  agent.stderr.setEncoding('utf8').on('data', keep);
  void agent.exited.then(({ code, signal }) => {
    if (!agent.expectedExit) console.error(`agent exited (${code ?? signal}):\n${agentLog}`);
  });

  const rssAt = {};
  const rssRange = {};
  const t0 = Date.now();
  const times = [];
  for (let n = 1; n <= COUNT; n++) {
    if (agent.exitCode !== null || agent.signalCode !== null) throw new Error('the agent process died');
    const t = Date.now();
    const id = await deploy(cd, 'soak', n % 2 === 1 ? 'a.zip' : 'b.zip');
    const info = await waitFinished(cd, id, 60_000, 50);
    times.push(Date.now() - t);
    if (info.status !== 'Succeeded') {
      await explain(cd, info);
      throw new Error(`deployment ${n} did not succeed`);
    }
    if (MARKS.has(n)) {
      // VmRSS moves with the garbage collector's timing: sample it 5 times over a second after the
      // agent finished its cleanup, and report the median (min..max alongside).
      const samples = [];
      for (let k = 0; k < 5; k++) {
        await sleep(200);
        samples.push(procMem(agent.pid).rssMb);
      }
      samples.sort((x, y) => x - y);
      rssAt[n] = samples[2];
      rssRange[n] = `${fmt(samples[0])}..${fmt(samples[4])}`;
      if (process.env.BENCH_AGENT_SNAPSHOTS) {
        agent.kill('SIGUSR2'); // with --heapsnapshot-signal=SIGUSR2: a heap snapshot in BENCH_AGENT_CWD
        await sleep(3000);
      }
      console.log(`soak: after deployment ${String(n).padStart(3)}: agent VmRSS ${fmt(rssAt[n])} MB (${rssRange[n]}), agent CPU ${fmt(procCpuSeconds(agent.pid))} s, elapsed ${fmt((Date.now() - t0) / 1000)} s`);
    }
  }
  const growth = ((rssAt[COUNT] - rssAt[10]) / rssAt[10]) * 100;
  const sorted = [...times].sort((a, b) => a - b);
  console.log(
    `soak: ${COUNT} deployments in ${fmt((Date.now() - t0) / 1000)} s (median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms each); agent VmRSS (median of 5 samples over 1 s) after 10th ${fmt(rssAt[10])} MB, after ${COUNT}th ${fmt(rssAt[COUNT])} MB: growth ${fmt(growth)}% (target within 15%: ${meets(Math.abs(growth) <= 15)}), agent VmHWM ${fmt(procMem(agent.pid).hwmMb)} MB`,
  );
  const kept = fs.readdirSync(path.join(home, 'root')).filter((d) => d !== 'deployment-instructions' && d !== 'fleetdeploy-agent' && d !== 'deployment-logs' && d !== 'ongoing-deployment');
  for (const g of kept) console.log(`soak: deployment folders kept under the group ${g.slice(0, 8)}…: ${fs.readdirSync(path.join(home, 'root', g)).length}`);
  agent.expectedExit = true;
  return 0;
}, 10 * 60_000);
