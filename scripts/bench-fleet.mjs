#!/usr/bin/env node
// Fleet benchmark with real processes: one `fleetdeploy-coordinator serve` child, N real agent
// daemons (default 1,000) in ~10 worker processes (scripts/bench-agents-worker.mjs), driven through
// the CodeDeploy API and the revision bucket with the AWS SDK.
//   1. RegisterOnPremisesInstance + AddTags for all N;
//   2. connect time of the N agents (Ready);
//   3. up to 1,000 agents: an AllAtOnce deployment of a trivial bundle to all of them (target < 20 s);
//      from 2,000 on (a deployment takes at most 1,000 instances): min(10, N/1,000) AllAtOnce
//      deployments of 1,000 instances each, created back to back, each CreateDeployment timed
//      (target < 250 ms), until all have finished (target < 90 s for 10 × 1,000);
//   4. a OneAtATime deployment to a 10-instance group, no hooks: CreateDeployment → Succeeded (< 3 s);
//   5. the coordinator's peak RSS (VmHWM).
// At 10,000 agents it ends with the five fleet-scale figures and their targets (issue 14).
// --replicas N (issue 13) runs N coordinator replicas on one throwaway PostgreSQL database instead
// (scripts/lib/replica-set.mjs): the registrations are spread over the replicas' APIs, each agent is
// given every replica's address (it starts at a random one), and the figures are the time to connect,
// the ten deployments, each replica's peak RSS and the database's transactions per second.
// Exits non-zero when a deployment does not succeed; prints whether targets are met.
// Run `npm run build` first. usage: node scripts/bench-fleet.mjs [--agents 1000] [--processes 10] [--agents-tmp /dev/shm] [--agents-nice N] [--replicas N]
// --agents-nice N runs the agent workers at niceness N (diagnosis: the coordinator then has the CPU first,
// as it would beside agents on hosts of their own; the issue's targets are for equal shares, without it).
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
import { startReplicaSet } from './lib/replica-set.mjs';

const { values } = parseArgs({
  options: { agents: { type: 'string', default: '1000' }, processes: { type: 'string', default: '10' }, 'agents-tmp': { type: 'string', default: os.tmpdir() }, 'agents-nice': { type: 'string', default: '0' }, replicas: { type: 'string', default: '0' } },
});
const N = Number(values.agents);
const PROCESSES = Number(values.processes);
const REPLICAS = Number(values.replicas);
/** BENCH_PG_STATEMENTS=N (with --replicas): the N statements PostgreSQL spent the most time in (pg_stat_statements), for diagnosis. */
const STATEMENTS = Number(process.env.BENCH_PG_STATEMENTS ?? 0);
if (!Number.isInteger(REPLICAS) || REPLICAS < 0 || REPLICAS > 9) {
  console.error(`--replicas: expected 0 (one coordinator on SQLite) to 9, got ${values.replicas}`);
  process.exit(2);
}
const SMALL = 10;
/** SHARD instances per deployment group in the fleet-scale phase (CodeDeploy's limit per deployment is 1,000). */
const SHARD = 1000;
const SHARDS = N >= 2 * SHARD ? Math.min(10, Math.floor(N / SHARD)) : 0;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

main(async () => {
  const work = tempDir('fd-bench-fleet-');
  const nodeArgs = (process.env.BENCH_COORDINATOR_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const set = REPLICAS > 0 ? await startReplicaSet({ count: REPLICAS, nodeArgs, statements: STATEMENTS > 0 }) : undefined;
  const coord = set?.replicas[0] ?? (await startCoordinator({ dataDir: path.join(work, 'data'), nodeArgs }));
  const replicas = set?.replicas ?? [coord];
  const { cd, s3 } = clients(coord.apiUrl, coord.dataDir);
  // With replicas the deployments are created through each replica's API in turn, as behind a load
  // balancer: the replica that creates a deployment claims it first, so this spreads the driving.
  const creators = set === undefined ? [cd] : replicas.map((r) => clients(r.apiUrl, coord.dataDir).cd);
  for (const r of replicas) console.log(`coordinator pid ${r.pid} api=${r.apiUrl} agents=${r.agentAddress}${set !== undefined ? ` (one of ${REPLICAS} replicas on PostgreSQL)` : ''}`);
  // With replicas, "the coordinator" in the figures is all of them: CPU summed, memory per replica.
  const coordCpu = () => replicas.reduce((a, r) => a + procCpuSeconds(r.pid), 0);

  const names = Array.from({ length: N }, (_, i) => `bench-${i + 1}`);
  let t = Date.now();
  // bench-1..bench-10 also carry small=yes: the 10-host OneAtATime group; with shards, bench-i carries
  // shard=<(i-1) / 1,000> (the first SHARDS × 1,000 instances).
  const shardOf = (n) => Math.floor((Number(n.slice(6)) - 1) / SHARD);
  const tagsFor = (n) => [
    { Key: 'env', Value: 'bench' },
    ...(Number(n.slice(6)) <= SMALL ? [{ Key: 'small', Value: 'yes' }] : []),
    ...(shardOf(n) < SHARDS ? [{ Key: 'shard', Value: String(shardOf(n)) }] : []),
  ];
  // Spread over the replicas' APIs (signed with the first replica's admin key, trusting the shared CA).
  await Promise.all(replicas.map((r, k) => registerInstances(r.apiUrl, coord.dataDir, names.filter((_, i) => i % replicas.length === k), tagsFor)));
  const registerS = (Date.now() - t) / 1000;
  const registerCpu = coordCpu();
  console.log(`registered and tagged ${N} instances in ${fmt(registerS)} s (coordinator CPU ${fmt(registerCpu)} s, this process's ${fmt(process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6)} s)`);
  await createApp(cd, s3);
  if (SHARDS === 0) await createGroup(cd, 'fleet', 'CodeDeployDefault.AllAtOnce', [['env', 'bench']]);
  for (let k = 0; k < SHARDS; k++) await createGroup(cd, `shard-${k}`, 'CodeDeployDefault.AllAtOnce', [['shard', String(k)]]);
  await createGroup(cd, 'ten', 'CodeDeployDefault.OneAtATime', [['small', 'yes']]);
  // Each group installs to its own folder: a file another group installed is a file-exists conflict.
  const files = (v, dest) => ({
    'appspec.yml': `version: 0.0\nos: linux\nfiles:\n  - source: site/index.html\n    destination: ${dest}\n`,
    'site/index.html': `<h1>bench ${v}</h1>\n`,
  });
  await upload(s3, 'v1.zip', files('v1', '/srv/fleet'));
  await upload(s3, 'v2.zip', files('v2', '/srv/ten'));

  t = Date.now();
  const NICE = Number(values['agents-nice']);
  if (NICE !== 0) console.log(`fleet: the agent workers run at niceness ${NICE} (--agents-nice): a diagnosis of what the coordinator does with the CPU to itself; the targets are for equal shares`);
  const fleet = startWorkers({ total: N, processes: PROCESSES, prefix: 'bench-', agentAddress: set?.agentAddresses ?? coord.agentAddress, baseDir: tempDir('fd-bench-agents-', values['agents-tmp']), nice: NICE });
  const connectS = await fleet.waitFor((r) => r >= N, Math.max(120_000, N * 30), `${N} agents Ready`);
  console.log(`fleet: agents' root_dirs under ${values['agents-tmp']} (${fsType(values['agents-tmp'])}); the coordinator's data under ${os.tmpdir()} (${fsType(os.tmpdir())})`);
  const connectWorkersCpu = fleet.pids.reduce((a, pid) => a + procCpuSeconds(pid), 0);
  console.log(`fleet: ${N} agents in ${fleet.workers.length} processes connected (Ready) in ${fmt(connectS)} s from spawning the workers (the workers' CPU ${fmt(connectWorkersCpu)} s)`);
  for (const r of replicas) {
    const idle = procMem(r.pid);
    console.log(`coordinator${replicas.length > 1 ? ` ${r.pid}` : ''} with ${N} idle agents: RSS ${fmt(idle.rssMb, 0)} MB, CPU so far ${fmt(procCpuSeconds(r.pid))} s`);
  }

  let failed = false;

  // AllAtOnce to all N, or to SHARDS groups of 1,000.
  const cpu0 = coordCpu();
  const tx0 = await set?.transactions();
  const workersCpu = () => fleet.pids.reduce((a, pid) => a + procCpuSeconds(pid), 0);
  const wcpu0 = workersCpu();
  const rss = replicas.map((r) => new RssSampler(r.pid, 100));
  const groups = SHARDS === 0 ? ['fleet'] : Array.from({ length: SHARDS }, (_, k) => `shard-${k}`);
  t = Date.now();
  // Created back to back, each call timed on its own (created all at once, each would also wait for the others).
  const created = [];
  for (const [k, g] of groups.entries()) {
    const t0 = performance.now();
    const id = await deploy(creators[k % creators.length], g, 'v1.zip');
    created.push({ id, ms: performance.now() - t0 });
  }
  const createMs = created.map((c) => c.ms);
  const infos = await Promise.all(created.map((c) => waitFinished(cd, c.id, Math.max(180_000, N * 60), 250))).catch((err) => {
    console.error(`the coordinator's log (last lines):\n${coord.logs().slice(-6000)}`);
    throw err;
  });
  const allS = (Date.now() - t) / 1000;
  const cpuDeploy = coordCpu() - cpu0;
  const txPerS = set === undefined ? undefined : ((await set.transactions()) - tx0) / allS;
  const cpuAgents = workersCpu() - wcpu0;
  const peaks = rss.map((r) => r.stop());
  const peak = Math.max(...peaks);
  const mems = replicas.map((r) => procMem(r.pid));
  const mem = { hwmMb: Math.max(...mems.map((m) => m.hwmMb)) };
  for (const info of infos) {
    if (info.status !== 'Succeeded') {
      failed = true;
      await explain(cd, info);
    }
  }
  const statuses = [...new Set(infos.map((i) => i.status))].join('/');
  console.log(`fleet: CreateDeployment of ${groups.length} × ${SHARDS === 0 ? N : SHARD} instances, created back to back: median ${fmt(median(createMs), 0)} ms, max ${fmt(Math.max(...createMs), 0)} ms (each: ${createMs.map((ms) => fmt(ms, 0)).join(', ')})`);
  if (SHARDS === 0) {
    console.log(
      `fleet: ${N} agents AllAtOnce: ${statuses} in ${fmt(allS)} s (target < 20 s: ${meets(allS < 20)}), coordinator peak RSS ${fmt(peak, 0)} MB sampled / VmHWM ${fmt(mem.hwmMb, 0)} MB (target < 500 MB: ${meets(mem.hwmMb < 500)}), CPU ${fmt(cpuDeploy)} s during the deployment, ${fmt(coordCpu())} s total`,
    );
  } else {
    console.log(
      `fleet: ${SHARDS} × ${SHARD} AllAtOnce deployments: ${statuses}, all finished in ${fmt(allS)} s, coordinator peak RSS ${fmt(peak, 0)} MB sampled / VmHWM ${fmt(mem.hwmMb, 0)} MB, CPU ${fmt(cpuDeploy)} s during the deployments, ${fmt(coordCpu())} s total`,
    );
  }
  if (set !== undefined) {
    console.log(`fleet: ${REPLICAS} replicas' VmHWM ${mems.map((m) => fmt(m.hwmMb, 0)).join(', ')} MB; PostgreSQL ${fmt(txPerS, 0)} transactions/s during the deployments, its server processes ${fmt(set.serverCpuSeconds())} CPU s so far`);
    for (const by of STATEMENTS > 0 ? ['time', 'calls'] : []) {
      console.log(`fleet: the ${STATEMENTS} statements PostgreSQL ${by === 'time' ? 'spent the most time in' : 'ran the most'}:`);
      for (const s of await set.topStatements(STATEMENTS, by)) console.log(`fleet: statement ${String(s.ms).padStart(7)} ms ${String(s.calls).padStart(8)} calls ${String(s.rows).padStart(9)} rows  ${s.q}`);
    }
  }

  // OneAtATime to 10.
  const cpu1 = coordCpu();
  t = Date.now();
  const id10 = await deploy(cd, 'ten', 'v2.zip');
  const info10 = await waitFinished(cd, id10, 60_000, 100);
  const tenS = (Date.now() - t) / 1000;
  if (info10.status !== 'Succeeded') {
    failed = true;
    await explain(cd, info10);
  }
  console.log(`fleet: the agent workers used ${fmt(cpuAgents)} CPU s during the AllAtOnce deployment (2 cores shared with the coordinator: ${fmt(2 * allS)} CPU s available)`);

  console.log(`fleet: ${SMALL} hosts OneAtATime (no hooks): ${info10.status} in ${fmt(tenS, 2)} s (target < 3 s: ${meets(tenS < 3)}), coordinator CPU ${fmt(coordCpu() - cpu1)} s`);
  const ends = replicas.map((r) => procMem(r.pid));
  const end = { hwmMb: Math.max(...ends.map((m) => m.hwmMb)) };
  for (const [k, m] of ends.entries()) console.log(`coordinator${replicas.length > 1 ? ` ${replicas[k].pid}` : ''} at the end: RSS ${fmt(m.rssMb, 0)} MB, VmHWM ${fmt(m.hwmMb, 0)} MB, CPU ${fmt(procCpuSeconds(replicas[k].pid))} s total`);

  if (set !== undefined) {
    // The figures of issue 13: 10,000 agents deployed in under 60 s, every replica under 1 GB.
    console.log(`figures at ${N} agents on ${REPLICAS} replicas${N === 10_000 ? ' (targets for 10,000 on 2 cores)' : ''}:`);
    console.log(`  1. agents Ready:                   ${fmt(connectS)} s (registration ${fmt(registerS)} s)`);
    console.log(`  2. ${groups.length} × ${SHARDS === 0 ? N : SHARD} AllAtOnce finished:    ${fmt(allS)} s${N === 10_000 ? ` target < 60 s (${meets(allS < 60)})` : ''}`);
    console.log(`  3. peak RSS per replica (VmHWM):   ${ends.map((m) => fmt(m.hwmMb, 0)).join(', ')} MB target < 1024 MB (${meets(end.hwmMb < 1024)})`);
    console.log(`  4. PostgreSQL transactions/s:      ${fmt(txPerS, 0)} during the deployments`);
    console.log(`  5. CreateDeployment (max of ${groups.length}):     ${fmt(Math.max(...createMs), 0)} ms`);
    await stopForProfiles();
    return failed ? 1 : 0;
  }

  // The fleet-scale figures (issue 14); the targets are those for 10,000 agents on a 2-core machine.
  console.log(`figures at ${N} agents${N === 10_000 ? ' (targets for 10,000 on 2 cores)' : ''}:`);
  const target = (ok) => (N === 10_000 ? ` (${meets(ok)})` : '');
  console.log(`  1. registrations with tags:        ${fmt(registerS)} s${N === 10_000 ? ' target < 15 s' : ''}${target(registerS < 15)}`);
  console.log(`  2. agents Ready:                   ${fmt(connectS)} s${N === 10_000 ? ' target < 60 s' : ''}${target(connectS < 60)}`);
  console.log(`  3. CreateDeployment (max of ${groups.length}):     ${fmt(Math.max(...createMs), 0)} ms target < 250 ms (${meets(Math.max(...createMs) < 250)})`);
  console.log(`  4. ${groups.length} × ${SHARDS === 0 ? N : SHARD} AllAtOnce finished:    ${fmt(allS)} s${N === 10_000 ? ' target < 90 s' : ''}${target(allS < 90)}`);
  console.log(`  5. coordinator peak RSS (VmHWM):   ${fmt(end.hwmMb, 0)} MB target < 800 MB (${meets(end.hwmMb < 800)})`);

  await stopForProfiles();
  return failed ? 1 : 0;

  /** A graceful stop lets --cpu-prof write its profile (the cleanup's SIGKILL would not). */
  async function stopForProfiles() {
    if (process.env.BENCH_WORKER_NODE_ARGS) await fleet.stop();
    if (nodeArgs.length === 0) return;
    for (const r of replicas) r.child.kill('SIGTERM');
    await Promise.race([Promise.all(replicas.map((r) => r.child.exited)), new Promise((r) => setTimeout(r, 10_000))]);
  }
}, 8 * 60_000 + N * 60);
