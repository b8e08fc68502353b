#!/usr/bin/env node
// Bundles the agent's command line into one file (packages/agent/dist/fleetdeploy-agent.mjs), which
// the installed `fleetdeploy-agent` command runs: a host starts it for every local deployment, and
// resolving and compiling ~80 separate modules cost about 70 ms of each start. pino stays external:
// it is loaded only for --verbose and looks up its own files at run time (pino-pretty, only for
// --log-format pretty, likewise). gRPC stays external too: only
// `run` loads it (by dynamic import), and proto-loader reads agent.proto relative to the protocol package.
// @peculiar/x509 (and its reflect-metadata polyfill) likewise load only for enrolment and renewal,
// and prom-client only for a daemon whose configuration sets metrics_port.
import fs from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const agent = path.resolve(import.meta.dirname, '../packages/agent');
// Code splitting keeps each dynamic import() a separate file, loaded when it runs: without it,
// esbuild inlines dynamically imported modules and hoists their external imports (gRPC, x509) to the
// top of the bundle, so every `local` run would load them at start.
const dist = path.join(agent, 'dist');
const result = await build({
  metafile: true,
  entryPoints: { 'fleetdeploy-agent': path.join(dist, 'cli.js') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'agent-chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['pino', 'pino-pretty', 'prom-client', '@grpc/grpc-js', '@grpc/proto-loader', '@fleetdeploy/protocol', '@peculiar/x509', 'reflect-metadata'],
  // Bundled CommonJS dependencies (yauzl, commander) call require for Node's built-in modules.
  banner: { js: "import { createRequire as __fdCreateRequire } from 'node:module'; const require = __fdCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

// Chunks are named by content hash. Those of earlier builds are removed only once they are an hour
// old: a command started before this build may still load its chunks (they load lazily, mid-run).
const current = new Set(Object.keys(result.metafile.outputs).map((out) => path.resolve(out)));
for (const name of await fs.readdir(dist)) {
  const file = path.join(dist, name);
  if (!/^agent-chunk-.*\.mjs$/.test(name) || current.has(file)) continue;
  if (Date.now() - (await fs.stat(file)).mtimeMs > 3600_000) await fs.rm(file, { force: true });
}
