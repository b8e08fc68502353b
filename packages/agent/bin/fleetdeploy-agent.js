#!/usr/bin/env -S node --max-semi-space-size=1
// A 1 MiB cap on V8's semi-spaces keeps the long-running daemon's memory flat: with the default (up to
// 16 MiB) the young generation grows step by step over hundreds of deployments (scripts/bench-soak.mjs).
// It must be given when Node starts, hence here; `node .../fleetdeploy-agent.js` runs without it.
// The installed command. It exists before the build so that npm can link it at install time; the
// program itself is compiled to dist/ by `npm ci` (the root package's prepare step).
import '../dist/fleetdeploy-agent.mjs';
