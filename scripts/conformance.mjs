#!/usr/bin/env node
// `npm run conformance`: runs ../shared/conformance's own harness against our agent and prints
// `conformance: N/M cases match`. The cases are copied first with the modes a git checkout gives
// (files 644, scripts 755): the shared folder is laid out read-only, and the AWS agent's recorded
// outcome was made from writable files, so running on the read-only copies would compare modes
// that only differ by how the folder was distributed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const shared = process.env.FLEETDEPLOY_SHARED ?? path.resolve(repo, '../shared');
const conf = path.join(shared, 'conformance');
if (!fs.existsSync(path.join(conf, 'harness.mjs'))) {
  console.error(`No conformance harness at ${conf}; set FLEETDEPLOY_SHARED to the shared folder.`);
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-conformance-'));
const cases = path.join(work, 'cases');
fs.cpSync(path.join(conf, 'cases'), cases, { recursive: true });
execFileSync('sh', ['-c', `chmod -R u+w '${cases}' && find '${cases}' -type d -exec chmod 755 {} + && find '${cases}' -type f -perm -u+x -exec chmod 755 {} + && find '${cases}' -type f ! -perm -u+x -exec chmod 644 {} +`]);
const out = path.join(work, 'ours.json');
const cli = path.join(repo, 'packages/agent/bin/fleetdeploy-agent.js');
execFileSync(process.execPath, [path.join(conf, 'harness.mjs'), '--runner', 'ours', '--cases', cases, '--out', out], {
  stdio: 'inherit',
  env: { ...process.env, RUNNER_OURS: `node ${cli} local --bundle-location {loc} --type {type} --file-exists-behavior {feb} --deployment-group {group} --application-name {app} --deployment-group-name {groupName} --agent-configuration-file {conf}` },
});
try {
  execFileSync(process.execPath, [path.join(conf, 'compare.mjs'), path.join(conf, 'expected.json'), out], { stdio: 'inherit' });
} catch {
  process.exitCode = 1;
}
const ms = JSON.parse(fs.readFileSync(out, 'utf8'));
console.log('wall time per deployment (ms):', Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, v.ms])));
fs.rmSync(work, { recursive: true, force: true });
