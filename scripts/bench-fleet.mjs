#!/usr/bin/env node
// Fleet benchmark with real processes: one `fleetdeploy-coordinator serve` child, 1,000 real agent
// daemons in ~10 worker processes (scripts/bench-agents-worker.mjs), driven through the CodeDeploy
// API and the revision bucket with the AWS SDK.
//   1. connect time of 1,000 agents;
//   2. an AllAtOnce deployment of a trivial bundle to all 1,000: CreateDeployment → Succeeded
//      (target < 20 s), the coordinator's peak RSS (target < 500 MB) and CPU seconds;
//   3. a OneAtATime deployment to a 10-instance group, no hooks: CreateDeployment → Succeeded (< 3 s).
// Exits non-zero when a deployment does not succeed; prints whether targets are met.
// Run `npm run build` first. usage: node scripts/bench-fleet.mjs [--agents 1000] [--processes 10] [--agents-tmp /dev/shm]
// --agents-tmp puts the agents' root_dirs elsewhere: the agents fsync every result and crash marker,
// and 1,000 of them sharing one disk (unlike 1,000 hosts) is then what the deployment waits for.
// Set BENCH_COORDINATOR_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") to profile the coordinator.
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  RssSampler,
  clients,
  createApp,
  createGroup,
  deploy,
  explain,
  fmt,
  fsType,
  main,
  meets,
  procCpuSeconds,
  procMem,
  registerInstances,
  startCoordinator,
  startWorkers,
  tempDir,
  upload,
  waitFinished,
} from './lib/fleet-bench.mjs';

const { values } = parseArgs({
  options: { agents: { type: 'string', default: '1000' }, processes: { type: 'string', default: '10' }, 'agents-tmp': { type: 'string', default: os.tmpdir() } },
});
const N = Number(values.agents);
const PROCESSES = Number(values.processes);
const SMALL = 10;

main(async () => {
  const work = tempDir('fd-bench-fleet-');
  const nodeArgs = (process.env.BENCH_COORDINATOR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const coord = await startCoordinator({ dataDir: path.join(work, 'data'), nodeArgs });
  const { cd, s3 } = clients(coord.apiUrl, coord.dataDir);
  console.log(`coordinator pid ${coord.pid} api=${coord.apiUrl} agents=${coord.agentAddress}`);

  const names = Array.from({ length: N }, (_, i) => `bench-${i + 1}`);
  let t = Date.now();
  // bench-1..bench-10 also carry small=yes: the 10-host OneAtATime group.
  await registerInstances(cd, names, (n) => [{ Key: 'env', Value: 'bench' }, ...(Number(n.slice(6)) <= SMALL ? [{ Key: 'small', Value: 'yes' }] : [])]);
  console.log(`registered and tagged ${N} instances in ${fmt((Date.now() - t) / 1000)} s`);
  await createApp(cd, s3);
  await createGroup(cd, 'fleet', 'CodeDeployDefault.AllAtOnce', [['env', 'bench']]);
  await createGroup(cd, 'ten', 'CodeDeployDefault.OneAtATime', [['small', 'yes']]);
  // Each group installs to its own folder: a file another group installed is a file-exists conflict.
  const files = (v, dest) => ({
    'appspec.yml': `version: 0.0\nos: linux\nfiles:\n  - source: site/index.html\n    destination: ${dest}\n`,
    'site/index.html': `<h1>bench ${v}</h1>\n`,
  });
  await upload(s3, 'v1.zip', files('v1', '/srv/fleet'));
  await upload(s3, 'v2.zip', files('v2', '/srv/ten'));

  t = Date.now();
  const fleet = startWorkers({ total: N, processes: PROCESSES, prefix: 'bench-', agentAddress: coord.agentAddress, baseDir: tempDir('fd-bench-agents-', values['agents-tmp']) });
  const connectS = await fleet.waitFor((r) => r >= N, 120_000, `${N} agents Ready`);
  console.log(`fleet: agents' root_dirs under ${values['agents-tmp']} (${fsType(values['agents-tmp'])}); the coordinator's data under ${os.tmpdir()} (${fsType(os.tmpdir())})`);
  console.log(`fleet: ${N} agents in ${fleet.workers.length} processes connected (Ready) in ${fmt(connectS)} s from spawning the workers`);
  const idle = procMem(coord.pid);
  console.log(`coordinator with ${N} idle agents: RSS ${fmt(idle.rssMb, 0)} MB, CPU so far ${fmt(procCpuSeconds(coord.pid))} s`);

  let failed = false;

  // AllAtOnce to all N.
  const cpu0 = procCpuSeconds(coord.pid);
  const workersCpu = () => fleet.pids.reduce((a, pid) => a + procCpuSeconds(pid), 0);
  const wcpu0 = workersCpu();
  const rss = new RssSampler(coord.pid, 100);
  t = Date.now();
  const id = await deploy(cd, 'fleet', 'v1.zip');
  const info = await waitFinished(cd, id, 180_000, 100);
  const allS = (Date.now() - t) / 1000;
  const cpuDeploy = procCpuSeconds(coord.pid) - cpu0;
  const cpuAgents = workersCpu() - wcpu0;
  const peak = rss.stop();
  const mem = procMem(coord.pid);
  if (info.status !== 'Succeeded') {
    failed = true;
    await explain(cd, info);
  }
  console.log(
    `fleet: ${N} agents AllAtOnce: ${info.status} in ${fmt(allS)} s (target < 20 s: ${meets(allS < 20)}), coordinator peak RSS ${fmt(peak, 0)} MB sampled / VmHWM ${fmt(mem.hwmMb, 0)} MB (target < 500 MB: ${meets(mem.hwmMb < 500)}), CPU ${fmt(cpuDeploy)} s during the deployment, ${fmt(procCpuSeconds(coord.pid))} s total`,
  );

  // OneAtATime to 10.
  const cpu1 = procCpuSeconds(coord.pid);
  t = Date.now();
  const id10 = await deploy(cd, 'ten', 'v2.zip');
  const info10 = await waitFinished(cd, id10, 60_000, 100);
  const tenS = (Date.now() - t) / 1000;
  if (info10.status !== 'Succeeded') {
    failed = true;
    await explain(cd, info10);
  }
  console.log(`fleet: the agent workers used ${fmt(cpuAgents)} CPU s during the AllAtOnce deployment (2 cores shared with the coordinator: ${fmt(2 * allS)} CPU s available)`);

  console.log(`fleet: ${SMALL} hosts OneAtATime (no hooks): ${info10.status} in ${fmt(tenS, 2)} s (target < 3 s: ${meets(tenS < 3)}), coordinator CPU ${fmt(procCpuSeconds(coord.pid) - cpu1)} s`);
  const end = procMem(coord.pid);
  console.log(`coordinator at the end: RSS ${fmt(end.rssMb, 0)} MB, VmHWM ${fmt(end.hwmMb, 0)} MB, CPU ${fmt(procCpuSeconds(coord.pid))} s total`);

  // A graceful stop lets --cpu-prof write its profile.
  if (process.env.BENCH_WORKER_NODE_ARGS) await fleet.stop();
  if (nodeArgs.length > 0) {
    coord.child.kill('SIGTERM');
    await Promise.race([coord.child.exited, new Promise((r) => setTimeout(r, 10_000))]);
  }
  return failed ? 1 : 0;
}, 8 * 60_000);
