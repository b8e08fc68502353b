// What both demos do first: say one ERROR line and exit 1 on a problem, load the built CLI, and make their folder.
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

/** freshFolder empties (or makes) `folder` for a demo's fleet, or fails saying how to pick another. */
export function freshFolder(folder) {
  try {
    fs.rmSync(folder, { recursive: true, force: true });
    fs.mkdirSync(folder, { recursive: true });
  } catch (err) {
    fail(`cannot make a fresh ${folder}: ${err.code ?? err.message} (set TMPDIR to a folder you may write to)`);
  }
}
