#!/usr/bin/env node
// The installed command. It exists before the build so that npm can link it at install time; the
// program itself is compiled to dist/ by `npm ci` (the root package's prepare step).
import '../dist/fleetdeploy-agent.mjs';
