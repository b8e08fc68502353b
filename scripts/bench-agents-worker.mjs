#!/usr/bin/env node
// One process running many real agent daemons (startAgentDaemon from packages/agent/dist), each with
// its own root_dir and destination sandbox, sharing one grpc runtime. For the fleet benchmarks.
//
// usage: node scripts/bench-agents-worker.mjs --count N --offset K --prefix bench- \
//          --coordinator 127.0.0.1:PORT --base-dir DIR
// Agents are named <prefix><K+1> .. <prefix><K+N>. Every 250 ms it prints
//   status ready=<daemons in state Ready> started=<0|1> drops=<Ready→other transitions seen>
// (states sampled every 50 ms). SIGTERM/SIGINT stop the daemons and exit.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadGrpcRuntime, parseAgentConfig, startAgentDaemon } from '../packages/agent/dist/index.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string' },
    offset: { type: 'string', default: '0' },
    prefix: { type: 'string', default: 'bench-' },
    coordinator: { type: 'string' },
    'base-dir': { type: 'string' },
  },
});
const count = Number(values.count);
const offset = Number(values.offset);
const baseDir = values['base-dir'];
if (!(count > 0) || !values.coordinator || !baseDir) {
  console.error('usage: bench-agents-worker.mjs --count N --offset K --coordinator host:port --base-dir DIR');
  process.exit(2);
}

const runtime = await loadGrpcRuntime();
const daemons = [];
const wasReady = [];
let started = false;
let drops = 0;

function sample() {
  let ready = 0;
  for (let i = 0; i < daemons.length; i++) {
    if (daemons[i] === undefined) continue; // still starting
    const r = daemons[i].state() === 'Ready';
    if (r) ready++;
    else if (wasReady[i]) drops++;
    wasReady[i] = r;
  }
  return ready;
}
let ready = 0;
setInterval(() => (ready = sample()), 50);
setInterval(() => process.stdout.write(`status ready=${ready} started=${started ? 1 : 0} drops=${drops}\n`), 250);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(0), 3000).unref();
  await Promise.allSettled(daemons.map((d) => d.stop()));
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

await Promise.all(
  Array.from({ length: count }, async (_, i) => {
    const name = `${values.prefix}${offset + i + 1}`;
    const home = path.join(baseDir, name);
    fs.mkdirSync(path.join(home, 'root'), { recursive: true });
    fs.mkdirSync(path.join(home, 'files'), { recursive: true });
    const config = parseAgentConfig(
      [
        `root_dir: ${path.join(home, 'root')}`,
        `log_dir: ${path.join(home, 'logs')}`,
        `coordinator: ${values.coordinator}`,
        `instance_name: ${name}`,
        `destination_root: ${path.join(home, 'files')}`,
        'script_kill_grace_seconds: 1',
        'shutdown_wait_seconds: 1',
        'plaintext: true', // loopback: a coordinator started with --plaintext-agents (ignored by agents without mTLS)
        '',
      ].join('\n'),
      `${name}.yml`,
    );
    const daemon = await startAgentDaemon({ config, runtime });
    daemons[i] = daemon;
    wasReady[i] = false;
  }),
);
started = true;
