#!/usr/bin/env node
// Bundles the agent's command line into one file (packages/agent/dist/fleetdeploy-agent.mjs), which
// the installed `fleetdeploy-agent` command runs: a host starts it for every local deployment, and
// resolving and compiling ~80 separate modules cost about 70 ms of each start. pino stays external:
// it is loaded only for --verbose and looks up its own files at run time. gRPC stays external too: only
// `run` loads it (by dynamic import), and proto-loader reads agent.proto relative to the protocol package.
// @peculiar/x509 (and its reflect-metadata polyfill) likewise load only for enrolment and renewal.
import path from 'node:path';
import { build } from 'esbuild';

const agent = path.resolve(import.meta.dirname, '../packages/agent');
await build({
  entryPoints: [path.join(agent, 'dist/cli.js')],
  outfile: path.join(agent, 'dist/fleetdeploy-agent.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['pino', '@grpc/grpc-js', '@grpc/proto-loader', '@fleetdeploy/protocol', '@peculiar/x509', 'reflect-metadata'],
  // Bundled CommonJS dependencies (yauzl, commander) call require for Node's built-in modules.
  banner: { js: "import { createRequire as __fdCreateRequire } from 'node:module'; const require = __fdCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
