#!/usr/bin/env node
// Reconnect-storm benchmark: 1,000 real agents (worker processes, as in bench-fleet) connected to a
// real coordinator; a OneAtATime deployment to a 5-instance group whose ValidateService sleeps 1 s is
// in progress when the coordinator is SIGKILLed. The coordinator is started again on the same data
// directory and ports; measured: the time until all 1,000 agents are Ready again (target < 30 s),
// and that the deployment then reaches Succeeded with every instance Succeeded (no state lost).
// Run `npm run build` first. usage: node scripts/bench-storm.mjs [--agents 1000] [--processes 10]
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import {
  clients,
  createApp,
  createGroup,
  deploy,
  explain,
  fmt,
  main,
  meets,
  procMem,
  registerInstances,
  sleep,
  startCoordinator,
  startWorkers,
  targetStatuses,
  tempDir,
  upload,
  waitFinished,
} from './lib/fleet-bench.mjs';

const { values } = parseArgs({ options: { agents: { type: 'string', default: '1000' }, processes: { type: 'string', default: '10' } } });
const N = Number(values.agents);
const PROCESSES = Number(values.processes);
const GROUP = 5;

main(async () => {
  const work = tempDir('fd-bench-storm-');
  const dataDir = path.join(work, 'data');
  let coord = await startCoordinator({ dataDir });
  let { cd, s3 } = clients(coord.apiUrl, coord.dataDir);
  const names = Array.from({ length: N }, (_, i) => `storm-${i + 1}`);
  await registerInstances(coord.apiUrl, coord.dataDir, names, (n) => [{ Key: 'env', Value: 'storm' }, ...(Number(n.slice(6)) <= GROUP ? [{ Key: 'five', Value: 'yes' }] : [])]);
  await createApp(cd, s3);
  await createGroup(cd, 'five', 'CodeDeployDefault.OneAtATime', [['five', 'yes']]);
  await upload(s3, 'slow.zip', {
    'appspec.yml': 'version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: /srv/storm\nhooks:\n  ValidateService:\n    - location: hooks/validate.sh\n      timeout: 30\n',
    'site/index.html': '<h1>storm</h1>\n',
    'hooks/validate.sh': '#!/bin/sh\nsleep 1\n',
  });

  const fleet = startWorkers({ total: N, processes: PROCESSES, prefix: 'storm-', agentAddress: coord.agentAddress, baseDir: path.join(work, 'agents') });
  const connectS = await fleet.waitFor((r) => r >= N, 120_000, `${N} agents Ready`);
  console.log(`storm: ${N} agents connected in ${fmt(connectS)} s (first connect); coordinator RSS ${fmt(procMem(coord.pid).rssMb, 0)} MB`);

  // A deployment in progress: OneAtATime over 5 instances, ~1.3 s each.
  const id = await deploy(cd, 'five', 'slow.zip');
  for (const until = Date.now() + 20_000; ; ) {
    const d = (await cd.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo;
    if (d.status === 'InProgress' && d.deploymentOverview.Succeeded >= 1) {
      console.log(`storm: killing the coordinator (SIGKILL) with deployment ${id} InProgress, overview ${JSON.stringify(d.deploymentOverview)}`);
      break;
    }
    if (Date.now() > until || ['Succeeded', 'Failed', 'Stopped'].includes(d.status)) throw new Error(`deployment ${id} is ${d.status} before the kill: ${JSON.stringify(d.deploymentOverview)}`);
    await sleep(50);
  }
  const apiPort = Number(new URL(coord.apiUrl).port);
  const agentPort = Number(coord.agentAddress.split(':').at(-1));
  const tKill = Date.now();
  process.kill(coord.pid, 'SIGKILL');
  await coord.child.exited;
  const dropS = await fleet.waitFor((r) => r === 0, 30_000, 'every agent to notice the coordinator is gone');
  console.log(`storm: all ${N} agents left Ready ${fmt(dropS, 2)} s after the kill`);

  const tStart = Date.now();
  coord = await startCoordinator({ dataDir, apiPort, agentPort });
  ({ cd, s3 } = clients(coord.apiUrl, coord.dataDir));
  const tListening = Date.now();
  const reconnectS = await fleet.waitFor((r) => r >= N, 120_000, `${N} agents Ready again`);
  const fromListening = (Date.now() - tListening) / 1000;
  const fromKill = (Date.now() - tKill) / 1000;
  console.log(
    `storm: ${N} agents Ready again ${fmt(fromListening)} s after the restarted coordinator listened (target < 30 s: ${meets(fromListening < 30)}); ${fmt(fromKill)} s after the SIGKILL; restart to listening ${fmt((tListening - tStart) / 1000, 2)} s; coordinator RSS ${fmt(procMem(coord.pid).rssMb, 0)} MB`,
  );
  void reconnectS;

  const info = await waitFinished(cd, id, 60_000, 100);
  const targets = await targetStatuses(cd, id);
  const ok = Object.values(targets).filter((t) => t.status === 'Succeeded').length;
  const lost = info.status !== 'Succeeded' || ok !== GROUP || Object.keys(targets).length !== GROUP;
  if (lost) await explain(cd, info);
  console.log(`storm: deployment ${id} after the restart: ${info.status}, ${ok}/${GROUP} instances Succeeded (${lost ? 'STATE LOST' : 'no state lost'}), ${fmt((Date.now() - tKill) / 1000)} s after the kill`);
  return lost ? 1 : 0;
}, 8 * 60_000);
