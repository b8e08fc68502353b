#!/usr/bin/env node
// Bundles the agent's command line into one file (packages/agent/dist/fleetdeploy-agent.mjs), which
// the installed `fleetdeploy-agent` command runs: a host starts it for every local deployment, and
// resolving and compiling ~80 separate modules cost about 70 ms of each start. pino stays external:
// it is loaded only for --verbose and looks up its own files at run time. gRPC stays external too: only
// `run` loads it (by dynamic import), and proto-loader reads agent.proto relative to the protocol package.
import fs from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const agent = path.resolve(import.meta.dirname, '../packages/agent');
// Code splitting keeps each dynamic import() a separate file, loaded when it runs: without it,
// esbuild inlines dynamically imported modules and hoists their external imports (gRPC, x509) to the
// top of the bundle, so every `local` run would load them at start.
const dist = path.join(agent, 'dist');
for (const name of await fs.readdir(dist)) if (/^agent-chunk-.*\.mjs$/.test(name)) await fs.rm(path.join(dist, name));
await build({
  entryPoints: { 'fleetdeploy-agent': path.join(dist, 'cli.js') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'agent-chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['pino', '@grpc/grpc-js', '@grpc/proto-loader', '@fleetdeploy/protocol'],
  // Bundled CommonJS dependencies (yauzl, commander) call require for Node's built-in modules.
  banner: { js: "import { createRequire as __fdCreateRequire } from 'node:module'; const require = __fdCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
