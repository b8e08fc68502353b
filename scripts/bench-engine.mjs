#!/usr/bin/env node
// The deployment engine alone, in this process, over a real SQLite store: DEPLOYMENTS AllAtOnce
// deployments of INSTANCES instances each, every command acknowledged and answered Succeeded in
// batches of 100 reports, as the agent server hands them over. Prints the engine's CPU per lifecycle
// event. `--dist DIR` times another build's packages/coordinator/dist (in a checkout or git worktree
// with its node_modules, so that its imports resolve); interleave the two by hand. A build whose
// engine runs on the asynchronous store (its steps queued, with settled()) gets asyncSqliteStore over
// the same SQLite store, as the coordinator gives it; an older one gets the synchronous store.
//
// usage: node scripts/bench-engine.mjs [--deployments 3] [--instances 1000] [--rounds 3] [--dist DIR]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import pino from 'pino';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '3' },
    instances: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    dist: { type: 'string', default: path.join(import.meta.dirname, '../packages/coordinator/dist') },
  },
});
const DEPLOYMENTS = Number(values.deployments);
const INSTANCES = Number(values.instances);
const dist = (file) => import(pathToFileURL(path.join(path.resolve(values.dist), file)).href);
const { openSqliteStore } = await dist('store/sqlite-store.js');
const { createEngine } = await dist('deployment/engine.js');
const { defaultCoordinatorConfig } = await dist('config.js');
const { systemClock } = await dist('clock.js');
const { newTarget } = await dist('deployment/instance-lifecycle.js');
const { asyncSqliteStore } = await dist('store/async-store.js');
/** Whether this build's engine takes the AsyncStore (it has settled()). */
const asyncEngine = createEngine.toString().includes('settled(');

const ok = { status: 'Succeeded', diagnostics: { errorCode: 'Success', scriptName: '', message: '', logTail: '' } };
const deployment = (id, group) => ({
  deploymentId: id, applicationName: 'app', deploymentGroupName: group, deploymentGroupId: group,
  deploymentConfigName: 'CodeDeployDefault.AllAtOnce', minimumHealthyHosts: { type: 'HOST_COUNT', value: 0 },
  revision: { revisionType: 'S3', s3Location: { bucket: 'b', key: 'k', bundleType: 'zip' } }, status: 'Created',
  createTime: Date.now(), creator: 'user', ignoreApplicationStopFailures: false, updateOutdatedInstancesOnly: false,
  fileExistsBehavior: 'DISALLOW', eventTimeouts: {}, deploymentStatusMessages: [],
});

/** round drives the deployments to their end and returns the CPU microseconds per command. */
async function round() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bench-engine-'));
  const store = openSqliteStore(dir);
  const sent = [];
  const agents = { send: (c) => (sent.push(c), true), cancel() {}, acknowledge() {} };
  const engineStore = asyncEngine ? asyncSqliteStore(store) : store;
  const engine = createEngine({ store: engineStore, blobs: undefined, clock: systemClock, config: defaultCoordinatorConfig, agents, log: pino({ level: 'silent' }) });
  for (let i = 0; i < DEPLOYMENTS * INSTANCES; i++) await engine.agentConnected(`host-${i}`, []);
  await engine.start();
  const cpu = process.cpuUsage();
  let commands = 0;
  for (let g = 0; g < DEPLOYMENTS; g++) {
    store.putGroup({ applicationName: 'app', deploymentGroupId: `g${g}`, deploymentGroupName: `g${g}`, deploymentConfigName: 'CodeDeployDefault.AllAtOnce', serviceRoleArn: 'r', onPremisesInstanceTagFilters: [], onPremisesTagSet: [], extra: {} });
    store.putDeployment(deployment(`d-${g}`, `g${g}`));
    store.addTargets(Array.from({ length: INSTANCES }, (_, i) => newTarget(`d-${g}`, `host-${g * INSTANCES + i}`, 0)));
    await engine.deploymentCreated(`d-${g}`);
  }
  while ((await engineStore.activeDeployments()).length > 0) {
    await new Promise((resolve) => setImmediate(resolve)); // the fan-out goes out a chunk per turn
    const batch = sent.splice(0, 50);
    commands += batch.length;
    // One batch at a time, as the agent server's inbox hands them over (it waits for the engine's step).
    if (batch.length > 0) await engine.agentReports(batch.flatMap((c) => [{ instanceName: c.instanceName, ack: c.commandId }, { instanceName: c.instanceName, result: { commandId: c.commandId, ...ok } }]));
  }
  await engine.settled?.();
  const used = process.cpuUsage(cpu);
  const statuses = new Set(store.listDeploymentIds({}).map((id) => store.getDeployment(id).status));
  await engine.stop();
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
  if (statuses.size !== 1 || !statuses.has('Succeeded')) throw new Error(`the deployments ended ${[...statuses].join(', ')}`);
  return { perCommand: (used.user + used.system) / commands, commands };
}

const results = [];
for (let r = 0; r < Number(values.rounds); r++) results.push(await round());
const sorted = results.map((r) => r.perCommand).sort((a, b) => a - b);
console.log(`engine: ${DEPLOYMENTS} × ${INSTANCES} AllAtOnce, ${results[0].commands} lifecycle events each round: CPU per event median ${sorted[sorted.length >> 1].toFixed(0)} µs (each round: ${results.map((r) => r.perCommand.toFixed(0)).join(', ')} µs)`);
