// What both demos do first: say one ERROR line and exit 1 on a problem, and load the built CLI.
import fs from 'node:fs';
import path from 'node:path';

export const repo = path.resolve(import.meta.dirname, '../..');
export const cliDist = path.join(repo, 'packages/cli/dist/index.js');

/** fail prints one ERROR line and exits 1. */
export function fail(message) {
  console.error(`ERROR: ${message}`);
  process.exit(1);
}

/** loadCli imports the built fleetdeploy CLI, or fails saying how to build it. */
export async function loadCli() {
  if (!fs.existsSync(cliDist)) fail('fleetdeploy is not built yet: run `npm ci` (it builds) or `npm run build` first');
  return import(cliDist);
}
